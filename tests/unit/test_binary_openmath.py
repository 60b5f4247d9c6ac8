"""The OpenMath 2.0 binary encoding: round trips, the standard's examples, malformed input,
and interoperation with a real GAP (one process for the module) in both directions."""

from __future__ import annotations

import contextlib
import math
import random
import re
from collections.abc import Iterator
from fractions import Fraction

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
    decode_binary,
    encode,
    encode_binary,
    from_python,
    to_python,
)
from scscp.openmath.values import Permutation
from tests.unit.test_gap_openmath import GapProcess, gap_compare, gap_string, start_gap

PLUS = OMSymbol("arith1", "plus")
TIMES = OMSymbol("arith1", "times")
LIST = OMSymbol("list1", "list")
X, Y, Z = OMVariable("x"), OMVariable("y"), OMVariable("z")


def app(head: OMAny, *args: OMAny) -> OMApplication:
    return OMApplication(head, args)


def nested(depth: int) -> OMAny:
    result: OMAny = OMInteger(1)
    for _ in range(depth):
        result = app(PLUS, result, X)
    return result


# --------------------------------------------------------------------------- round trips

ROUND_TRIP: list[OMAny] = [
    *[
        OMInteger(v)
        for v in (0, 1, -1, 127, -128, 128, -129, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1)
    ],
    OMInteger(10**254),  # 255 digits: the last short big integer
    OMInteger(-(10**255)),  # 256 digits: long flag
    OMInteger(7**20000),  # beyond Python's int/str digit limit
    *[OMFloat(v) for v in (0.0, -0.0, 1e-10, -2.5, 5e-324, 1.7976931348623157e308, math.inf)],
    OMString(""),
    OMString("plain ASCII"),
    OMString("Latin-1: é ß ÿ"),
    OMString("UTF-16: € ∑ 漢字"),
    OMString("astral: 𝄞 😀"),
    OMString("x" * 255),
    OMString("y" * 256),
    OMString("€" * 300),
    OMBytes(b""),
    OMBytes(bytes(range(256))),
    OMSymbol("arith1", "plus"),
    OMSymbol("c" * 300, "n"),
    OMSymbol("cd", "n" * 256),
    OMSymbol("cd", "name", cdbase="http://example.org/cds"),
    OMSymbol("ünï", "cödé"),
    OMVariable("x"),
    OMVariable("v" * 400),
    OMReference("scscp://localhost:26133/TEMPVarSCSCP1"),
    OMReference("#" + "r" * 300),
    app(PLUS),
    app(PLUS, X, Y),
    app(LIST, *[OMInteger(i) for i in range(-300, 300)]),
    app(app(OMSymbol("fns1", "lambda")), OMString("s"), OMFloat(1.5)),
    OMAttribution(((OMSymbol("scscp1", "call_id"), OMString("c1")),), app(PLUS, X)),
    OMAttribution(
        (
            (OMSymbol("scscp1", "call_id"), OMString("c1")),
            (OMSymbol("scscp1", "option_return_object"), OMString("")),
        ),
        app(OMSymbol("scscp1", "procedure_call"), app(OMSymbol("scscp_transient_1", "F"))),
    ),
    OMBinding(OMSymbol("fns1", "lambda"), (X, Y), app(PLUS, X, Y)),
    OMBinding(OMSymbol("quant1", "forall"), (), OMSymbol("logic1", "true")),
    OMError(OMSymbol("scscp1", "error_system_specific"), (OMString("boom"),)),
    OMError(OMSymbol("error", "unhandled_symbol")),
    nested(200),
]


@pytest.mark.parametrize("obj", ROUND_TRIP, ids=lambda o: type(o).__name__)
def test_round_trip(obj: OMAny) -> None:
    data = encode_binary(obj)
    assert data[0] == 0x18 and data[-1] == 0x19
    back = decode_binary(data)
    assert back == obj
    if isinstance(obj, OMFloat):
        assert math.copysign(1, back.value) == math.copysign(1, obj.value)  # type: ignore[union-attr]
    if isinstance(obj, OMSymbol):
        assert back.cdbase == obj.cdbase  # type: ignore[union-attr]
    # The binary and XML codecs agree on every object both can carry.
    assert decode(encode(obj)) == back


