"""Unit tests for the OpenMath object codec (XML) and the Python value conversions."""

from __future__ import annotations

import math
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

import scscp.openmath as om
from scscp.openmath import (
    OMAny,
    OMApplication,
    OMAttribution,
    OMBinding,
    OMBytes,
    OMError,
    OMFloat,
    OMInteger,
    OMReference,
    OMString,
    OMSymbol,
    OMVariable,
    OpenMathError,
    decode,
    encode,
    from_python,
    to_python,
)
from scscp.openmath.convert import FALSE, LIST, RATIONAL, TRUE

HEADER = b'<OMOBJ xmlns="http://www.openmath.org/OpenMath" version="2.0">'
CALL_ID = OMSymbol("scscp1", "call_id")
PLUS = OMSymbol("arith1", "plus")

# The reply GAP's SCSCP package really sends, pretty-printed with tabs and newlines.
GAP_REPLY = (
    b'<OMOBJ xmlns="http://www.openmath.org/OpenMath" version="2.0">\n\t<OMATTR>\n\t\t<OMATP>\n'
    b'\t\t\t<OMS cd="scscp1" name="call_id"/>\n\t\t\t<OMSTR>abc</OMSTR>\n\t\t</OMATP>\n'
    b'\t\t<OMA>\n\t\t\t<OMS cd="scscp1" name="procedure_completed"/>\n'
    b"\t\t\t<OMI>49487367289</OMI>\n\t\t</OMA>\n\t</OMATTR>\n</OMOBJ>\n"
)


def obj(inner: str) -> bytes:
    """A namespaced OMOBJ document around ``inner``."""
    return HEADER + inner.encode() + b"</OMOBJ>"


def nested(depth: int) -> OMAny:
    """``depth`` applications of arith1.plus nested in their first argument."""
    result: OMAny = OMInteger(1)
    for _ in range(depth):
        result = OMApplication(PLUS, (result, OMVariable("x")))
    return result


# --------------------------------------------------------------------------- round trips

ROUND_TRIP = [
    OMInteger(0),
    OMInteger(42),
    OMInteger(-7),
    OMInteger(2**200),
    OMInteger(-(10**5000)),  # beyond Python's default int/str digit limit
    OMFloat(1.5),
    OMFloat(-0.0),
    OMFloat(1e300),
    OMFloat(5e-324),
    OMFloat(0.1),
    OMFloat(math.inf),
    OMFloat(-math.inf),
    OMString(""),
    OMString("plain"),
    OMString("a < b && c > \"d\" 'e' ]]>"),
    OMString("line\nbreak\ttab\r\nCRLF\rCR"),
    OMString("unicode é ∑ 😀"),
    OMBytes(b""),
    OMBytes(bytes(range(256))),
    OMSymbol("arith1", "plus"),
    OMSymbol("arith1", "plus", cdbase="http://www.openmath.org/cd"),
    OMVariable("x"),
    OMVariable('odd "name" & <more>\t\n'),
    OMReference("scscp://host:26133/TEMPVarSCSCP1"),
    OMApplication(PLUS),
    OMApplication(PLUS, (OMInteger(1), OMVariable("x"))),
    OMApplication(LIST, (OMApplication(LIST, ()), OMString("x"), OMFloat(2.0))),
    OMAttribution(((CALL_ID, OMString("abc")),), OMInteger(1)),
    OMAttribution(
        ((CALL_ID, OMString("id")), (OMSymbol("scscp1", "option_return_object"), OMString(""))),
        OMApplication(OMSymbol("scscp1", "procedure_call"), (OMApplication(PLUS),)),
    ),
    OMBinding(OMSymbol("fns1", "lambda"), (OMVariable("x"), OMVariable("y")), OMVariable("x")),
    OMBinding(OMSymbol("quant1", "forall"), (), OMSymbol("logic1", "true")),
    OMError(OMSymbol("scscp1", "error_system_specific"), (OMString("it broke"),)),
    OMError(OMSymbol("moreerrors", "unexpected")),
    nested(50),
]


@pytest.mark.parametrize("value", ROUND_TRIP, ids=lambda v: type(v).__name__)
def test_round_trip(value: OMAny) -> None:
    data = encode(value)
    assert data.startswith(HEADER)
    assert data.endswith(b"</OMOBJ>")
    assert decode(data) == value


