"""The OpenMath 2.0 binary encoding (section 3.3 of the standard; GAP: gap/const.g).

Each object starts with a one-byte token: bits 1-5 name the kind, 0x20 is the streaming
(status) bit, 0x40 the sharing flag (the object carries an id, or in OpenMath 1 style is a
back-reference) and 0x80 the long flag (lengths take four bytes, big-endian, instead of
one). An object is framed by 0x18 (or 0x58 plus two version bytes) and 0x19.

The encoder writes what GAP's binary reader understands: no sharing, integers in base 10,
strings in ISO-8859-1 when they fit and UTF-16 otherwise. The decoder reads the whole
standard except foreign objects (which the object model lacks): ids and internal/external
references (resolved to the very same Python object, cycles refused), OpenMath 1 style
shared symbols, variables and strings, cdbase scopes, and streamed integers, strings and
byte arrays. Malformed input raises OpenMathError; lengths are checked against the input
before anything is allocated, and references may not expand the object beyond
``max_size`` bytes' worth.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import TypeAlias

from .objects import (
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
)
from .xml import OpenMathError, _dec_to_int, _int_to_dec, expansion_limit

__all__ = ["decode_binary", "encode_binary"]

# Token kinds (bits 1-5) and flags, as in the standard and GAP's gap/const.g.
INT_SMALL = 1
INT_BIG = 2
FLOAT = 3
BYTES = 4
VARIABLE = 5
STRING_ISO = 6
STRING_UTF16 = 7
SYMBOL = 8
CDBASE = 9
FOREIGN = 12
APPLICATION = 16
APPLICATION_END = 17
ATTRIBUTION = 18
ATTRIBUTION_END = 19
ATTRPAIRS = 20
ATTRPAIRS_END = 21
ERROR = 22
ERROR_END = 23
OBJECT = 24
OBJECT_END = 25
BINDING = 26
BINDING_END = 27
BVARS = 28
BVARS_END = 29
REFERENCE_INT = 30
REFERENCE_EXT = 31

FLAG_STREAM = 0x20
FLAG_ID = 0x40
FLAG_LONG = 0x80
KIND_MASK = 0x1F

OBJECT_SHARED = OBJECT | FLAG_ID
"""0x58: the OpenMath 2 start token, followed by major and minor version bytes."""

_MAX_LENGTH = 2**32 - 1

_TOKEN_NAMES = {
    INT_SMALL: "integer",
    INT_BIG: "big integer",
    FLOAT: "float",
    BYTES: "byte array",
    VARIABLE: "variable",
    STRING_ISO: "ISO-8859-1 string",
    STRING_UTF16: "UTF-16 string",
    SYMBOL: "symbol",
    CDBASE: "cdbase scope",
    FOREIGN: "foreign object",
    APPLICATION: "application",
    APPLICATION_END: "end of application",
    ATTRIBUTION: "attribution",
    ATTRIBUTION_END: "end of attribution",
    ATTRPAIRS: "attribute pairs",
    ATTRPAIRS_END: "end of attribute pairs",
    ERROR: "error",
    ERROR_END: "end of error",
    OBJECT: "begin object",
    OBJECT_END: "end object",
    BINDING: "binding",
    BINDING_END: "end of binding",
    BVARS: "bound variables",
    BVARS_END: "end of bound variables",
    REFERENCE_INT: "internal reference",
    REFERENCE_EXT: "external reference",
}


def _describe(token: int) -> str:
    name = _TOKEN_NAMES.get(token & KIND_MASK, "unknown token")
    return f"{name} (0x{token:02x})"


# --------------------------------------------------------------------------- encoder

_Out: TypeAlias = bytearray
_Encoder: TypeAlias = Callable[[OMAny, _Out], None]

# Immutable two-byte encodings of every small integer, indexed by value + 128.
_SMALL_INTS = [bytes((INT_SMALL, v & 0xFF)) for v in range(-128, 128)]
_PACK_INT32 = struct.Struct(">i").pack
_PACK_DOUBLE = struct.Struct(">d").pack


def _type_name(obj: object) -> str:
    return type(obj).__qualname__


def _put_length(out: _Out, kind: int, n: int) -> None:
    """``kind`` with one length: a byte, or the long flag and four bytes from 256 on."""
    if n < 256:
        out.append(kind)
        out.append(n)
    elif n <= _MAX_LENGTH:
        out.append(kind | FLAG_LONG)
        out += n.to_bytes(4, "big")
    else:
        raise OpenMathError(f"{_TOKEN_NAMES[kind]} of {n} bytes is too long to encode")


def _enc_int(obj: OMInteger, out: _Out) -> None:
    value = obj.value
    if not isinstance(value, int) or isinstance(value, bool):
        raise OpenMathError(f"OMInteger value {value!r} is not an int")
    if -128 <= value <= 127:
        out += _SMALL_INTS[value + 128]
    elif -(2**31) <= value < 2**31:
        out.append(INT_SMALL | FLAG_LONG)
        out += _PACK_INT32(value)
    else:
        # Base 10, as GAP writes: GAP's reader mangles base 256 digits below 0x10.
        digits = _int_to_dec(abs(value)).encode("ascii")
        _put_length(out, INT_BIG, len(digits))
        out.append(0x2D if value < 0 else 0x2B)
        out += digits


def _enc_float(obj: OMFloat, out: _Out) -> None:
    try:
        packed = _PACK_DOUBLE(obj.value)
    except struct.error as exc:
        raise OpenMathError(f"OMFloat value {obj.value!r} is not a float") from exc
    out.append(FLOAT)
    out += packed


def _enc_str(obj: OMString, out: _Out) -> None:
    value = obj.value
    if not isinstance(value, str):
        raise OpenMathError(f"OMString value {value!r} is not a str")
    try:
        data = value.encode("latin-1")
    except UnicodeEncodeError:
        try:
            data = value.encode("utf-16-be")
        except UnicodeEncodeError as exc:
            raise OpenMathError(f"string has a lone surrogate at {exc.start}") from None
        _put_length(out, STRING_UTF16, len(data) // 2)  # the length counts UTF-16 units
    else:
        _put_length(out, STRING_ISO, len(data))
    out += data


def _enc_bytes(obj: OMBytes, out: _Out) -> None:
    value = obj.value
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise OpenMathError(f"OMBytes value of type {_type_name(value)} is not bytes")
    _put_length(out, BYTES, len(value))
    out += value


def _utf8(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise OpenMathError(f"{what} must be a str, not {_type_name(text)}")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise OpenMathError(f"{what} has a lone surrogate at {exc.start}") from None


# Encoded symbols, as they repeat in every list and permutation; bounded in number.
_SYMBOL_BYTES: dict[tuple[object, object, object], bytes] = {}
_SYMBOL_BYTES_MAX = 4096


def _enc_sym(obj: OMSymbol, out: _Out) -> None:
    key = (obj.cd, obj.name, obj.cdbase)
    try:
        encoded = _SYMBOL_BYTES.get(key)
    except TypeError:  # an unhashable field: certainly not a str, reported below
        encoded = None
    if encoded is None:
        encoded = _symbol_bytes(obj)
        if len(_SYMBOL_BYTES) < _SYMBOL_BYTES_MAX:
            _SYMBOL_BYTES[key] = encoded
    out += encoded


def _symbol_bytes(obj: OMSymbol) -> bytes:
    out = bytearray()
    if obj.cdbase is not None:
        _put_length(out, CDBASE, len(uri := _utf8(obj.cdbase, "cdbase")))
        out += uri
    cd = _utf8(obj.cd, "symbol cd")
    name = _utf8(obj.name, "symbol name")
    if len(cd) < 256 and len(name) < 256:
        out += bytes((SYMBOL, len(cd), len(name)))
    elif len(cd) <= _MAX_LENGTH and len(name) <= _MAX_LENGTH:
        out.append(SYMBOL | FLAG_LONG)
        out += len(cd).to_bytes(4, "big")
        out += len(name).to_bytes(4, "big")
    else:
        raise OpenMathError("symbol name too long to encode")
    out += cd
    out += name
    return bytes(out)


def _enc_var(obj: OMVariable, out: _Out) -> None:
    name = _utf8(obj.name, "variable name")
    _put_length(out, VARIABLE, len(name))
    out += name


def _enc_ref(obj: OMReference, out: _Out) -> None:
    href = _utf8(obj.href, "reference href")
    _put_length(out, REFERENCE_EXT, len(href))
    out += href


def _enc(obj: OMAny, out: _Out) -> None:
    """Encode any object; the one place that turns an unknown type into an error."""
    try:
        encoder = _ENCODERS[type(obj)]
    except KeyError:
        raise OpenMathError(f"cannot encode {_type_name(obj)} as OpenMath") from None
    encoder(obj, out)


def _enc_app(obj: OMApplication, out: _Out) -> None:
    out.append(APPLICATION)
    _enc(obj.head, out)
    small = _SMALL_INTS
    pack_int32 = _PACK_INT32
    encoders = _ENCODERS
    for arg in obj.args:
        # Inline the commonest leaf: lists, matrices and permutations are mostly small OMI.
        if type(arg) is OMInteger:
            value = arg.value
            if type(value) is int:
                if -128 <= value <= 127:
                    out += small[value + 128]
                    continue
                if -(2**31) <= value < 2**31:
                    out.append(INT_SMALL | FLAG_LONG)
                    out += pack_int32(value)
                    continue
        encoder = encoders.get(type(arg))
        if encoder is None:
            _enc(arg, out)
        else:
            encoder(arg, out)
    out.append(APPLICATION_END)


def _enc_attr(obj: OMAttribution, out: _Out) -> None:
    if not obj.pairs:
        raise OpenMathError("OMAttribution needs at least one attribute pair")
    out.append(ATTRIBUTION)
    out.append(ATTRPAIRS)
    for key, value in obj.pairs:
        if type(key) is not OMSymbol:
            raise OpenMathError(f"attribute key must be an OMSymbol, not {_type_name(key)}")
        _enc_sym(key, out)
        _enc(value, out)
    out.append(ATTRPAIRS_END)
    _enc(obj.obj, out)
    out.append(ATTRIBUTION_END)


def _enc_bind(obj: OMBinding, out: _Out) -> None:
    out.append(BINDING)
    _enc(obj.binder, out)
    out.append(BVARS)
    for var in obj.variables:
        if type(var) is not OMVariable:
            raise OpenMathError(f"bound variable must be an OMVariable, not {_type_name(var)}")
        _enc_var(var, out)
    out.append(BVARS_END)
    _enc(obj.body, out)
    out.append(BINDING_END)


def _enc_error(obj: OMError, out: _Out) -> None:
    if type(obj.symbol) is not OMSymbol:
        raise OpenMathError(f"OMError symbol must be an OMSymbol, not {_type_name(obj.symbol)}")
    out.append(ERROR)
    _enc_sym(obj.symbol, out)
    for arg in obj.args:
        _enc(arg, out)
    out.append(ERROR_END)


_ENCODERS: dict[type, _Encoder] = {
    OMInteger: _enc_int,
    OMFloat: _enc_float,
    OMString: _enc_str,
    OMBytes: _enc_bytes,
    OMSymbol: _enc_sym,
    OMVariable: _enc_var,
    OMReference: _enc_ref,
    OMApplication: _enc_app,
    OMAttribution: _enc_attr,
    OMBinding: _enc_bind,
    OMError: _enc_error,
}  # type: ignore[dict-item]


def encode_binary(obj: OMAny) -> bytes:
    """Encode ``obj`` as one binary OpenMath object (0x18 ... 0x19).

    Raises OpenMathError for anything that is not a well-formed OpenMath object, for
    lengths beyond four bytes and for nesting deeper than Python's recursion limit.
    """
    out = bytearray((OBJECT,))
    try:
        _enc(obj, out)
    except RecursionError:
        raise OpenMathError("object is nested too deeply to encode") from None
    out.append(OBJECT_END)
    return bytes(out)


# --------------------------------------------------------------------------- decoder


class _Pending:
    """Marks an object with an id whose decoding has begun but not ended (a reference to it
    would be a cycle), or an id'd part that is not an object (attribute pairs, bound
    variables) and so cannot be referenced."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what