def test_nan_round_trip() -> None:
    back = decode_binary(encode_binary(OMFloat(math.nan)))
    assert isinstance(back, OMFloat) and math.isnan(back.value)


def test_python_values_survive_binary() -> None:
    value = [1, -(2**70), Fraction(2, 3), "é€", b"\x00\xff", True, range(3, 9), {"k": [None]}]
    value[-1] = {"k": [2.5]}
    assert to_python(decode_binary(encode_binary(from_python(value)))) == value


def test_accepts_bytearray_and_memoryview() -> None:
    data = encode_binary(app(PLUS, X))
    assert decode_binary(bytearray(data)) == decode_binary(memoryview(data)) == app(PLUS, X)


def test_exports() -> None:
    assert {"encode_binary", "decode_binary"} <= set(om.__all__)
    assert om.encode_binary is encode_binary and om.decode_binary is decode_binary


# --------------------------------------------------------------------------- the standard


@pytest.mark.parametrize(
    ("obj", "hexa"),
    [
        (OMInteger(16), "18 01 10 19"),
        (OMInteger(128), "18 81 00000080 19"),
        (OMInteger(-1), "18 01 ff 19"),
        (OMInteger(8589934592), "18 02 0a 2b 38353839393334353932 19"),
        (OMInteger(-(2**40)), "18 02 0d 2d 31303939353131363237373736 19"),
        (OMVariable("x"), "18 05 01 78 19"),
        (OMFloat(1e-10), "18 03 3ddb7cdfd9d7bdbb 19"),
        (OMString("ab"), "18 06 02 6162 19"),
        (OMString("€"), "18 07 01 20ac 19"),
        (OMSymbol("arith1", "plus"), "18 08 06 04 617269746831 706c7573 19"),
        (OMBytes(b"\x01\x02"), "18 04 02 0102 19"),
        (OMReference("#a"), "18 1f 02 2361 19"),
        (app(PLUS, X), "18 10 08 06 04 617269746831 706c7573 05 01 78 11 19"),
        (
            OMAttribution(((OMSymbol("a", "b"), OMInteger(1)),), X),
            "18 12 14 08 01 01 61 62 01 01 15 05 01 78 13 19",
        ),
        (
            OMBinding(OMSymbol("a", "b"), (X,), X),
            "18 1a 08 01 01 61 62 1c 05 01 78 1d 05 01 78 1b 19",
        ),
        (OMError(OMSymbol("a", "b"), (OMInteger(1),)), "18 16 08 01 01 61 62 01 01 17 19"),
        (OMSymbol("a", "b", cdbase="u"), "18 09 01 75 08 01 01 61 62 19"),
    ],
)
def test_exact_encoding(obj: OMAny, hexa: str) -> None:
    """Byte for byte as the standard's examples and grammar give them."""
    assert encode_binary(obj).hex() == hexa.replace(" ", "")


def test_long_flag_for_long_lengths() -> None:
    assert encode_binary(OMString("x" * 256))[:7] == bytes.fromhex("18 86 00000100 78")
    assert encode_binary(OMString("x" * 255))[:3] == bytes.fromhex("18 06 ff")
    assert encode_binary(OMSymbol("c" * 256, "n"))[:10] == bytes.fromhex("18 88 00000100 00000001")


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_standard_example_times_of_plus() -> None:
    """The standard's figure: times(plus(x, y), plus(x, z)), with version header 2.0."""
    data = hexbytes(
        "58 02 00 10 08 06 05 617269746831 74696d6573"
        "10 08 06 04 617269746831 706c7573 05 01 78 05 01 79 11"
        "10 08 06 04 617269746831 706c7573 05 01 78 05 01 7a 11 11 19"
    )
    assert decode_binary(data) == app(TIMES, app(PLUS, X, Y), app(PLUS, X, Z))