@pytest.mark.parametrize("value", ROUND_TRIP, ids=lambda v: type(v).__name__)
def test_encoding_has_no_newlines_outside_strings(value: OMAny) -> None:
    if isinstance(value, OMString):
        value = OMString(value.value.replace("\n", ""))
    assert b"\n" not in encode(value)


def test_round_trip_keeps_cdbase() -> None:
    symbol = OMSymbol("arith1", "plus", cdbase="http://example.org/cd")
    decoded = decode(encode(symbol))
    assert isinstance(decoded, OMSymbol)
    assert decoded.cdbase == "http://example.org/cd"  # cdbase is not part of ==


def test_nan_round_trip() -> None:
    data = encode(OMFloat(math.nan))
    assert b'dec="NaN"' in data
    decoded = decode(data)
    assert isinstance(decoded, OMFloat)
    assert math.isnan(decoded.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (OMInteger(-12), b"<OMI>-12</OMI>"),
        (OMFloat(math.inf), b'<OMF dec="INF"/>'),
        (OMFloat(-math.inf), b'<OMF dec="-INF"/>'),
        (OMFloat(0.5), b'<OMF dec="0.5"/>'),
        (OMString(""), b"<OMSTR/>"),
        (OMString("a&b<c>"), b"<OMSTR>a&amp;b&lt;c&gt;</OMSTR>"),
        (OMBytes(b"hi!"), b"<OMB>aGkh</OMB>"),
        (OMSymbol("a", "b", "u"), b'<OMS cdbase="u" cd="a" name="b"/>'),
        (OMVariable('q"'), b'<OMV name="q&quot;"/>'),
        (OMReference("#x"), b'<OMR href="#x"/>'),
        (
            OMApplication(PLUS, (OMInteger(1),)),
            b'<OMA><OMS cd="arith1" name="plus"/><OMI>1</OMI></OMA>',
        ),
        (
            OMAttribution(((CALL_ID, OMString("c")),), OMInteger(2)),
            b'<OMATTR><OMATP><OMS cd="scscp1" name="call_id"/><OMSTR>c</OMSTR></OMATP>'
            b"<OMI>2</OMI></OMATTR>",
        ),
        (
            OMBinding(OMSymbol("fns1", "lambda"), (OMVariable("x"),), OMVariable("x")),
            b'<OMBIND><OMS cd="fns1" name="lambda"/><OMBVAR><OMV name="x"/></OMBVAR>'
            b'<OMV name="x"/></OMBIND>',
        ),
        (
            OMError(OMSymbol("e", "f"), (OMString("m"),)),
            b'<OME><OMS cd="e" name="f"/><OMSTR>m</OMSTR></OME>',
        ),
    ],
)
def test_encode_exact(value: OMAny, expected: bytes) -> None:
    assert encode(value) == HEADER + expected + b"</OMOBJ>"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (OMString("bell \x07"), r"U\+0007"),
        (OMString("nul \x00"), r"U\+0000"),
        (OMVariable("x\x1b"), r"U\+001B"),
        (OMString("\ud800"), r"U\+D800"),
        (OMAttribution((), OMInteger(1)), "at least one attribute pair"),
        (OMInteger("12"), "not an int"),  # type: ignore[arg-type]
        (OMApplication(PLUS, (42,)), "cannot encode int"),  # type: ignore[arg-type]
    ],
)
def test_encode_rejects(value: OMAny, message: str) -> None:
    with pytest.raises(OpenMathError, match=message):
        encode(value)


def test_encode_rejects_non_openmath() -> None:
    with pytest.raises(OpenMathError, match="cannot encode list"):
        encode([1, 2])  # type: ignore[arg-type]


def test_encode_too_deep_is_an_openmath_error() -> None:
    with pytest.raises(OpenMathError, match="nested too deeply"):
        encode(nested(sys.getrecursionlimit() + 10))


# --------------------------------------------------------------------------- decoding


def test_decode_gap_reply() -> None:
    result = decode(GAP_REPLY)
    assert result == OMAttribution(
        ((CALL_ID, OMString("abc")),),
        OMApplication(OMSymbol("scscp1", "procedure_completed"), (OMInteger(49487367289),)),
    )
    assert isinstance(result, OMAttribution)
    assert result.get("scscp1", "call_id") == OMString("abc")


