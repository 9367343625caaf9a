"""Property tests of the pattern fast path: it never accepts a pattern the OASIS validator (STIX 2.1 patterning
grammar) rejects, and it does recognise the common simple patterns (so the property is not vacuously true)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.threats.validate import full_pattern_errors, simple_pattern, validate_object

KNOWN_PATHS = [
    "ipv4-addr:value", "ipv6-addr:value", "domain-name:value", "url:value", "email-addr:value",
    "file:hashes.'SHA-256'", "file:hashes.'SHA-1'", "file:hashes.MD5", "file:hashes.'MD5'", "file:hashes.md5",
    "file:hashes.SHA256", "file:hashes.'SHA256'", "file:hashes.SHA1", "file:hashes.'SHA1'",
]
NEAR_PATHS = ["file:hashes.'SHA-512'", "file:name", "ipv4-addr:values", "ipv4-addr: value", "IPV4-addr:value",
              "file:hashes.sha-256", "url:value[0]", "x-custom:value", "file:hashes.'MD5"]
HEX = "0123456789abcdefABCDEF"


def hash_for(path: str) -> st.SearchStrategy[str]:
    size = 32 if "MD5" in path.upper() else 40 if "SHA1" in path.upper().replace("-", "") else 64
    return st.one_of(st.text(HEX, min_size=size, max_size=size), st.text(HEX + "g'\\ \n", max_size=70))


# Values: printable text with the characters that matter to the lexer (quotes, backslashes), plus any unicode.
values = st.one_of(
    st.lists(st.sampled_from([*list("ab.1:/@-' \\\"]"), "\\'", "\\\\"]), max_size=12).map("".join),
    st.text(max_size=8),
)


@st.composite
def comparison(draw: st.DrawFn) -> str:
    path = draw(st.sampled_from(KNOWN_PATHS + NEAR_PATHS))
    op = draw(st.sampled_from([" = ", "=", " =", "= ", " != ", " == ", "  =  ", " LIKE ", " MATCHES "]))
    if "hashes" in path and draw(st.booleans()):
        value = draw(hash_for(path))
    else:
        value = draw(values)
    quote = draw(st.sampled_from(["'", "'", "'", '"', ""]))
    return f"{path}{op}{quote}{value}{quote}"


@st.composite
def pattern(draw: st.DrawFn) -> str:
    parts = draw(st.lists(comparison(), min_size=1, max_size=3))
    joins = [draw(st.sampled_from([" AND ", " OR ", " and ", "  OR ", " FOLLOWEDBY ", "AND"])) for _ in parts[1:]]
    body = parts[0] + "".join(j + p for j, p in zip(joins, parts[1:], strict=True))
    left = draw(st.sampled_from(["[", "[ ", "[  ", "", "(["]))
    right = draw(st.sampled_from(["]", " ]", "  ]", "", "])", "] WITHIN 5 SECONDS"]))
    return f"{left}{body}{right}"


@st.composite
def simple(draw: st.DrawFn) -> str:
    """Patterns of the form the fast path is for: it must recognise them."""
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(KNOWN_PATHS))
        if "hashes" in path:
            size = 32 if "MD5" in path.upper() else 40 if "SHA1" in path.upper().replace("-", "") else 64
            value = draw(st.text("0123456789abcdef", min_size=size, max_size=size))
        else:
            value = draw(st.text(st.sampled_from(list("abc.1:/@- ")), min_size=1, max_size=20))
        parts.append(f"{path} = '{value}'")
    return "[" + draw(st.sampled_from([" AND ", " OR "])).join(parts) + "]"


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern())
def test_fast_path_never_accepts_what_the_full_validator_rejects(p: str) -> None:
    if simple_pattern(p) is not None:
        assert full_pattern_errors(p) == [], p


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_fast_path_never_accepts_random_text_the_full_validator_rejects(p: str) -> None:
    if simple_pattern(p) is not None:
        assert full_pattern_errors(p) == [], p


@settings(max_examples=300, deadline=None)
@given(simple())
def test_fast_path_recognises_simple_patterns(p: str) -> None:
    assert simple_pattern(p) is not None
    assert full_pattern_errors(p) == []


@settings(max_examples=300, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
))
def test_validation_never_raises_on_any_json_value(value: object) -> None:
    reason = validate_object(value)
    assert reason is None or isinstance(reason, str)