def test_standard_sharing_example() -> None:
    """The standard's sharing figure, f(f(f(a,a), f(a,a)), f(f(a,a), f(a,a))) with the
    inner applications shared. Internal references count shared objects in the order they
    end, so the innermost f(a, a) is shared object 0 (the figure's first reference is 0
    while its outer object is still open). Unlike the figure, and like the grammar and
    GAP, a shared application carries an id after its token."""
    data = hexbytes(
        "58 02 00 10 05 01 66 50 01 70 05 01 66 50 01 71 05 01 66 05 01 61 05 01 61 11"
        " 1e 00 11 1e 01 11 19"
    )
    f, a = OMVariable("f"), OMVariable("a")
    inner = app(f, a, a)
    middle = app(f, inner, inner)
    result = decode_binary(data)
    assert result == app(f, middle, middle)
    # Shared objects are the very same Python object, as with XML ids.
    assert isinstance(result, OMApplication)
    assert result.args[0] is result.args[1]
    assert result.args[0].args[0] is result.args[0].args[1]  # type: ignore[union-attr]


def test_big_integer_bases_and_streaming() -> None:
    assert decode_binary(hexbytes("18 02 08 6b 6666666666666631 19")) == OMInteger(0xFFFFFFF1)
    assert decode_binary(hexbytes("18 02 04 ab ffffff f1 19")) == OMInteger(0xFFFFFFF1)
    assert decode_binary(hexbytes("18 02 02 ad 0100 19")) == OMInteger(-256)
    assert decode_binary(hexbytes("18 82 00000003 2d 313233 19")) == OMInteger(-123)
    # Streamed: packets of the same kind; the first packet's sign counts.
    data = hexbytes("18 22 02 2d 3132 22 01 2b 33 02 02 2b 3435 19")
    assert decode_binary(data) == OMInteger(-12345)


def test_streamed_strings_and_bytes() -> None:
    assert decode_binary(hexbytes("18 26 02 6162 06 01 63 19")) == OMString("abc")
    assert decode_binary(hexbytes("18 27 01 00e9 07 01 20ac 19")) == OMString("é€")
    assert decode_binary(hexbytes("18 24 01 00 84 00000002 0102 19")) == OMBytes(b"\x00\x01\x02")


def test_utf16_byte_order_mark() -> None:
    assert decode_binary(hexbytes("18 07 02 fffe ac20 19")) == OMString("€")
    assert decode_binary(hexbytes("18 07 02 feff 20ac 19")) == OMString("€")


def test_openmath1_shared_symbols_variables_and_strings() -> None:
    """In objects that start with 0x18, the sharing flag on a short symbol, variable or
    string means: the n-th such object seen so far."""
    data = hexbytes(
        "18 10 08 01 01 61 62 05 01 78 06 01 73 08 01 01 63 6448 00 45 00 46 00 48 01 11 19"
    )
    ab, cd = OMSymbol("a", "b"), OMSymbol("c", "d")
    assert decode_binary(data) == app(ab, X, OMString("s"), cd, ab, X, OMString("s"), cd)


def test_ids_and_references_in_openmath2_objects() -> None:
    """[88]: the sharing flag gives an object an id; "#id" external references and
    internal references both resolve to that very object."""
    data = hexbytes(
        "58 02 00 10 08 01 01 61 62"
        "50 01 69 08 01 01 63 64 05 01 78 11"  # <OMA id="i"> cd.cd x </OMA>
        "1f 02 2369"  # <OMR href="#i"/>
        "1e 00"  # the first shared object
        "1f 02 236a"  # an unknown id stays a reference
        "45 01 01 76 6a"  # a variable v with id "j"
        "1f 02 236a"  # now "#j" resolves
        "11 19"
    )
    result = decode_binary(data)
    shared = app(OMSymbol("c", "d"), X)
    v = OMVariable("v")
    assert result == app(OMSymbol("a", "b"), shared, shared, shared, OMReference("#j"), v, v)
    assert isinstance(result, OMApplication)
    assert result.args[0] is result.args[1] is result.args[2]


def test_gap_style_id_on_application_in_openmath1_object() -> None:
    """GAP writes [24] objects whose polynomial ring is an application with an id (0x50)."""
    data = hexbytes("18 10 08 01 01 61 62 50 02 6964 08 01 01 63 64 11 1f 03 236964 11 19")
    ring = app(OMSymbol("c", "d"))
    assert decode_binary(data) == app(OMSymbol("a", "b"), ring, ring)