@pytest.mark.parametrize(
    "data",
    [
        b"<OMOBJ><OMI>5</OMI></OMOBJ>",
        b'<OMOBJ version="2.0"><OMI>5</OMI></OMOBJ>',
        b'<OMOBJ xmlns="http://www.openmath.org/OpenMath"><OMI>5</OMI></OMOBJ>',
        b'<om:OMOBJ xmlns:om="http://www.openmath.org/OpenMath"><om:OMI>5</om:OMI></om:OMOBJ>',
        b'<?xml version="1.0" encoding="UTF-8"?>\n<OMOBJ><OMI>5</OMI></OMOBJ>',
        b' \n\t<?xml version="1.0"?><OMOBJ>\n <OMI>5</OMI>\n</OMOBJ>\n',
        b"<OMOBJ><!-- a comment --><?pi stuff?><OMI>5</OMI><!-- more --></OMOBJ>",
        '<?xml version="1.0" encoding="UTF-16"?><OMOBJ><OMI>5</OMI></OMOBJ>'.encode("utf-16"),
    ],
)
def test_decode_document_variants(data: bytes) -> None:
    assert decode(data) == OMInteger(5)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("-17", -17),
        (" \n 123\t", 123),
        ("+8", 8),
        ("1024", 1024),  # around the decoder's shared small-integer cache
        ("1025", 1025),
        ("-1025", -1025),
        ("x1F", 31),
        ("-x1F", -31),
        ("xff", 255),
        ("  x1F  ", 31),
        ("\n-xABCDEF0123456789ABCDEF\n", -0xABCDEF0123456789ABCDEF),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("7" * 10000, 7 * (10**10000 - 1) // 9),  # 10000 sevens: beyond the digit limit
        ("-" + "9" * 6000, -(10**6000 - 1)),
    ],
    # Default ids would str() the huge ints, which Python refuses beyond 4300 digits.
    ids=lambda v: repr(v.strip()[:16]) if isinstance(v, str) else "",
)
def test_decode_integers(text: str, value: int) -> None:
    assert decode(obj(f"<OMI>{text}</OMI>")) == OMInteger(value)


@pytest.mark.parametrize("text", ["abc", "", "1.5", "1_000", "x", "-", "0x1F", "x1G", "1 2", "٣"])
def test_decode_bad_integers(text: str) -> None:
    with pytest.raises(OpenMathError, match="OMI"):
        decode(obj(f"<OMI>{text}</OMI>"))


def test_decode_bad_integer_message() -> None:
    with pytest.raises(OpenMathError, match="OMI content 'abc' is not an integer"):
        decode(obj("<OMI>abc</OMI>"))


@pytest.mark.parametrize(
    ("attrs", "value"),
    [
        ('dec="1.5"', 1.5),
        ('dec="-2e10"', -2e10),
        ('dec=" 3 "', 3.0),
        ('dec=".5E-3"', 0.0005),
        ('dec="INF"', math.inf),
        ('dec="-INF"', -math.inf),
        ('hex="3FF0000000000000"', 1.0),
        ('hex="c000000000000000"', -2.0),
        ('hex="7FF0000000000000"', math.inf),
        ('hex="FFF0000000000000"', -math.inf),
        ('hex="0000000000000001"', 5e-324),
    ],
)
def test_decode_floats(attrs: str, value: float) -> None:
    assert decode(obj(f"<OMF {attrs}/>")) == OMFloat(value)


@pytest.mark.parametrize("attrs", ['dec="NaN"', 'hex="7FF8000000000000"'])
def test_decode_nan(attrs: str) -> None:
    result = decode(obj(f"<OMF {attrs}/>"))
    assert isinstance(result, OMFloat)
    assert math.isnan(result.value)


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ("", "dec or hex"),
        ('dec="abc"', "not a floating-point number"),
        ('dec="1_0"', "not a floating-point number"),
        ('dec="infinity"', "not a floating-point number"),
        ('hex="3FF00000"', "16 hexadecimal digits"),
        ('hex="3FF000000000000G"', "16 hexadecimal digits"),
        ('dec="1" hex="3FF0000000000000"', "both"),
    ],
)
def test_decode_bad_floats(attrs: str, message: str) -> None:
    with pytest.raises(OpenMathError, match=message):
        decode(obj(f"<OMF {attrs}/>"))