_BUSY = _Pending("busy")

# Decoded symbols repeat (list1.list in every list): share instances, bounded in number.
_SYMBOL_CACHE: dict[tuple[bytes, bytes, str | None], OMSymbol] = {}
_SYMBOL_CACHE_MAX = 4096
_SMALL_OMI = [OMInteger(v - 256 if v > 127 else v) for v in range(256)]  # by byte value
# Objects are immutable, so the integers that fill permutations and matrices can be shared
# instances: a list hit skips the (slow) frozen-dataclass constructor.
_CACHED_OMI_MIN, _CACHED_OMI_MAX = -1024, 4096
_CACHED_OMI = [OMInteger(v) for v in range(_CACHED_OMI_MIN, _CACHED_OMI_MAX + 1)]
_UNPACK_INT32 = struct.Struct(">i").unpack_from
_UNPACK_UINT32 = struct.Struct(">I").unpack_from
_UNPACK_DOUBLE = struct.Struct(">d").unpack_from
_HEX_DIGITS = re.compile(rb"[0-9A-Fa-f]+\Z")


class _State:
    """Everything one decode call shares between its reading functions."""

    __slots__ = (
        "cdbase",
        "data",
        "end",
        "extra",
        "ids",
        "limit",
        "om1",
        "shared",
        "slots",
        "spans",
        "tables",
    )

    def __init__(self, data: bytes, limit: int, om1: bool) -> None:
        self.data = data
        self.end = len(data)
        self.limit = limit
        self.om1 = om1
        self.cdbase: str | None = None
        # OpenMath 2 sharing. Every object with the sharing flag gets a slot when it starts
        # (its id may name it before it ends) with its expanded size; internal references
        # count shared objects in the order they end, as the standard's example does.
        self.slots: list[object] = []
        self.spans: list[int] = []
        self.shared: list[int] = []  # slot of the n-th shared object to end
        self.ids: dict[str, int] = {}
        self.extra = 0  # bytes' worth that references added beyond the input itself
        # OpenMath 1 sharing: symbols, variables, ISO strings, UTF-16 strings seen so far.
        self.tables: dict[int, list[OMAny]] = {
            SYMBOL: [],
            VARIABLE: [],
            STRING_ISO: [],
            STRING_UTF16: [],
        }