def test_cdbase_scope_applies_to_nested_symbols() -> None:
    data = hexbytes("18 09 01 75 10 08 01 01 61 62 09 01 76 08 01 01 63 64 11 19")
    result = decode_binary(data)
    assert isinstance(result, OMApplication)
    assert isinstance(result.head, OMSymbol) and result.head.cdbase == "u"
    assert isinstance(result.args[0], OMSymbol) and result.args[0].cdbase == "v"


# --------------------------------------------------------------------------- bad input

MALFORMED: list[tuple[str, str]] = [
    ("", "empty"),
    ("3c 4f 4d 4f 42 4a 3e", "must start with 0x18 or 0x58"),
    ("18", "ends inside an object"),
    ("18 01", "ends inside integer"),
    ("18 01 05", "ends inside the object"),
    ("18 01 05 19 00", "1 bytes after the end"),
    ("18 01 05 18", "expected end object"),
    ("58 03 00 01 05 19", "unsupported binary OpenMath version 3.0"),
    ("58 02", "ends inside the object header"),
    ("18 0a 19", "unknown token 0x0a"),
    ("18 11 19", "unexpected end of application"),
    ("18 18 01 01 19 19", "unexpected begin object"),
    ("18 14 19", "unexpected attribute pairs"),
    ("18 81 0000", "ends inside integer"),
    ("18 21 05 19", "streamed small integers are not supported"),
    ("18 02 05 2b 31 32", "claims 5 bytes but only 2 remain"),
    ("18 02 02 2a 3132 19", "neither '\\+' nor '-'"),
    ("18 02 02 2b 3a32 19", "not decimal"),
    ("18 02 02 6b 7a7a 19", "not hexadecimal"),
    ("18 02 00 2b 19", "no digits"),
    ("18 02 01 eb 31 19", "name no base"),
    ("18 22 01 2b 31 01 05 19", "integer \\(0x01\\) inside a streamed big integer"),
    ("18 03 0000 19", "ends inside float"),
    ("18 23 0000000000000000 19", "floats cannot be streamed"),
    ("18 86 ffffffff 61 19", "claims 4294967295 bytes but only 2 remain"),
    ("18 07 01 d800 19", "not valid UTF-16"),
    ("18 07 02 0041", "claims 4 bytes but only 2 remain"),
    ("18 08 01 01 ff 61 19", "symbol cd is not valid UTF-8"),
    ("18 05 01 c3 19", "variable name is not valid UTF-8"),
    ("18 25 01 78 19", "variables cannot be streamed"),
    ("18 10 11 19", "application needs at least a head"),
    ("18 10 05 01 78 19", "expected end object|ends inside an application"),
    ("18 10 05 01 78", "ends inside an application"),
    ("18 90 00 05 01 78 11 19", "long flag without id"),
    ("18 30 05 01 78 11 19", "streaming bit set on application"),
    ("18 12 05 01 78 13 19", "attribution must start with attribute pairs"),
    ("18 12 14 15 05 01 78 13 19", "at least one pair"),
    ("18 12 14 05 01 78 01 01 15 05 01 78 13 19", "attribute key must be a symbol"),
    ("18 12 14 08 01 01 61 62 01 01 15 05 01 78 11 19", "expected end of attribution"),
    ("18 16 05 01 78 17 19", "error's first object must be a symbol"),
    ("18 16 08 01 01 61 62 01 01", "ends inside an error"),
    ("18 1a 08 01 01 61 62 05 01 78 1b 19", "expected bound variables"),
    ("18 1a 08 01 01 61 62 1c 01 01 1d 05 01 78 1b 19", "may only be variables"),
    ("18 1a 08 01 01 61 62 1c 1d 05 01 78 19", "expected end of binding"),
    ("18 0c 01 01 61 62 19", "foreign objects \\(OMFOREIGN\\) are not supported"),
    ("18 1e 00 19", "internal reference to shared object 0, but only 0"),
    ("18 5e 00 19", "flags not allowed on internal reference"),
    ("18 49 01 75 05 01 78 19", "flags not allowed on cdbase"),
    ("58 02 00 50 01 69 05 01 66 1f 02 2369 11 19", "cyclic reference"),
    ("58 02 00 10 05 01 66 50 01 69 05 01 78 11 50 01 69 05 01 78 11 11 19", "duplicate id"),
    ("58 02 00 12 54 01 70 08 01 01 61 62 01 01 15 1e 00 13 19", "to attribute pairs"),
    ("18 48 00 19", "shared symbol reference 0 but only 0 seen"),
    ("18 10 05 01 78 45 01 11 19", "shared variable reference 1 but only 1 seen"),
]


