"""The scan ahead of every JSON parser (``kizuna.core.jsonguard``) against a plain reference: for random JSON texts
cut into random chunks, the guarded bytes are the input itself when no limit is broken, the depth and object count
are exact, strings longer than the limit (escapes included) and only those become the marker, and a text one level
too deep is refused."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.jsonguard import TOO_LONG, GuardedReader, JsonGuard, JsonLimitError, guard_bytes, holds_too_long

tricky = st.text(alphabet=st.sampled_from(['"', "\\", "[", "]", "{", "}", "a", "é", "\x00", "\n", "/"]), max_size=12)
values = st.recursive(st.none() | st.booleans() | st.integers() | tricky,
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky, inner, max_size=4),
                      max_leaves=30)


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


def third_level(value: Any) -> int:
    """Containers opened at depth 3, as the guard counts them."""
    count = 0
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for child in children:
        grand = child.values() if isinstance(child, dict) else child if isinstance(child, list) else []
        count += sum(1 for g in grand if isinstance(g, (dict, list)))
    return count


def read_in_chunks(data: bytes, guard: JsonGuard, sizes: list[int]) -> bytes:
    reader = GuardedReader(io.BytesIO(data), guard)
    out, i = [], 0
    while True:
        part = reader.read(sizes[i % len(sizes)] if sizes else 65536)
        i += 1
        if not part:
            return b"".join(out)
        out.append(part)


@settings(max_examples=300, deadline=None)
@given(value=values, sizes=st.lists(st.integers(1, 40), max_size=5), pretty=st.booleans())
def test_within_limits_the_bytes_pass_unchanged_and_depth_and_count_are_exact(value: Any, sizes: list[int],
                                                                              pretty: bool) -> None:
    data = json.dumps(value, indent=1 if pretty else None, ensure_ascii=False).encode()
    guard = JsonGuard(max_depth=depth_of(value), max_string=len(data) + 10)
    assert read_in_chunks(data, guard, sizes) == data
    assert guard.depth == 0 and guard.too_long == 0
    assert guard.items == third_level(value)
    if depth_of(value) > 0:
        try:
            guard_bytes(data, JsonGuard(max_depth=depth_of(value) - 1))
            raise AssertionError("one level too deep was not refused")
        except JsonLimitError as exc:
            assert exc.kind == "depth" and exc.status == 400


@settings(max_examples=300, deadline=None)
@given(value=values, limit=st.integers(0, 12), sizes=st.lists(st.integers(1, 40), max_size=5))
def test_exactly_the_strings_over_the_limit_become_the_marker(value: Any, limit: int, sizes: list[int]) -> None:
    data = json.dumps(value, ensure_ascii=False).encode()
    guard = JsonGuard(max_depth=1000, max_string=limit)
    out = json.loads(read_in_chunks(data, guard, sizes))

    def expected(v: Any) -> Any:
        if isinstance(v, str):
            return TOO_LONG if len(json.dumps(v, ensure_ascii=False).encode()) - 2 > limit else v
        if isinstance(v, list):
            return [expected(x) for x in v]
        if isinstance(v, dict):
            return {expected(k): expected(x) for k, x in v.items()}
        return v

    assert out == expected(value)
    assert holds_too_long(out) == (guard.too_long > 0)
