"""The OpenMath 2.0 XML encoding: a fast string-building encoder and a hardened lxml decoder.

The encoder never builds an lxml tree: SCSCP replies can hold hundreds of thousands of
small objects, and joining strings is several times faster than serialising a tree. The
decoder parses with lxml under a locked-down parser (no DTD, no entities, no network) and
turns the tree into objects with one dispatch-dict lookup per element.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import threading
from collections.abc import Callable
from typing import TypeAlias

from lxml import etree

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

__all__ = ["NAMESPACE", "OpenMathError", "decode", "encode"]

NAMESPACE = "http://www.openmath.org/OpenMath"
"""The OpenMath XML namespace, written on every encoded ``<OMOBJ>``."""


class OpenMathError(ValueError):
    """Malformed OpenMath: bad XML, a forbidden construct, or an object that cannot be encoded."""


# --------------------------------------------------------------------------- helpers

# Python refuses int <-> decimal str conversion beyond this many digits (CVE-2020-10735
# guard); OpenMath integers have no size limit, so longer numbers are converted in halves.
_MAX_STR_DIGITS = 4000


def _int_to_dec(value: int) -> str:
    """Decimal digits of ``value``, even beyond ``sys.get_int_max_str_digits()``."""
    try:
        return f"{value:d}"
    except ValueError:
        pass
    if value < 0:
        return "-" + _int_to_dec(-value)
    # Split by a power of ten so each half is small enough, then zero-pad the low half.
    k = max(int(value.bit_length() * 0.30103) // 2, 1)
    high, low = divmod(value, 10**k)
    return _int_to_dec(high) + _int_to_dec(low).zfill(k)


def _dec_to_int(digits: str) -> int:
    """Parse ASCII decimal ``digits`` (no sign) of any length."""
    if len(digits) <= _MAX_STR_DIGITS:
        return int(digits)
    mid = len(digits) // 2
    return _dec_to_int(digits[:mid]) * 10 ** (len(digits) - mid) + _dec_to_int(digits[mid:])


# Characters XML 1.0 cannot carry at all (C0 controls but tab/LF/CR, lone surrogates,
# U+FFFE/U+FFFF); plus the ones that need escaping, so one search decides the fast path.
_INVALID_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_INVALID_RE = re.compile(f"[{_INVALID_CHARS}]")
_TEXT_SPECIAL_RE = re.compile(f"[&<>\r{_INVALID_CHARS}]")
_ATTR_SPECIAL_RE = re.compile(f'[&<>"\t\n\r{_INVALID_CHARS}]')


def _check_chars(s: str) -> None:
    """Raise if ``s`` holds a character that XML 1.0 cannot represent."""
    bad = _INVALID_RE.search(s)
    if bad is not None:
        raise OpenMathError(
            f"character U+{ord(bad.group()):04X} at position {bad.start()} "
            "is not allowed in XML 1.0"
        )


def _escape_text(s: str) -> str:
    """Escape character data; CR is escaped so the parser's newline normalisation keeps it."""
    if _TEXT_SPECIAL_RE.search(s) is None:
        return s
    _check_chars(s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_attr(s: str) -> str:
    """Escape an attribute value; tab/LF/CR become references so they survive normalisation."""
    if _ATTR_SPECIAL_RE.search(s) is None:
        return s
    _check_chars(s)
    return (
        s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def _type_name(obj: object) -> str:
    return type(obj).__qualname__


# --------------------------------------------------------------------------- encoder

_Out: TypeAlias = list[str]
_Encoder: TypeAlias = Callable[[OMAny, _Out], None]


def _enc_int(obj: OMInteger, out: _Out) -> None:
    value = obj.value
    if type(value) is not int and not isinstance(value, int):
        raise OpenMathError(f"OMInteger value {value!r} is not an int")
    out.append(f"<OMI>{_int_to_dec(value)}</OMI>")


_SPECIAL_FLOATS = {"inf": "INF", "-inf": "-INF", "nan": "NaN"}


def _enc_float(obj: OMFloat, out: _Out) -> None:
    value = obj.value
    try:
        text = repr(value if type(value) is float else float(value))
    except (TypeError, ValueError, OverflowError) as exc:
        raise OpenMathError(f"OMFloat value {value!r} is not a float") from exc
    out.append(f'<OMF dec="{_SPECIAL_FLOATS.get(text, text)}"/>')


def _enc_str(obj: OMString, out: _Out) -> None:
    value = obj.value
    if not isinstance(value, str):
        raise OpenMathError(f"OMString value {value!r} is not a str")
    out.append(f"<OMSTR>{_escape_text(value)}</OMSTR>" if value else "<OMSTR/>")


def _enc_bytes(obj: OMBytes, out: _Out) -> None:
    try:
        text = base64.b64encode(obj.value).decode("ascii")
    except TypeError as exc:
        raise OpenMathError(f"OMBytes value of type {_type_name(obj.value)} is not bytes") from exc
    out.append(f"<OMB>{text}</OMB>")


def _enc_sym(obj: OMSymbol, out: _Out) -> None:
    try:
        if obj.cdbase is None:
            out.append(f'<OMS cd="{_escape_attr(obj.cd)}" name="{_escape_attr(obj.name)}"/>')
        else:
            out.append(
                f'<OMS cdbase="{_escape_attr(obj.cdbase)}" cd="{_escape_attr(obj.cd)}" '
                f'name="{_escape_attr(obj.name)}"/>'
            )
    except TypeError as exc:
        raise OpenMathError(f"OMSymbol fields must be str: {obj!r}") from exc


def _enc_var(obj: OMVariable, out: _Out) -> None:
    try:
        out.append(f'<OMV name="{_escape_attr(obj.name)}"/>')
    except TypeError as exc:
        raise OpenMathError(f"OMVariable name must be a str: {obj!r}") from exc


def _enc_ref(obj: OMReference, out: _Out) -> None:
    try:
        out.append(f'<OMR href="{_escape_attr(obj.href)}"/>')
    except TypeError as exc:
        raise OpenMathError(f"OMReference href must be a str: {obj!r}") from exc


def _enc(obj: OMAny, out: _Out) -> None:
    """Encode any object; the one place that turns an unknown type into an error."""
    try:
        encoder = _ENCODERS[type(obj)]
    except KeyError:
        raise OpenMathError(f"cannot encode {_type_name(obj)} as OpenMath") from None
    encoder(obj, out)


def _enc_app(obj: OMApplication, out: _Out) -> None:
    out.append("<OMA>")
    _enc(obj.head, out)
    encoders = _ENCODERS
    append = out.append
    for arg in obj.args:
        # Inline the commonest leaf: integer matrices and permutations are mostly OMI.
        if type(arg) is OMInteger and type(arg.value) is int:
            try:
                append(f"<OMI>{arg.value:d}</OMI>")
                continue
            except ValueError:  # beyond the int/str digit limit: take the general path
                pass
        encoder = encoders.get(type(arg))
        if encoder is None:
            _enc(arg, out)
        else:
            encoder(arg, out)
    append("</OMA>")


def _enc_attr(obj: OMAttribution, out: _Out) -> None:
    if not obj.pairs:
        raise OpenMathError("OMAttribution needs at least one attribute pair")
    out.append("<OMATTR><OMATP>")
    for pair in obj.pairs:
        key, value = pair
        if type(key) is not OMSymbol:
            raise OpenMathError(f"attribute key must be an OMSymbol, not {_type_name(key)}")
        _enc_sym(key, out)
        _enc(value, out)
    out.append("</OMATP>")
    _enc(obj.obj, out)
    out.append("</OMATTR>")


def _enc_bind(obj: OMBinding, out: _Out) -> None:
    out.append("<OMBIND>")
    _enc(obj.binder, out)
    out.append("<OMBVAR>")
    for var in obj.variables:
        if type(var) is not OMVariable:
            raise OpenMathError(f"bound variable must be an OMVariable, not {_type_name(var)}")
        _enc_var(var, out)
    out.append("</OMBVAR>")
    _enc(obj.body, out)
    out.append("</OMBIND>")


def _enc_error(obj: OMError, out: _Out) -> None:
    if type(obj.symbol) is not OMSymbol:
        raise OpenMathError(f"OMError symbol must be an OMSymbol, not {_type_name(obj.symbol)}")
    out.append("<OME>")
    _enc_sym(obj.symbol, out)
    for arg in obj.args:
        _enc(arg, out)
    out.append("</OME>")


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

_HEADER = f'<OMOBJ xmlns="{NAMESPACE}" version="2.0">'


def encode(obj: OMAny) -> bytes:
    """Encode ``obj`` as a compact UTF-8 ``<OMOBJ>`` with no newlines outside string content.

    Raises OpenMathError for anything that is not a well-formed OpenMath object, including
    strings with characters XML 1.0 cannot carry and nesting deeper than Python's recursion
    limit.
    """
    out = [_HEADER]
    try:
        _enc(obj, out)
    except RecursionError:
        raise OpenMathError("object is nested too deeply to encode") from None
    out.append("</OMOBJ>")
    return "".join(out).encode("utf-8")


# --------------------------------------------------------------------------- decoder

_Element: TypeAlias = etree._Element
# A decoder gets the element and the dispatch table to use for its children, so the
# fast path (no ids, no cdbase) and the slow path share all element code.
_Decoder: TypeAlias = Callable[[_Element, "_Dispatch"], OMAny]


def _local(tag: object) -> str:
    """Element name without namespace, for messages."""
    if not isinstance(tag, str):
        return repr(tag)
    return tag.rpartition("}")[2]


class _Dispatch(dict[object, _Decoder]):
    """Tag -> decoder table whose misses raise the 'unknown element' error directly."""

    def __missing__(self, tag: object) -> _Decoder:
        if isinstance(tag, str) and tag.startswith("{") and not tag.startswith(f"{{{NAMESPACE}}}"):
            raise OpenMathError(
                f"unknown element <{_local(tag)}> in namespace {tag[1:].split('}')[0]}"
            )
        raise OpenMathError(f"unknown element <{_local(tag)}>")


def _text_error(el: _Element, text: str) -> OpenMathError:
    """The error for stray character data in an element that holds only elements."""
    return OpenMathError(f"unexpected text {text.strip()[:40]!r} in <{_local(el.tag)}>")


def _check_blank(el: _Element) -> None:
    """Reject text mixed into an element that may only hold child elements."""
    text = el.text
    if text and not text.isspace():
        raise _text_error(el, text)
    for child in el:
        tail = child.tail
        if tail and not tail.isspace():
            raise _text_error(el, tail)


def _leaf_error(el: _Element) -> OpenMathError:
    """The error for child elements inside an element that holds only text or nothing."""
    return OpenMathError(f"<{_local(el.tag)}> must not contain elements")


_DEC_RE = re.compile(r"\s*([+-]?)([0-9]+)\s*\Z", re.ASCII)
_HEX_RE = re.compile(r"\s*(-?)x([0-9A-Fa-f]+)\s*\Z", re.ASCII)


def _parse_omi(text: str) -> int:
    """Decimal or OpenMath hex (``x1F``, ``-x1F``) integer text of any length."""
    match = _DEC_RE.match(text)
    if match is not None:
        value = _dec_to_int(match.group(2))
        return -value if match.group(1) == "-" else value
    match = _HEX_RE.match(text)
    if match is not None:
        value = int(match.group(2), 16)
        return -value if match.group(1) else value
    raise OpenMathError(f"OMI content {text.strip()[:60]!r} is not an integer")


# Objects are immutable, so the small integers that fill permutations and matrices can be
# shared instances: a dict hit skips int() and the (slow) frozen-dataclass constructor.
_SMALL_OMI: dict[str | None, OMInteger] = {str(i): OMInteger(i) for i in range(-1024, 1025)}


def _dec_omi(el: _Element, d: _Dispatch) -> OMAny:
    if len(el):
        raise _leaf_error(el)
    text = el.text
    small = _SMALL_OMI.get(text)
    if small is not None:
        return small
    if text is None:
        raise OpenMathError("OMI is empty")
    try:
        value = int(text)  # fast path; int() is laxer than OpenMath, so verify below
    except ValueError:
        return OMInteger(_parse_omi(text))
    if "_" in text or not text.isascii():
        raise OpenMathError(f"OMI content {text.strip()[:60]!r} is not an integer")
    return OMInteger(value)


_HEX_FLOAT_RE = re.compile(r"\s*([0-9A-Fa-f]{16})\s*\Z", re.ASCII)
_DEC_FLOAT_RE = re.compile(
    r"\s*(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN)\s*\Z",
    re.ASCII | re.IGNORECASE,
)


def _dec_omf(el: _Element, d: _Dispatch) -> OMAny:
    if len(el):
        raise _leaf_error(el)
    dec = el.get("dec")
    hexa = el.get("hex")
    if dec is not None:
        if hexa is not None:
            raise OpenMathError("OMF has both dec and hex attributes")
        if _DEC_FLOAT_RE.match(dec) is None:
            raise OpenMathError(f"OMF dec {dec[:60]!r} is not a floating-point number")
        return OMFloat(float(dec))
    if hexa is not None:
        match = _HEX_FLOAT_RE.match(hexa)
        if match is None:
            raise OpenMathError(f"OMF hex {hexa[:60]!r} is not 16 hexadecimal digits")
        return OMFloat(struct.unpack(">d", bytes.fromhex(match.group(1)))[0])
    raise OpenMathError("OMF needs a dec or hex attribute")


def _dec_omstr(el: _Element, d: _Dispatch) -> OMAny:
    if len(el):
        raise _leaf_error(el)
    text = el.text
    return OMString("" if text is None else text)


def _dec_omb(el: _Element, d: _Dispatch) -> OMAny:
    if len(el):
        raise _leaf_error(el)
    text = el.text
    if not text:
        return OMBytes(b"")
    try:
        return OMBytes(base64.b64decode("".join(text.split()), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise OpenMathError(f"OMB content is not valid base64: {exc}") from None


# Symbols repeat in every message (scscp1.call_id, list1.list ...): share the
# immutable instances, bounded so that hostile input cannot grow the table.
_SYMBOLS: dict[tuple[str, str, str | None], OMSymbol] = {}
_SYMBOLS_MAX = 4096


def _symbol(el: _Element, cdbase: str | None) -> OMSymbol:
    if len(el):
        raise _leaf_error(el)
    cd = el.get("cd")
    name = el.get("name")
    if cd is None or name is None:
        raise OpenMathError(f"OMS needs cd and name attributes, got cd={cd!r} name={name!r}")
    key = (cd, name, cdbase)
    symbol = _SYMBOLS.get(key)
    if symbol is None:
        symbol = OMSymbol(cd, name, cdbase)
        if len(_SYMBOLS) < _SYMBOLS_MAX:
            _SYMBOLS[key] = symbol
    return symbol


def _dec_oms(el: _Element, d: _Dispatch) -> OMAny:
    return _symbol(el, el.get("cdbase"))


def _dec_oms_inherit(el: _Element, d: _Dispatch) -> OMAny:
    """OMS when the document uses cdbase: the nearest ancestor's cdbase applies."""
    cdbase = el.get("cdbase")
    if cdbase is None:
        for ancestor in el.iterancestors():
            cdbase = ancestor.get("cdbase")
            if cdbase is not None:
                break
    return _symbol(el, cdbase)


def _dec_omv(el: _Element, d: _Dispatch) -> OMAny:
    if len(el):
        raise _leaf_error(el)
    name = el.get("name")
    if name is None:
        raise OpenMathError("OMV needs a name attribute")
    return OMVariable(name)


def _dec_omr(el: _Element, d: _Dispatch) -> OMAny:
    if len(el):
        raise _leaf_error(el)
    href = el.get("href")
    if href is None:
        raise OpenMathError("OMR needs an href attribute")
    return OMReference(href)


def _dec_oma(el: _Element, d: _Dispatch) -> OMAny:
    # The hot container (lists, matrices): check text while walking the children once.
    text = el.text
    if text and not text.isspace():
        raise _text_error(el, text)
    items: list[OMAny] = []
    append = items.append
    for child in el:
        append(d[child.tag](child, d))
        tail = child.tail
        if tail and not tail.isspace():
            raise _text_error(el, tail)
    if not items:
        raise OpenMathError("OMA needs at least a head element")
    return OMApplication(items[0], tuple(items[1:]))


def _is(el: _Element, name: str) -> bool:
    tag = el.tag
    return tag == name or tag == f"{{{NAMESPACE}}}{name}"


def _key_symbol(el: _Element, d: _Dispatch, where: str) -> OMSymbol:
    if not _is(el, "OMS"):
        raise OpenMathError(f"{where} must be an OMS, not <{_local(el.tag)}>")
    key = d[el.tag](el, d)
    assert type(key) is OMSymbol
    return key


def _dec_omattr(el: _Element, d: _Dispatch) -> OMAny:
    _check_blank(el)
    children = list(el)
    if len(children) != 2 or not _is(children[0], "OMATP"):
        raise OpenMathError("OMATTR must hold one OMATP followed by one object")
    atp = children[0]
    _check_blank(atp)
    parts = list(atp)
    if len(parts) % 2:
        raise OpenMathError("OMATP must hold (OMS, value) pairs")
    pairs = tuple(
        (_key_symbol(parts[i], d, "attribute key"), d[parts[i + 1].tag](parts[i + 1], d))
        for i in range(0, len(parts), 2)
    )
    body = children[1]
    return OMAttribution(pairs, d[body.tag](body, d))


def _dec_ome(el: _Element, d: _Dispatch) -> OMAny:
    _check_blank(el)
    children = list(el)
    if not children:
        raise OpenMathError("OME needs an error symbol")
    symbol = _key_symbol(children[0], d, "OME's first child")
    return OMError(symbol, tuple([d[child.tag](child, d) for child in children[1:]]))


def _dec_ombind(el: _Element, d: _Dispatch) -> OMAny:
    _check_blank(el)
    children = list(el)
    if len(children) != 3 or not _is(children[1], "OMBVAR"):
        raise OpenMathError("OMBIND must hold a binder, one OMBVAR and a body")
    binder, bvar, body = children
    _check_blank(bvar)
    variables = []
    for child in bvar:
        if not _is(child, "OMV"):
            raise OpenMathError(
                f"OMBVAR may only hold OMV here, not <{_local(child.tag)}> "
                "(attributed variables are not supported)"
            )
        var = d[child.tag](child, d)
        assert type(var) is OMVariable
        variables.append(var)
    return OMBinding(d[binder.tag](binder, d), tuple(variables), d[body.tag](body, d))


def _not_an_object(el: _Element, d: _Dispatch) -> OMAny:
    raise OpenMathError(f"<{_local(el.tag)}> is only allowed inside its parent element")


_BASE_DECODERS: dict[str, _Decoder] = {
    "OMI": _dec_omi,
    "OMF": _dec_omf,
    "OMSTR": _dec_omstr,
    "OMB": _dec_omb,
    "OMS": _dec_oms,
    "OMV": _dec_omv,
    "OMR": _dec_omr,
    "OMA": _dec_oma,
    "OMATTR": _dec_omattr,
    "OME": _dec_ome,
    "OMBIND": _dec_ombind,
    "OMATP": _not_an_object,
    "OMBVAR": _not_an_object,
    "OMOBJ": _not_an_object,
}


def _table(decoders: dict[str, _Decoder]) -> _Dispatch:
    """Index decoders by both the bare and the namespaced tag: no tag splitting per element."""
    table = _Dispatch()
    for name, decoder in decoders.items():
        table[name] = decoder
        table[f"{{{NAMESPACE}}}{name}"] = decoder
    return table


_DECODERS = _table(_BASE_DECODERS)
_DECODERS_CDBASE = _table({**_BASE_DECODERS, "OMS": _dec_oms_inherit})


# The least an element costs when written out (``<OMI>1</OMI>`` is 12 bytes).
_MIN_ELEMENT_BYTES = 10
# Structure sharing may make an object this many times larger than its encoding, plus
# some slack; far more is an amplification attack (2^30 elements from 3 KB), whatever
# max_size allows, since whoever walks or re-encodes the object pays for every element.
AMPLIFICATION = 16
AMPLIFICATION_SLACK = 2**20


def expansion_limit(size: int, max_size: int) -> int:
    """The most bytes an object of ``size`` bytes may stand for once shared parts count fully."""
    return min(max_size, AMPLIFICATION * size + AMPLIFICATION_SLACK)


def _resolving_table(root: _Element, base: _Dispatch, limit: int) -> _Dispatch:
    """A per-document table that memoises elements with ``id`` and resolves ``#id`` OMRs.

    Memoising by id makes every reference to one element decode to the very same Python
    object (structure sharing), and the in-progress set turns reference cycles into errors
    instead of infinite recursion. Shared objects are cheap here but not for whoever walks
    or re-encodes them (a few kilobytes of nested references can stand for 2^30 elements),
    so the expanded size is bounded (``expansion_limit``) as if written out.
    """
    targets: dict[str, _Element] = {}
    for el in root.iterdescendants():
        ident = el.get("id")
        if ident is not None:
            if ident in targets:
                raise OpenMathError(f"duplicate id {ident!r}")
            targets[ident] = el
    _check_expansion(root, targets, limit // _MIN_ELEMENT_BYTES)
    done: dict[str, OMAny] = {}
    busy: set[str] = set()

    def decode_target(ident: str, d: _Dispatch) -> OMAny:
        if ident in done:
            return done[ident]
        if ident in busy:
            raise OpenMathError(f"cyclic reference to id {ident!r}")
        el = targets[ident]
        busy.add(ident)
        result = raw[el.tag](el, d)
        busy.discard(ident)
        done[ident] = result
        return result

    def wrap(decoder: _Decoder) -> _Decoder:
        def decode_with_id(el: _Element, d: _Dispatch) -> OMAny:
            ident = el.get("id")
            if ident is None:
                return decoder(el, d)
            return decode_target(ident, d)

        return decode_with_id

    def resolve(el: _Element, d: _Dispatch) -> OMAny:
        ref = _dec_omr(el, d)
        assert type(ref) is OMReference
        href = ref.href
        if href.startswith("#") and href[1:] in targets:
            return decode_target(href[1:], d)
        return ref

    raw = dict(base)
    raw["OMR"] = raw[f"{{{NAMESPACE}}}OMR"] = resolve
    return _Dispatch({tag: wrap(decoder) for tag, decoder in raw.items()})


def _check_expansion(root: _Element, targets: dict[str, _Element], limit: int) -> None:
    """Refuse a document whose internal references expand it beyond ``limit`` elements."""
    sizes: dict[str, int] = {}
    busy: set[str] = set()

    def size(el: _Element) -> int:
        href = el.get("href") if _is(el, "OMR") else None
        if href is not None and href.startswith("#") and href[1:] in targets:
            ident = href[1:]
            if ident not in sizes:
                if ident in busy:
                    raise OpenMathError(f"cyclic reference to id {ident!r}")
                busy.add(ident)
                sizes[ident] = size(targets[ident])
                busy.discard(ident)
            return sizes[ident]
        total = 1 + sum(size(child) for child in el)
        if total > limit:
            raise OpenMathError(f"internal references expand the object beyond {limit} elements")
        return total

    size(root)


# Finds every id attribute (and a few false positives, which only cost the slow path); the
# literal prefix keeps the scan fast, and plain "id" would match SCSCP's "call_id" symbol.
_ID_ATTR_RE = re.compile(rb"id\s*=")


class _RefuseExternal(etree.Resolver):
    """Fails any attempt to load a DTD or external entity: OpenMath needs none, and a load
    could read local files or block on a device even when nothing is expanded."""

    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> None:
        raise OpenMathError(f"refusing to load external resource {system_url!r}")


_thread = threading.local()


def _parser() -> etree.XMLParser:
    """A per-thread parser (lxml parsers are not thread-safe) with every risky feature off."""
    parser: etree.XMLParser | None = getattr(_thread, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            strip_cdata=True,
            recover=False,
            # collect_ids=False would be faster but makes libxml2 2.14 load external DTDs.
        )
        parser.resolvers.add(_RefuseExternal())
        _thread.parser = parser
    return parser


# libxml2's own limits (kept: huge_tree is off), said in the reader's terms.
_LIBXML_LIMITS = (
    ("Text node too long", "a string or number is longer than 10,000,000 characters"),
    ("Excessive depth", "the object is nested deeper than 256 levels"),
)


def _syntax_error(exc: etree.XMLSyntaxError) -> str:
    text = str(exc)
    for needle, said in _LIBXML_LIMITS:
        if needle in text:
            return f"too large to read: {said}"
    return f"malformed XML: {text}"


def decode(data: bytes, *, max_size: int = 64 * 2**20) -> OMAny:
    """Decode one ``<OMOBJ>`` document into an object.

    Inputs over ``max_size`` bytes are refused before parsing, and any DOCTYPE is refused:
    OpenMath never needs a DTD, and refusing one (with entity expansion and every external
    load switched off in the parser too) rules out "billion laughs" and external-entity
    attacks. Only ``bytes``/``bytearray`` are accepted, since the XML declaration names the
    encoding. Everything malformed raises OpenMathError.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"decode() needs bytes, not {_type_name(data)}")
    if len(data) > max_size:
        raise OpenMathError(f"OpenMath document of {len(data)} bytes exceeds max_size {max_size}")
    if data[:1].isspace():
        data = data.lstrip()
    # Cheap early refusal of a DOCTYPE in the prolog; the docinfo check below is the exact
    # one (it also sees DOCTYPEs in other encodings such as UTF-16).
    doctype_at = data.find(b"<!DOCTYPE")
    if doctype_at != -1:
        first_om = data.find(b"<OM")
        if first_om == -1 or doctype_at < first_om:
            raise OpenMathError("DOCTYPE declarations are not allowed in OpenMath")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise OpenMathError(_syntax_error(exc)) from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        raise OpenMathError("DOCTYPE declarations are not allowed in OpenMath")
    if not _is(root, "OMOBJ"):
        tag = root.tag if isinstance(root.tag, str) else ""
        where = f" in namespace {tag[1:].partition('}')[0]}" if tag.startswith("{") else ""
        raise OpenMathError(f"expected <OMOBJ> at the top, got <{_local(root.tag)}>{where}")
    _check_blank(root)
    if len(root) != 1:
        raise OpenMathError(f"OMOBJ must hold exactly one object, found {len(root)}")

    # Choose the dispatch table: the plain one unless the document uses cdbase or ids.
    # The byte scans are conservative: NUL bytes mean a wide encoding the scan cannot read.
    wide = b"\x00" in data
    table = _DECODERS_CDBASE if wide or b"cdbase" in data else _DECODERS
    if wide or _ID_ATTR_RE.search(data) is not None:
        table = _resolving_table(root, table, expansion_limit(len(data), max_size))
    child = root[0]
    try:
        return table[child.tag](child, table)
    except RecursionError:
        raise OpenMathError("OpenMath object is nested too deeply") from None