@pytest.mark.parametrize(("hexa", "message"), MALFORMED)
def test_malformed_input_is_refused_clearly(hexa: str, message: str) -> None:
    with pytest.raises(OpenMathError, match=message):
        decode_binary(hexbytes(hexa))


def test_max_size() -> None:
    data = encode_binary(OMString("x" * 1000))
    assert decode_binary(data, max_size=len(data)) == OMString("x" * 1000)
    with pytest.raises(OpenMathError, match="exceeds max_size"):
        decode_binary(data, max_size=len(data) - 1)


def test_reference_bomb_is_bounded() -> None:
    """Each level refers twice to the previous one: 2^40 nodes from a few hundred bytes."""
    body = bytearray(hexbytes("58 02 00"))
    levels = 40
    body += hexbytes("10 05 01 66")  # the outer application
    body += hexbytes("50 01 00 05 01 66 05 01 61 05 01 61 11")  # shared object 0: f(a, a)
    for level in range(1, levels):  # shared object n: f(object n-1, object n-1)
        body += hexbytes(f"50 01 {level:02x} 05 01 66 1e {level - 1:02x} 1e {level - 1:02x} 11")
    body += hexbytes(f"1e {levels - 1:02x} 11 19")
    with pytest.raises(OpenMathError, match="references expand the object beyond"):
        decode_binary(bytes(body))
    # The same with few levels is fine.
    small = bytearray(hexbytes("58 02 00 10 05 01 66 50 01 00 05 01 66 05 01 61 05 01 61 11"))
    small += hexbytes("50 01 01 05 01 66 1e 00 1e 00 11 1e 01 11 19")
    assert decode_binary(bytes(small)) is not None


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    data = b"\x18" + b"\x10\x05\x01f" * 100_000 + b"\x01\x00" + b"\x11" * 100_000 + b"\x19"
    with pytest.raises(OpenMathError, match="nested too deeply"):
        decode_binary(data)


def test_type_errors() -> None:
    with pytest.raises(TypeError, match="needs bytes"):
        decode_binary("\x18\x01\x00\x19")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ("not an object", "cannot encode str"),
        (OMString("\ud800"), "lone surrogate"),
        (OMSymbol("a\udfff", "b"), "lone surrogate"),
        (OMInteger(True), "is not an int"),
        (OMInteger(1.5), "is not an int"),  # type: ignore[arg-type]
        (OMAttribution((), X), "at least one attribute pair"),
        (OMAttribution(((X, X),), X), "attribute key must be an OMSymbol"),  # type: ignore[arg-type]
        (OMBinding(PLUS, (OMString("x"),), X), "must be an OMVariable"),  # type: ignore[arg-type]
        (OMError(X, ()), "must be an OMSymbol"),  # type: ignore[arg-type]
        (nested(100_000), "nested too deeply"),
    ],
)
def test_encode_errors(obj: OMAny, message: str) -> None:
    with pytest.raises(OpenMathError, match=message):
        encode_binary(obj)


