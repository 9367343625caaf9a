"""The canonical form is RFC 8785's: vectors written out by hand from the RFC (section 3.2.2 and 3.2.3 examples,
Appendix B number serialisations) and the string-escaping rules of section 3.2.2.2."""

from __future__ import annotations

import struct

import pytest

from kizuna.federation.signing import SigningError, canonical


def double(bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(bits))[0]


def test_rfc8785_section_3_2_2_example() -> None:
    # {"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    #  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}
    obj = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\nA'B\"\\\\\"/",
        "literals": [None, True, False],
    }
    expected = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}').encode()
    assert canonical(obj) == expected


def test_rfc8785_section_3_2_3_property_sorting_by_utf16_code_units() -> None:
    obj = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    # The emoji (UTF-16 D83D DE00) sorts before U+FB33, although its code point is higher.
    expected = ('{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",'
                '"€":"Euro Sign","\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}')
    assert canonical(obj) == expected.encode("utf-8")


@pytest.mark.parametrize(("bits", "text"), [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),  # minus zero
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
])
def test_rfc8785_appendix_b_number_serialisation(bits: str, text: str) -> None:
    assert canonical({"n": double(bits)}) == b'{"n":' + text.encode() + b"}"


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinity_cannot_be_canonicalised(bits: str) -> None:
    with pytest.raises(SigningError):
        canonical({"n": double(bits)})


def test_string_escapes_are_the_short_forms_and_lowercase_hex_and_nothing_else() -> None:
    value = "\b\t\n\f\r\u0000\u001f\"\\/é<>&\u2028"
    expected = '{"s":"\\b\\t\\n\\f\\r\\u0000\\u001f\\"\\\\/é<>&\u2028"}'
    assert canonical({"s": value}) == expected.encode("utf-8")


def test_integers_and_their_float_spelling_are_one_canonical_number() -> None:
    assert canonical({"a": 1, "b": 1.0, "c": 10.0e1}) == b'{"a":1,"b":1,"c":100}'


def test_no_whitespace_and_nested_objects_sorted() -> None:
    assert canonical({"b": [{"z": 1, "a": {"y": 2, "x": 3}}], "a": None}) == b'{"a":null,"b":[{"a":{"x":3,"y":2},"z":1}]}'