def _truncated(what: str) -> OpenMathError:
    return OpenMathError(f"binary OpenMath ends inside {what}")


def _length(st: _State, token: int, pos: int) -> tuple[int, int]:
    """One length field: a byte, or four bytes when the long flag is set."""
    if token & FLAG_LONG:
        if pos + 4 > st.end:
            raise _truncated(_describe(token))
        return _UNPACK_UINT32(st.data, pos)[0], pos + 4
    if pos >= st.end:
        raise _truncated(_describe(token))
    return st.data[pos], pos + 1


def _take(st: _State, pos: int, n: int, token: int) -> tuple[bytes, int]:
    """``n`` bytes from ``pos``, refusing lengths that run past the input."""
    end = pos + n
    if end > st.end:
        raise OpenMathError(f"{_describe(token)} claims {n} bytes but only {st.end - pos} remain")
    return st.data[pos:end], end


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OpenMathError(f"{what} is not valid UTF-8: {exc.reason} at {exc.start}") from None


def _read_id(st: _State, token: int, pos: int, slot: int, n: int) -> int:
    """Read an id of ``n`` bytes and name the object in ``slot`` with it."""
    raw, pos = _take(st, pos, n, token)
    ident = _text(raw, "id")
    if ident in st.ids:
        raise OpenMathError(f"duplicate id {ident!r}")
    st.ids[ident] = slot
    return pos