def test_fuzzed_input_raises_only_openmath_error() -> None:
    """Truncations and byte flips of valid objects: a clean error or a valid object."""
    rng = random.Random(20240611)
    samples = [encode_binary(obj) for obj in ROUND_TRIP if not isinstance(obj, OMInteger)][:30]
    samples.append(hexbytes("58 02 00 10 05 01 66 50 01 70 05 01 61 11 1e 00 1f 02 2370 11 19"))
    for data in samples:
        for cut in range(len(data)):
            with pytest.raises(OpenMathError):
                decode_binary(data[:cut])
        for _ in range(60):
            mutated = bytearray(data)
            for _ in range(rng.randint(1, 3)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            with contextlib.suppress(OpenMathError):
                decode_binary(bytes(mutated))


# --------------------------------------------------------------------------- with GAP

# GAP expressions; GAP writes each in binary and in XML, and both must decode alike.
GAP_OBJECTS = [
    "0",
    "-17",
    "127",
    "-128",
    "200",
    "-2^31",
    "2^31 - 1",
    "2^31",
    "2^40",
    "-2^100",
    "10^600",
    '"hello"',
    '""',
    "List([1 .. 300], i -> 'a')",
    "true",
    "false",
    "[1, 2, 3]",
    "[1 .. 300]",
    "List([1 .. 300], i -> i^2)",
    "Set([3, 1, 2])",
    "[]",
    "[1 .. 10]",
    "1/3",
    "-2^70/3",
    "[[1, 2], [3, 4]]",
    "(1,2,3)",
    'rec(a := 1, b := "x")',
    "infinity",
    "2 + 3*E(4)",
    "Z(5)^2",
    "0*Z(7)",
    "E(5)",
    "x^2 + 1",
    "x*y - 1",
    "Group((1,2), (1,2,3))",
    "GF(9)",
    "ZmodnZObj(3, 8)",
]


@pytest.fixture(scope="module")
def gap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GapProcess]:
    yield from start_gap(tmp_path_factory, "gap-binary")


@pytest.fixture(scope="module")
def gap_written(gap: GapProcess) -> dict[str, tuple[bytes, bytes]]:
    """GAP's binary and XML encodings of each of GAP_OBJECTS."""
    work = gap.workdir
    lines = []
    for i, expr in enumerate(GAP_OBJECTS):
        lines.append(
            f"ScscpObj{i} := {expr};;"
            f"ScscpWrite({gap_string(str(work / f'{i}.bin'))}, ScscpBinary(ScscpObj{i}));;"
            f"ScscpWrite({gap_string(str(work / f'{i}.xml'))}, OMString(ScscpObj{i}));;"
        )
    gap.run("\n".join(lines))
    written = {}
    for i, expr in enumerate(GAP_OBJECTS):
        binary, xml = work / f"{i}.bin", work / f"{i}.xml"
        if binary.exists() and xml.exists():
            written[expr] = (binary.read_bytes(), xml.read_bytes())
    return written


@pytest.mark.parametrize("expr", GAP_OBJECTS)
def test_gap_binary_decodes_like_gap_xml(
    gap_written: dict[str, tuple[bytes, bytes]], expr: str
) -> None:
    binary, xml = gap_written[expr]
    assert binary[:1] == b"\x18", binary[:40]
    assert decode_binary(binary) == decode(xml)


def test_gap_binary_polynomial_ring_has_an_id(gap_written: dict[str, tuple[bytes, bytes]]) -> None:
    """GAP marks the polynomial ring with an id (0x50, an application with the sharing
    flag) inside an object that starts with 0x18."""
    binary, _ = gap_written["x^2 + 1"]
    assert b"\x50" in binary and b"polyring" in binary


PYTHON_VALUES: dict[str, tuple[object, str]] = {
    "int-small": (-5, "-5"),
    "int-long": (-(2**31), "-2^31"),
    "int-big": (-(3**200), "-3^200"),
    "int-huge": (7**3000, "7^3000"),
    "string": ("text with spaces", '"text with spaces"'),
    "string-long": ("z" * 1000, "List([1 .. 1000], i -> 'z')"),
    "float": (2.5, "2.5"),
    "float-small": (1e-10, "1.e-10"),
    "float-negative": (-1234.5, "-1234.5"),
    "rational": (Fraction(-22, 7), "-22/7"),
    "list-long": (list(range(1000)), "[0 .. 999]"),
    "nested": ([[1, [2, [3, []]]]], "[[1, [2, [3, []]]]]"),
    "bool": ([True, False], "[true, false]"),
    "record": ({"name": "G", "order": 6}, 'rec(name := "G", order := 6)'),
    "permutation": (Permutation.from_cycles((1, 2, 3), (4, 5)), "(1,2,3)(4,5)"),
    "complex": (complex(1, -1), "1 - E(4)"),
}
"""Python values whose binary encoding GAP must read as the GAP expression."""