@pytest.mark.parametrize(
    ("inner", "value"),
    [
        ("<OMSTR/>", ""),
        ("<OMSTR></OMSTR>", ""),
        ("<OMSTR>  </OMSTR>", "  "),
        ("<OMSTR>a&amp;b&lt;&#x41;&#13;</OMSTR>", "a&b<A\r"),
        ("<OMSTR><![CDATA[<raw> & ]]></OMSTR>", "<raw> & "),
        ("<OMSTR>a<!-- gone -->b</OMSTR>", "ab"),
    ],
)
def test_decode_strings(inner: str, value: str) -> None:
    assert decode(obj(inner)) == OMString(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [("", b""), ("aGkh", b"hi!"), ("\n  aG\tkh\n", b"hi!"), ("AAEC/w==", b"\x00\x01\x02\xff")],
)
def test_decode_bytes(text: str, value: bytes) -> None:
    assert decode(obj(f"<OMB>{text}</OMB>")) == OMBytes(value)


def test_decode_cdbase_is_inherited() -> None:
    result = decode(
        b'<OMOBJ cdbase="http://a"><OMA><OMS cd="x" name="f"/>'
        b'<OMA cdbase="http://b"><OMS cd="x" name="g"/><OMS cd="x" name="h" cdbase="http://c"/>'
        b"</OMA></OMA></OMOBJ>"
    )
    assert isinstance(result, OMApplication)
    inner = result.args[0]
    assert isinstance(inner, OMApplication)
    symbols = [result.head, inner.head, inner.args[0]]
    assert [s.cdbase for s in symbols if isinstance(s, OMSymbol)] == [
        "http://a",
        "http://b",
        "http://c",
    ]


def test_decode_without_cdbase_gives_none() -> None:
    result = decode(obj('<OMS cd="arith1" name="plus"/>'))
    assert isinstance(result, OMSymbol)
    assert result.cdbase is None


def test_decode_resolves_internal_references() -> None:
    result = decode(
        obj(
            '<OMA><OMS cd="list1" name="list"/>'
            '<OMA id="big"><OMS cd="arith1" name="plus"/><OMI>1</OMI><OMI>2</OMI></OMA>'
            '<OMR href="#big"/><OMR href="#big"/><OMR href="#elsewhere"/></OMA>'
        )
    )
    shared = OMApplication(PLUS, (OMInteger(1), OMInteger(2)))
    assert result == OMApplication(LIST, (shared, shared, shared, OMReference("#elsewhere")))
    assert isinstance(result, OMApplication)
    assert result.args[0] is result.args[1] is result.args[2]


def test_decode_resolves_forward_references() -> None:
    result = decode(
        obj('<OMA><OMS cd="list1" name="list"/><OMR href="#v"/><OMV id="v" name="x"/></OMA>')
    )
    assert result == OMApplication(LIST, (OMVariable("x"), OMVariable("x")))


def test_decode_external_reference_stays_a_reference() -> None:
    href = "scscp://localhost:26133/TEMPVarSCSCP7"
    assert decode(obj(f'<OMR href="{href}"/>')) == OMReference(href)