def _om1_reference(st: _State, token: int, pos: int) -> tuple[OMAny, int]:
    """OpenMath 1 sharing: ``[kind + 64] [n]`` is the n-th such object seen so far."""
    if pos >= st.end:
        raise _truncated(_describe(token))
    index = st.data[pos]
    table = st.tables[token & KIND_MASK]
    if index >= len(table):
        raise OpenMathError(
            f"shared {_TOKEN_NAMES[token & KIND_MASK]} reference {index} "
            f"but only {len(table)} seen so far"
        )
    return table[index], pos + 1


def _remember(st: _State, kind: int, obj: OMAny) -> None:
    table = st.tables[kind]
    if len(table) < 256:
        table.append(obj)


def _read_int_small(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    if token & FLAG_STREAM:
        raise OpenMathError("streamed small integers are not supported")
    if token & FLAG_ID:
        n, pos = _length(st, token, pos)
        pos = _read_id(st, token, pos, slot, n)
    if token & FLAG_LONG:
        if pos + 4 > st.end:
            raise _truncated(_describe(token))
        value = _UNPACK_INT32(st.data, pos)[0]
        if _CACHED_OMI_MIN <= value <= _CACHED_OMI_MAX:
            return _CACHED_OMI[value - _CACHED_OMI_MIN], pos + 4
        return OMInteger(value), pos + 4
    if pos >= st.end:
        raise _truncated(_describe(token))
    return _SMALL_OMI[st.data[pos]], pos + 1


def _big_digits(st: _State, token: int, pos: int, slot: int) -> tuple[int, int, bytes, int]:
    """One big-integer packet: (sign byte, base bits, digits, new position)."""
    n, pos = _length(st, token, pos)
    if token & FLAG_ID:
        m, pos = _length(st, token, pos)
    if pos >= st.end:
        raise _truncated(_describe(token))
    signbase = st.data[pos]
    digits, pos = _take(st, pos + 1, n, token)
    if token & FLAG_ID:
        pos = _read_id(st, token, pos, slot, m)
    return signbase & 0x3F, signbase & 0xC0, digits, pos


def _read_int_big(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    sign, base, digits, pos = _big_digits(st, token, pos, slot)
    if sign not in (0x2B, 0x2D):
        raise OpenMathError(f"big integer sign byte 0x{sign:02x} is neither '+' nor '-'")
    if base == 0xC0:
        raise OpenMathError("big integer base bits 0xc0 name no base")
    packets = [digits]
    while token & FLAG_STREAM:  # later packets: same kind, same base, sign disregarded
        if pos >= st.end:
            raise _truncated("a streamed big integer")
        token = st.data[pos]
        if token & KIND_MASK != INT_BIG or token & FLAG_ID:
            raise OpenMathError(f"{_describe(token)} inside a streamed big integer")
        _, more_base, digits, pos = _big_digits(st, token, pos + 1, slot)
        if more_base != base:
            raise OpenMathError("streamed big integer changes its base")
        packets.append(digits)
    raw = b"".join(packets)
    if not raw:
        raise OpenMathError("big integer has no digits")
    if base == 0x80:
        value = int.from_bytes(raw, "big")
    elif base == 0x40:
        if _HEX_DIGITS.match(raw) is None:
            raise OpenMathError(f"big integer digits {raw[:40]!r} are not hexadecimal")
        value = int(raw, 16)
    else:
        if not (raw.isdigit() and raw.isascii()):
            raise OpenMathError(f"big integer digits {raw[:40]!r} are not decimal")
        value = _dec_to_int(raw.decode("ascii"))
    return OMInteger(-value if sign == 0x2D else value), pos


def _read_float(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    if token & FLAG_STREAM:
        raise OpenMathError("floats cannot be streamed")
    if token & FLAG_ID:
        n, pos = _length(st, token, pos)
        pos = _read_id(st, token, pos, slot, n)
    if pos + 8 > st.end:
        raise _truncated(_describe(token))
    return OMFloat(_UNPACK_DOUBLE(st.data, pos)[0]), pos + 8


def _packets(st: _State, token: int, pos: int, slot: int, unit: int) -> tuple[bytes, int]:
    """The payload of a string or byte array, joining streamed packets.

    ``unit`` is the number of bytes per counted element (2 for UTF-16 units).
    """
    kind = token & KIND_MASK
    chunks = []
    while True:
        n, pos = _length(st, token, pos)
        if token & FLAG_ID:
            m, pos = _length(st, token, pos)
        chunk, pos = _take(st, pos, n * unit, token)
        chunks.append(chunk)
        if token & FLAG_ID:
            pos = _read_id(st, token, pos, slot, m)
        if not token & FLAG_STREAM:
            return chunks[0] if len(chunks) == 1 else b"".join(chunks), pos
        if pos >= st.end:
            raise _truncated(f"a streamed {_TOKEN_NAMES[kind]}")
        token = st.data[pos]
        if token & KIND_MASK != kind or token & FLAG_ID:
            raise OpenMathError(f"{_describe(token)} inside a streamed {_TOKEN_NAMES[kind]}")
        pos += 1


def _read_bytes(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    raw, pos = _packets(st, token, pos, slot, 1)
    return OMBytes(raw), pos


def _read_str_iso(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    if st.om1 and token & (FLAG_ID | FLAG_LONG) == FLAG_ID:
        return _om1_reference(st, token, pos)
    raw, pos = _packets(st, token, pos, slot, 1)
    obj = OMString(raw.decode("latin-1"))
    if st.om1 and len(raw) < 256:
        _remember(st, STRING_ISO, obj)
    return obj, pos


def _read_str_utf16(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    if st.om1 and token & (FLAG_ID | FLAG_LONG) == FLAG_ID:
        return _om1_reference(st, token, pos)
    raw, pos = _packets(st, token, pos, slot, 2)
    # Network byte order as everywhere in the encoding, unless a byte order mark says else.
    encoding = "utf-16-be"
    if raw[:2] == b"\xff\xfe":
        raw, encoding = raw[2:], "utf-16-le"
    elif raw[:2] == b"\xfe\xff":
        raw = raw[2:]
    try:
        obj = OMString(raw.decode(encoding))
    except UnicodeDecodeError as exc:
        raise OpenMathError(f"string is not valid UTF-16: {exc.reason} at {exc.start}") from None
    if st.om1 and len(raw) < 512:
        _remember(st, STRING_UTF16, obj)
    return obj, pos


def _read_var(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    if st.om1 and token & (FLAG_ID | FLAG_LONG) == FLAG_ID:
        return _om1_reference(st, token, pos)
    if token & FLAG_STREAM:
        raise OpenMathError("variables cannot be streamed")
    n, pos = _length(st, token, pos)
    if token & FLAG_ID:
        m, pos = _length(st, token, pos)
    raw, pos = _take(st, pos, n, token)
    if token & FLAG_ID:
        pos = _read_id(st, token, pos, slot, m)
    obj = OMVariable(_text(raw, "variable name"))
    if st.om1:
        _remember(st, VARIABLE, obj)
    return obj, pos


def _read_sym(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    if st.om1 and token & (FLAG_ID | FLAG_LONG) == FLAG_ID:
        return _om1_reference(st, token, pos)
    if token & FLAG_STREAM:
        raise OpenMathError("symbols cannot be streamed")
    n, pos = _length(st, token, pos)
    m, pos = _length(st, token, pos)
    if token & FLAG_ID:
        k, pos = _length(st, token, pos)
    cd, pos = _take(st, pos, n, token)
    name, pos = _take(st, pos, m, token)
    if token & FLAG_ID:
        pos = _read_id(st, token, pos, slot, k)
    key = (cd, name, st.cdbase)
    obj = _SYMBOL_CACHE.get(key)
    if obj is None:
        obj = OMSymbol(_text(cd, "symbol cd"), _text(name, "symbol name"), st.cdbase)
        if len(_SYMBOL_CACHE) < _SYMBOL_CACHE_MAX:
            _SYMBOL_CACHE[key] = obj
    if st.om1:
        _remember(st, SYMBOL, obj)
    return obj, pos


def _read_cdbase(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    if token & (FLAG_ID | FLAG_STREAM):
        raise OpenMathError(f"flags not allowed on {_describe(token)}")
    n, pos = _length(st, token, pos)
    raw, pos = _take(st, pos, n, token)
    outer = st.cdbase
    st.cdbase = _text(raw, "cdbase")
    try:
        return _read(st, pos)
    finally:
        st.cdbase = outer


def _compound_id(st: _State, token: int, pos: int, slot: int) -> int:
    """The optional id right after a compound's start token."""
    if token & FLAG_STREAM:
        raise OpenMathError(f"streaming bit set on {_describe(token)}")
    if token & FLAG_ID:
        n, pos = _length(st, token, pos)
        pos = _read_id(st, token, pos, slot, n)
    elif token & FLAG_LONG:
        raise OpenMathError(f"long flag without id on {_describe(token)}")
    return pos


def _expect(st: _State, pos: int, token: int, where: str) -> int:
    if pos >= st.end:
        raise _truncated(where)
    if st.data[pos] != token:
        raise OpenMathError(
            f"expected {_describe(token)} in {where}, got {_describe(st.data[pos])}"
        )
    return pos + 1


def _read_app(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    pos = _compound_id(st, token, pos, slot)
    data = st.data
    end = st.end
    small = _SMALL_OMI
    cached = _CACHED_OMI
    unpack_int32 = _UNPACK_INT32
    items: list[OMAny] = []
    append = items.append
    while True:
        if pos >= end:
            raise _truncated("an application")
        tok = data[pos]
        if tok == INT_SMALL:  # the commonest argument, read inline
            if pos + 1 >= end:
                raise _truncated(_describe(tok))
            append(small[data[pos + 1]])
            pos += 2
            continue
        if tok == INT_SMALL | FLAG_LONG:
            if pos + 5 > end:
                raise _truncated(_describe(tok))
            value = unpack_int32(data, pos + 1)[0]
            if _CACHED_OMI_MIN <= value <= _CACHED_OMI_MAX:
                append(cached[value - _CACHED_OMI_MIN])
            else:
                append(OMInteger(value))
            pos += 5
            continue
        if tok == APPLICATION_END:
            pos += 1
            break
        obj, pos = _read(st, pos)
        append(obj)
    if not items:
        raise OpenMathError("application needs at least a head")
    return OMApplication(items[0], tuple(items[1:])), pos


def _symbol_at(st: _State, pos: int, where: str) -> tuple[OMSymbol, int]:
    obj, pos = _read(st, pos)
    if type(obj) is not OMSymbol:
        raise OpenMathError(f"{where} must be a symbol, not {type(obj).__name__}")
    return obj, pos


def _unreferenceable(st: _State, token: int, pos: int, what: str) -> tuple[int, int]:
    """Read the optional id of a part that is not an object; references to it are refused.

    Returns the new position and the part's slot (-1 without an id), which the caller
    counts as shared once the part ends.
    """
    slot = -1
    if token & FLAG_ID:
        slot = len(st.slots)
        st.slots.append(_Pending(what))
        st.spans.append(0)
    return _compound_id(st, token, pos, slot), slot


def _end_part(st: _State, slot: int) -> None:
    if slot >= 0:
        st.shared.append(slot)


def _read_attr(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    pos = _compound_id(st, token, pos, slot)
    if pos >= st.end:
        raise _truncated("an attribution")
    pairs_token = st.data[pos]
    if pairs_token & KIND_MASK != ATTRPAIRS:
        raise OpenMathError(
            f"attribution must start with attribute pairs, not {_describe(pairs_token)}"
        )
    pos, pairs_slot = _unreferenceable(st, pairs_token, pos + 1, "attribute pairs")
    pairs = []
    while True:
        if pos >= st.end:
            raise _truncated("attribute pairs")
        if st.data[pos] == ATTRPAIRS_END:
            pos += 1
            _end_part(st, pairs_slot)
            break
        key, pos = _symbol_at(st, pos, "attribute key")
        value, pos = _read(st, pos)
        pairs.append((key, value))
    if not pairs:
        raise OpenMathError("attribute pairs must hold at least one pair")
    body, pos = _read(st, pos)
    pos = _expect(st, pos, ATTRIBUTION_END, "an attribution")
    return OMAttribution(tuple(pairs), body), pos


def _read_error(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    pos = _compound_id(st, token, pos, slot)
    symbol, pos = _symbol_at(st, pos, "error's first object")
    args = []
    while True:
        if pos >= st.end:
            raise _truncated("an error")
        if st.data[pos] == ERROR_END:
            return OMError(symbol, tuple(args)), pos + 1
        arg, pos = _read(st, pos)
        args.append(arg)


def _read_bind(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    pos = _compound_id(st, token, pos, slot)
    binder, pos = _read(st, pos)
    if pos >= st.end:
        raise _truncated("a binding")
    vars_token = st.data[pos]
    if vars_token & KIND_MASK != BVARS:
        raise OpenMathError(f"expected bound variables in a binding, got {_describe(vars_token)}")
    pos, vars_slot = _unreferenceable(st, vars_token, pos + 1, "bound variables")
    variables = []
    while True:
        if pos >= st.end:
            raise _truncated("bound variables")
        if st.data[pos] == BVARS_END:
            pos += 1
            _end_part(st, vars_slot)
            break
        var, pos = _read(st, pos)
        if type(var) is not OMVariable:
            raise OpenMathError(
                f"bound variables may only be variables here, not {type(var).__name__} "
                "(attributed variables are not supported)"
            )
        variables.append(var)
    body, pos = _read(st, pos)
    pos = _expect(st, pos, BINDING_END, "a binding")
    return OMBinding(binder, tuple(variables), body), pos


def _resolve(st: _State, slot: int, what: str) -> OMAny:
    """The object in ``slot``, counting its expanded size against the limit."""
    target = st.slots[slot]
    if target is _BUSY:
        raise OpenMathError(f"cyclic {what}: it points into an object that has not ended")
    if isinstance(target, _Pending):
        raise OpenMathError(f"{what} to {target.what}, which is not an object")
    st.extra += st.spans[slot]
    if st.end + st.extra > st.limit:
        raise OpenMathError(f"references expand the object beyond {st.limit} bytes")
    return target  # type: ignore[return-value]


def _read_ref_int(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    if token & (FLAG_ID | FLAG_STREAM):
        raise OpenMathError(f"flags not allowed on {_describe(token)}")
    index, pos = _length(st, token, pos)
    if index >= len(st.shared):
        raise OpenMathError(
            f"internal reference to shared object {index}, but only {len(st.shared)} "
            "have ended so far"
        )
    return _resolve(st, st.shared[index], "internal reference"), pos


def _read_ref_ext(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    if token & (FLAG_ID | FLAG_STREAM):
        raise OpenMathError(f"flags not allowed on {_describe(token)}")
    n, pos = _length(st, token, pos)
    raw, pos = _take(st, pos, n, token)
    href = _text(raw, "reference")
    # "#id" names an object of this document, as in the XML encoding.
    if href.startswith("#") and href[1:] in st.ids:
        return _resolve(st, st.ids[href[1:]], f"reference {href!r}"), pos
    return OMReference(href), pos


def _read_foreign(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    raise OpenMathError("foreign objects (OMFOREIGN) are not supported")


def _read_bad(st: _State, token: int, pos: int, slot: int) -> tuple[OMAny, int]:
    if token & KIND_MASK in _TOKEN_NAMES:
        raise OpenMathError(f"unexpected {_describe(token)} where an object should start")
    raise OpenMathError(f"unknown token 0x{token:02x} at byte {pos - 1}")


_ObjReader: TypeAlias = Callable[[_State, int, int, int], tuple[OMAny, int]]

_READERS: list[_ObjReader] = [_read_bad] * 32
for _kind, _reader in (
    (INT_SMALL, _read_int_small),
    (INT_BIG, _read_int_big),
    (FLOAT, _read_float),
    (BYTES, _read_bytes),
    (VARIABLE, _read_var),
    (STRING_ISO, _read_str_iso),
    (STRING_UTF16, _read_str_utf16),
    (SYMBOL, _read_sym),
    (CDBASE, _read_cdbase),
    (FOREIGN, _read_foreign),
    (APPLICATION, _read_app),
    (ATTRIBUTION, _read_attr),
    (ERROR, _read_error),
    (BINDING, _read_bind),
    (REFERENCE_INT, _read_ref_int),
    (REFERENCE_EXT, _read_ref_ext),
):
    _READERS[_kind] = _reader
del _kind, _reader

# Kinds whose sharing flag means an id (in OpenMath 1 objects, short symbols, variables and
# strings use it for back-references instead, handled by their readers).
_OM1_TABLE_KINDS = frozenset((SYMBOL, VARIABLE, STRING_ISO, STRING_UTF16))
_NO_ID_KINDS = frozenset((CDBASE, REFERENCE_INT, REFERENCE_EXT))


def _read(st: _State, pos: int) -> tuple[OMAny, int]:
    """Read one object at ``pos``; returns it and the position after it."""
    if pos >= st.end:
        raise _truncated("an object")
    token = st.data[pos]
    kind = token & KIND_MASK
    reader = _READERS[kind]
    if not token & FLAG_ID or kind in _NO_ID_KINDS:
        return reader(st, token, pos + 1, -1)
    if st.om1 and kind in _OM1_TABLE_KINDS and not token & FLAG_LONG:
        return reader(st, token, pos + 1, -1)  # an OpenMath 1 back-reference
    # An object with the sharing flag: a slot from its start (an id inside it may name it),
    # counted as shared when it ends, with its span: the input bytes it covers plus what
    # references inside it expanded, which is what a reference to it costs.
    slot = len(st.slots)
    st.slots.append(_BUSY)
    st.spans.append(0)
    extra_before = st.extra
    obj, end = reader(st, token, pos + 1, slot)
    st.slots[slot] = obj
    st.spans[slot] = end - pos + st.extra - extra_before
    st.shared.append(slot)
    return obj, end


def decode_binary(data: bytes, *, max_size: int = 64 * 2**20) -> OMAny:
    """Decode one binary OpenMath object (0x18 or 0x58 ... 0x19) into an object.

    Inputs over ``max_size`` bytes are refused before decoding, and so are objects whose
    internal references would expand them beyond that size. The input must hold exactly
    one object. Everything malformed raises OpenMathError.
    """
    if isinstance(data, memoryview):
        data = data.tobytes()
    elif isinstance(data, bytearray):
        data = bytes(data)
    elif not isinstance(data, bytes):
        raise TypeError(f"decode_binary() needs bytes, not {_type_name(data)}")
    if len(data) > max_size:
        raise OpenMathError(f"binary OpenMath of {len(data)} bytes exceeds max_size {max_size}")
    if not data:
        raise OpenMathError("binary OpenMath is empty")
    start = data[0]
    if start == OBJECT:
        pos, om1 = 1, True
    elif start == OBJECT_SHARED:
        if len(data) < 3:
            raise _truncated("the object header")
        if data[1] != 2:
            raise OpenMathError(f"unsupported binary OpenMath version {data[1]}.{data[2]}")
        pos, om1 = 3, False
    else:
        raise OpenMathError(f"binary OpenMath must start with 0x18 or 0x58, not 0x{start:02x}")
    st = _State(data, expansion_limit(len(data), max_size), om1)
    try:
        obj, pos = _read(st, pos)
    except RecursionError:
        raise OpenMathError("binary OpenMath object is nested too deeply") from None
    pos = _expect(st, pos, OBJECT_END, "the object")
    if pos != len(data):
        raise OpenMathError(f"{len(data) - pos} bytes after the end of the object")
    return obj