OM_OBJECTS: dict[str, tuple[OMAny, str]] = {
    # What an SCSCP call looks like: GAP's reader drops the attribution. (GAP's binary
    # reader does not consume the end of an attribution, so it only copes with one at the
    # top, which is the only place SCSCP puts them.)
    "attributed": (
        OMAttribution(((OMSymbol("scscp1", "call_id"), OMString("c1")),), from_python([1, 2])),
        "[1, 2]",
    ),
    "long-symbol-list": (
        app(LIST, *[OMSymbol("logic1", "true")] * 300, OMString("s" * 300)),
        "Concatenation(ListWithIdenticalEntries(300, true), [List([1 .. 300], i -> 's')])",
    ),
}
"""OpenMath objects with no Python value of their own, and the GAP expressions they are."""

OURS = [f"gap:{expr}" for expr in GAP_OBJECTS] + list(PYTHON_VALUES) + list(OM_OBJECTS)


@pytest.fixture(scope="module")
def gap_reads_ours(gap: GapProcess, gap_written: dict[str, tuple[bytes, bytes]]) -> dict[str, str]:
    """GAP's verdict on each of our binary encodings: does GAP's reader give an object equal
    to the expected GAP expression? For GAP_OBJECTS we encode the tree of GAP's own XML."""
    cases: dict[str, tuple[OMAny, str]] = {
        f"gap:{expr}": (decode(xml), expr) for expr, (_, xml) in gap_written.items()
    }
    for name, (value, expr) in PYTHON_VALUES.items():
        cases[name] = (from_python(value), expr)
    for name, (obj, expr) in OM_OBJECTS.items():
        cases[name] = (obj, expr)
    work = gap.workdir
    lines = []
    for i, (obj, expr) in enumerate(cases.values()):
        path = work / f"ours-{i}.bin"
        path.write_bytes(encode_binary(obj))
        lines.append(gap_compare(path, work / f"ours-{i}.verdict", expr))
    gap.run("\n".join(lines))
    verdicts = {}
    for i, name in enumerate(cases):
        verdict = work / f"ours-{i}.verdict"
        verdicts[name] = verdict.read_text() if verdict.exists() else "no verdict"
    return verdicts


@pytest.mark.parametrize("name", OURS)
def test_gap_reads_our_binary(gap_reads_ours: dict[str, str], name: str) -> None:
    assert gap_reads_ours.get(name) == "true"


def test_gap_writes_no_floats_in_binary(gap: GapProcess) -> None:
    """GAP's binary writer fails on floats (it compares a float with the integer 0), so
    floats only go from us to GAP, which reads them: see test_gap_reads_our_binary."""
    path = gap.workdir / "float.bin"
    out = gap.run(f"ScscpWrite({gap_string(str(path))}, ScscpBinary(2.5));;")
    assert "Error" in out
    assert not path.exists() or path.read_bytes() == b""


def test_strings_are_latin1_when_they_can_be() -> None:
    """ISO-8859-1 whenever it fits (all GAP's reader handles); UTF-16 big-endian (network
    order, as the rest of the encoding) only for text beyond Latin-1."""
    data = encode_binary(OMString("€"))
    assert data == hexbytes("18 07 01 20ac 19")
    assert re.fullmatch(rb"\x18\x06\x05hello\x19", encode_binary(OMString("hello")))


def test_gap_labels_its_utf8_strings_as_latin1(gap: GapProcess) -> None:
    """GAP's strings are bytes (UTF-8 in practice) and its binary writer sends them as they
    are under the ISO-8859-1 token, so non-ASCII text differs from its XML form. We decode
    the token as the standard says; ASCII, all GAP's reader handles anyway, is unaffected."""
    path = gap.workdir / "utf8.bin"
    gap.run(f'ScscpWrite({gap_string(str(path))}, ScscpBinary("caf\\303\\251"));;')
    assert decode_binary(path.read_bytes()) == OMString("café".encode().decode("latin-1"))