def test_call_id_is_not_mistaken_for_an_id() -> None:
    # "call_id" contains "id": the document must still decode (and quickly, on the fast path).
    assert decode(GAP_REPLY) == decode(GAP_REPLY.replace(b"\n", b"").replace(b"\t", b""))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "malformed XML"),
        (b"garbage", "malformed XML"),
        (b"\x00\xff\xfe", "malformed XML"),
        (b"<OMOBJ><OMI>1</OMI>", "malformed XML"),
        (b"<OMOBJ><OMI>1</OMJ></OMOBJ>", "malformed XML"),
        (b"<OMOBJ><OMSTR>&nbsp;</OMSTR></OMOBJ>", "malformed XML"),
        (b"<OMOBJ></OMOBJ>", "exactly one object"),
        (b"<OMOBJ><OMI>1</OMI><OMI>2</OMI></OMOBJ>", "exactly one object"),
        (b"<OMOBJ>junk<OMI>1</OMI></OMOBJ>", "unexpected text 'junk'"),
        (b"<OMI>1</OMI>", "expected <OMOBJ>"),
        (b"<html><body/></html>", "expected <OMOBJ>"),
        (b"<OMOBJ><OMFOO/></OMOBJ>", "unknown element <OMFOO>"),
        (b"<OMOBJ><OMA><OMS cd='a' name='b'/><blink/></OMA></OMOBJ>", "unknown element <blink>"),
        (b'<OMOBJ><x:OMI xmlns:x="urn:other">1</x:OMI></OMOBJ>', "namespace urn:other"),
        (b"<OMOBJ><OMFOREIGN>x</OMFOREIGN></OMOBJ>", "unknown element <OMFOREIGN>"),
        (b"<OMOBJ><OMATP/></OMOBJ>", "only allowed inside"),
        (b"<OMOBJ><OMI>1<OMI>2</OMI></OMI></OMOBJ>", "must not contain elements"),
        (b"<OMOBJ><OMS name='plus'/></OMOBJ>", "cd and name"),
        (b"<OMOBJ><OMV/></OMOBJ>", "OMV needs a name"),
        (b"<OMOBJ><OMR/></OMOBJ>", "OMR needs an href"),
        (b"<OMOBJ><OMA/></OMOBJ>", "OMA needs at least a head"),
        (b"<OMOBJ><OMA>2<OMS cd='a' name='b'/></OMA></OMOBJ>", "unexpected text '2'"),
        (b"<OMOBJ><OMA><OMS cd='a' name='b'/>2</OMA></OMOBJ>", "unexpected text '2'"),
        (b"<OMOBJ><OMB>!!!</OMB></OMOBJ>", "base64"),
        (b"<OMOBJ><OMB>aGk</OMB></OMOBJ>", "base64"),
        (b"<OMOBJ><OMATTR><OMI>1</OMI></OMATTR></OMOBJ>", "one OMATP"),
        (
            b"<OMOBJ><OMATTR><OMATP><OMS cd='a' name='b'/></OMATP><OMI>1</OMI></OMATTR></OMOBJ>",
            "pairs",
        ),
        (
            b"<OMOBJ><OMATTR><OMATP><OMI>1</OMI><OMI>1</OMI></OMATP><OMI>1</OMI></OMATTR></OMOBJ>",
            "attribute key must be an OMS",
        ),
        (b"<OMOBJ><OME/></OMOBJ>", "OME needs an error symbol"),
        (b"<OMOBJ><OME><OMI>1</OMI></OME></OMOBJ>", "must be an OMS"),
        (b"<OMOBJ><OMBIND><OMS cd='a' name='b'/><OMV name='x'/></OMBIND></OMOBJ>", "OMBVAR"),
        (
            b"<OMOBJ><OMBIND><OMS cd='a' name='b'/><OMBVAR><OMI>1</OMI></OMBVAR>"
            b"<OMV name='x'/></OMBIND></OMOBJ>",
            "OMBVAR may only hold OMV",
        ),
        (
            b"<OMOBJ><OMA id='a'><OMS cd='a' name='b'/><OMR href='#a'/></OMA></OMOBJ>",
            "cyclic reference",
        ),
        (
            b"<OMOBJ><OMA><OMV id='a' name='x'/><OMV id='a' name='y'/></OMA></OMOBJ>",
            "duplicate id",
        ),
    ],
)
def test_decode_rejects_malformed(data: bytes, message: str) -> None:
    with pytest.raises(OpenMathError, match=message):
        decode(data)


def test_decode_needs_bytes() -> None:
    with pytest.raises(TypeError, match="bytes"):
        decode("<OMOBJ><OMI>1</OMI></OMOBJ>")  # type: ignore[arg-type]


def test_openmath_error_is_a_value_error() -> None:
    assert issubclass(OpenMathError, ValueError)


def test_max_size_is_enforced() -> None:
    data = obj("<OMSTR>" + "x" * 1000 + "</OMSTR>")
    assert decode(data, max_size=len(data)) == OMString("x" * 1000)
    with pytest.raises(OpenMathError, match="max_size"):
        decode(data, max_size=len(data) - 1)


def test_max_size_is_checked_before_parsing() -> None:
    # Not even well-formed: only the size check can produce this message.
    with pytest.raises(OpenMathError, match="exceeds max_size"):
        decode(b"<" * 2000, max_size=1000)


def test_deep_nesting_round_trips_below_the_parser_limit() -> None:
    value = nested(120)
    assert decode(encode(value)) == value


def test_depth_beyond_parser_limit_is_an_openmath_error() -> None:
    with pytest.raises(OpenMathError):
        decode(encode(nested(400)))


# --------------------------------------------------------------------------- hostile XML

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE OMOBJ [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>\n<OMOBJ><OMSTR>&lol9;</OMSTR></OMOBJ>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE OMOBJ [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    b"<OMOBJ><OMSTR>&x;</OMSTR></OMOBJ>"
)


def as_utf16(data: bytes) -> bytes:
    """The same document declared and encoded as UTF-16, which hides it from byte scans."""
    return (
        data.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>')
        .decode()
        .encode("utf-16")
    )


DOCTYPE_REFUSED = "DOCTYPE declarations are not allowed"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(BILLION_LAUGHS, DOCTYPE_REFUSED, id="billion-laughs"),
        pytest.param(EXTERNAL_ENTITY, DOCTYPE_REFUSED, id="xxe"),
        # libxml2 itself stops the UTF-16 bomb while reading the DTD, before our check runs.
        pytest.param(
            as_utf16(BILLION_LAUGHS),
            f"{DOCTYPE_REFUSED}|amplification",
            id="billion-laughs-utf16",
        ),
        pytest.param(as_utf16(EXTERNAL_ENTITY), DOCTYPE_REFUSED, id="xxe-utf16"),
        # A DOCTYPE after a comment that mentions <OMOBJ> gets past the cheap pre-scan.
        pytest.param(
            b"<!-- <OMOBJ> -->" + EXTERNAL_ENTITY.split(b"\n", 1)[1],
            DOCTYPE_REFUSED,
            id="late-doctype",
        ),
        pytest.param(
            b'<!DOCTYPE OMOBJ SYSTEM "http://127.0.0.1:9/evil.dtd"><OMOBJ><OMI>1</OMI></OMOBJ>',
            DOCTYPE_REFUSED,
            id="external-dtd",
        ),
        pytest.param(
            b"<!DOCTYPE OMOBJ><OMOBJ><OMI>1</OMI></OMOBJ>", DOCTYPE_REFUSED, id="harmless-doctype"
        ),
    ],
)
def test_doctype_is_rejected_without_expansion(data: bytes, message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(OpenMathError, match=message) as info:
        decode(data)
    assert time.perf_counter() - start < 1.0
    assert "lollol" not in str(info.value)
    assert "root:" not in str(info.value)


def test_external_dtd_is_never_loaded(tmp_path: Path) -> None:
    # If the parser loaded this DTD it would fail on its content (or our resolver would
    # refuse it); either way the message would not be the DOCTYPE refusal.
    dtd = tmp_path / "evil.dtd"
    dtd.write_text("this is not a DTD")
    data = (
        b"<!-- <OMOBJ> -->"
        + f'<!DOCTYPE OMOBJ SYSTEM "{dtd.as_uri()}">'.encode()
        + b"<OMOBJ><OMSTR>a</OMSTR></OMOBJ>"
    )
    with pytest.raises(OpenMathError, match=DOCTYPE_REFUSED):
        decode(data)


def test_doctype_inside_cdata_is_just_text() -> None:
    data = obj("<OMSTR><![CDATA[<!DOCTYPE x>]]></OMSTR>")
    assert decode(data) == OMString("<!DOCTYPE x>")


# --------------------------------------------------------------------------- Python values


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, TRUE),
        (False, FALSE),
        (1, OMInteger(1)),
        (0, OMInteger(0)),
        (-(2**100), OMInteger(-(2**100))),
        (2.5, OMFloat(2.5)),
        ("text", OMString("text")),
        (b"\x00\x01", OMBytes(b"\x00\x01")),
        (bytearray(b"ab"), OMBytes(b"ab")),
        (Fraction(3, 4), OMApplication(RATIONAL, (OMInteger(3), OMInteger(4)))),
        (Fraction(-6, 3), OMApplication(RATIONAL, (OMInteger(-2), OMInteger(1)))),
        ([], OMApplication(LIST, ())),
        ([1, True], OMApplication(LIST, (OMInteger(1), TRUE))),
        (
            (1, [2.0, "x"]),
            OMApplication(LIST, (OMInteger(1), OMApplication(LIST, (OMFloat(2.0), OMString("x"))))),
        ),
        (OMVariable("x"), OMVariable("x")),
        ([OMVariable("y")], OMApplication(LIST, (OMVariable("y"),))),
    ],
)
def test_from_python(value: object, expected: OMAny) -> None:
    result = from_python(value)
    assert result == expected
    assert type(result) is type(expected)


def test_bool_is_not_an_integer() -> None:
    assert from_python(True) != OMInteger(1)
    assert from_python(1) != TRUE
    assert to_python(decode(encode(from_python([True, 1, False, 0])))) == [True, 1, False, 0]
    assert [type(x) for x in to_python(from_python([True, 1]))] == [bool, int]  # type: ignore[union-attr]


@pytest.mark.parametrize("value", [None, {1: 2}, {1}, object()])
def test_from_python_rejects_other_types(value: object) -> None:
    with pytest.raises(TypeError, match=type(value).__qualname__):
        from_python(value)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (OMInteger(5), 5),
        (OMFloat(0.25), 0.25),
        (OMString("s"), "s"),
        (OMBytes(b"b"), b"b"),
        (TRUE, True),
        (FALSE, False),
        (OMApplication(RATIONAL, (OMInteger(1), OMInteger(3))), Fraction(1, 3)),
        (OMApplication(RATIONAL, (OMInteger(4), OMInteger(2))), Fraction(2)),
        (OMApplication(LIST, ()), []),
        (
            OMApplication(LIST, (OMInteger(1), OMApplication(LIST, (TRUE, OMString("a"))))),
            [1, [True, "a"]],
        ),
        (OMApplication(LIST, (OMVariable("x"),)), [OMVariable("x")]),
    ],
)
def test_to_python(obj: OMAny, expected: object) -> None:
    result = to_python(obj)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "obj",
    [
        OMSymbol("arith1", "plus"),
        OMVariable("x"),
        OMReference("#r"),
        OMApplication(RATIONAL, (OMInteger(1), OMInteger(0))),
        OMApplication(RATIONAL, (OMInteger(1),)),
        OMApplication(RATIONAL, (OMInteger(1), OMFloat(2.0))),
        OMApplication(PLUS, (OMApplication(LIST, ()),)),  # not a list: no recursion into args
        OMAttribution(((CALL_ID, OMString("c")),), OMInteger(1)),
        OMError(OMSymbol("e", "f")),
    ],
)
def test_to_python_leaves_other_objects_alone(obj: OMAny) -> None:
    assert to_python(obj) is obj


@pytest.mark.parametrize(
    "value",
    [
        0,
        -3,
        2**80,
        1.25,
        "s",
        b"\x00",
        True,
        False,
        Fraction(7, 9),
        Fraction(5, 1),
        [1, [2, ["x"]], ()],
    ],
)
def test_python_values_survive_the_wire(value: object) -> None:
    expected = list(value) if isinstance(value, tuple) else value
    if isinstance(value, list):
        expected = [1, [2, ["x"]], []]
    result = to_python(decode(encode(from_python(value))))
    assert result == expected
    assert type(result) is type(expected)


def test_package_exports() -> None:
    for name in om.__all__:
        assert hasattr(om, name), name
    assert {"encode", "decode", "OpenMathError", "to_python", "from_python", "OMAny"} <= set(
        om.__all__
    )


def test_references_that_expand_exponentially_are_refused() -> None:
    """A few kilobytes of ``#id`` references can stand for 2^30 elements."""
    parts = ['<OMA id="l0"><OMS cd="list1" name="list"/><OMI>1</OMI><OMI>1</OMI></OMA>']
    parts += [
        f'<OMA id="l{i}"><OMS cd="list1" name="list"/><OMR href="#l{i - 1}"/>'
        f'<OMR href="#l{i - 1}"/></OMA>'
        for i in range(1, 30)
    ]
    doc = '<OMOBJ><OMA><OMS cd="list1" name="list"/>' + "".join(parts) + "</OMA></OMOBJ>"
    with pytest.raises(OpenMathError, match="expand the object beyond"):
        decode(doc.encode())
    shallow = '<OMOBJ><OMA><OMS cd="list1" name="list"/>' + "".join(parts[:5]) + "</OMA></OMOBJ>"
    assert len(decode(shallow.encode()).args) == 5  # sharing within bounds still decodes
