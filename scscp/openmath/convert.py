"""Conversions between OpenMath objects and natural Python values.

``to_python`` maps what GAP writes to Python: integers, floats, strings, bytes, booleans,
rationals (``Fraction``), lists, ranges, records (``dict``), complex numbers, and the value
classes of ``scscp.openmath.values`` for sets, matrices, permutations, finite field elements,
cyclotomics, polynomials and groups. ``from_python`` maps them back in the form GAP's reader
evaluates to an equal object. Anything else stays an OpenMath object, unchanged in both
directions, so no information is lost or invented.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
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
from .values import (
    INFINITY,
    ComplexRational,
    Cyclotomic,
    FiniteField,
    FiniteFieldElement,
    Group,
    Infinity,
    Matrix,
    Permutation,
    PermutationGroup,
    Polynomial,
    PolynomialRing,
    SetList,
)

__all__ = [
    "COMPLEX",
    "EMPTYSET",
    "FALSE",
    "INFINITY_SYMBOL",
    "INTERVAL",
    "LIST",
    "MATRIX",
    "MATRIXROW",
    "PERMUTATION",
    "RATIONAL",
    "RECORD",
    "SET",
    "TRUE",
    "from_python",
    "to_python",
]

TRUE = OMSymbol("logic1", "true")
"""``logic1.true``: Python ``True``."""
FALSE = OMSymbol("logic1", "false")
"""``logic1.false``: Python ``False``."""
LIST = OMSymbol("list1", "list")
"""``list1.list``: the head of a list application."""
RATIONAL = OMSymbol("nums1", "rational")
"""``nums1.rational``: the head of a numerator/denominator application."""
SET = OMSymbol("set1", "set")
"""``set1.set``: GAP's head for lists it knows to be strictly sorted."""
EMPTYSET = OMSymbol("set1", "emptyset")
"""``set1.emptyset``: what GAP writes for every empty list."""
INTERVAL = OMSymbol("interval1", "integer_interval")
"""``interval1.integer_interval``: GAP's ranges ``[a .. b]``."""
MATRIX = OMSymbol("linalg2", "matrix")
"""``linalg2.matrix``: a matrix, whose arguments are ``MATRIXROW`` applications."""
MATRIXROW = OMSymbol("linalg2", "matrixrow")
"""``linalg2.matrixrow``: one row of a matrix."""
PERMUTATION = OMSymbol("permut1", "permutation")
"""``permut1.permutation``: a permutation by its image list."""
RECORD = OMSymbol("record1", "record")
"""``record1.record``: GAP's records, as alternating name and value arguments."""
COMPLEX = OMSymbol("complex1", "complex_cartesian")
"""``complex1.complex_cartesian``: a complex number by its real and imaginary parts."""
INFINITY_SYMBOL = OMSymbol("nums1", "infinity")
"""``nums1.infinity``: GAP's ``infinity``."""

_POWER = OMSymbol("arith1", "power")
_TIMES = OMSymbol("arith1", "times")
_PLUS = OMSymbol("arith1", "plus")
_PRIMITIVE_ELEMENT = OMSymbol("finfield1", "primitive_element")
_ROOT_OF_UNITY = OMSymbol("algnums", "NthRootOfUnity")
_PERMGROUP = OMSymbol("permgp1", "group")
_RIGHT_COMPOSE = OMSymbol("permutation1", "right_compose")
_GROUP_BY_GENERATORS = OMSymbol("group1", "group_by_generators")
_GFP = OMSymbol("setname2", "GFp")
_GFPN = OMSymbol("setname2", "GFpn")
_DMP = OMSymbol("polyd1", "DMP")
_SDMP = OMSymbol("polyd1", "SDMP")
_TERM = OMSymbol("polyd1", "term")
_RING_NAMED = OMSymbol("polyd1", "poly_ring_d_named")
_RING = OMSymbol("polyd1", "poly_ring_d")

_OM_TYPES = (
    OMInteger,
    OMFloat,
    OMString,
    OMBytes,
    OMSymbol,
    OMVariable,
    OMReference,
    OMApplication,
    OMAttribution,
    OMBinding,
    OMError,
)

# --------------------------------------------------------------------------- to Python


def _int_args(args: tuple[OMAny, ...]) -> list[int] | None:
    """The values of ``args`` if every one is an OMInteger, else None."""
    values = []
    for arg in args:
        if type(arg) is not OMInteger:
            return None
        values.append(arg.value)
    return values


def _rational(obj: OMAny) -> int | Fraction | None:
    """An exact rational (OMI or nums1.rational) as int/Fraction, else None."""
    if type(obj) is OMInteger:
        return obj.value
    value = _from_rational(obj) if type(obj) is OMApplication and obj.head == RATIONAL else None
    return value if isinstance(value, Fraction) else None


def _from_list(obj: OMApplication) -> object:
    return [to_python(arg) for arg in obj.args]


def _from_set(obj: OMApplication) -> object:
    return SetList([to_python(arg) for arg in obj.args])


def _from_rational(obj: OMApplication) -> object:
    args = obj.args
    if len(args) == 2:
        num, den = args
        if type(num) is OMInteger and type(den) is OMInteger and den.value != 0:
            return Fraction(num.value, den.value)
    return obj


def _from_interval(obj: OMApplication) -> object:
    bounds = _int_args(obj.args)
    if bounds is None or len(bounds) != 2:
        return obj
    return range(bounds[0], bounds[1] + 1)


def _from_matrix(obj: OMApplication) -> object:
    rows = []
    for row in obj.args:
        if type(row) is not OMApplication or row.head != MATRIXROW:
            return obj
        rows.append([to_python(entry) for entry in row.args])
    return Matrix(rows)


def _permutation(obj: OMAny) -> Permutation | None:
    """``permut1.permutation`` as a Permutation, None for anything else or a non-permutation."""
    if type(obj) is not OMApplication or obj.head != PERMUTATION:
        return None
    images = _int_args(obj.args)
    if images is None:
        return None
    try:
        return Permutation(tuple(images))
    except ValueError:
        return None


def _from_permutation(obj: OMApplication) -> object:
    perm = _permutation(obj)
    return obj if perm is None else perm


def _from_record(obj: OMApplication) -> object:
    args = obj.args
    if len(args) % 2:
        return obj
    record: dict[str, object] = {}
    for i in range(0, len(args), 2):
        key = args[i]
        if type(key) is not OMString or key.value in record:
            return obj  # duplicate names would not survive a round trip
        record[key.value] = to_python(args[i + 1])
    return record


def _exact_float(value: int | Fraction | float) -> bool:
    """Whether a float holds ``value`` exactly."""
    if type(value) is float:
        return True
    try:
        return Fraction(float(value)) == value
    except OverflowError:
        return False


def _from_complex(obj: OMApplication) -> object:
    if len(obj.args) != 2:
        return obj
    parts: list[int | Fraction | float] = []
    for arg in obj.args:
        part = arg.value if type(arg) is OMFloat else _rational(arg)
        if part is None:
            return obj
        parts.append(part)
    real, imag = parts
    if _exact_float(real) and _exact_float(imag):
        return complex(float(real), float(imag))
    return ComplexRational(real, imag)


def _field_order(obj: OMAny) -> int | None:
    """q for ``finfield1.primitive_element(q)``, else None."""
    if type(obj) is OMApplication and obj.head == _PRIMITIVE_ELEMENT and len(obj.args) == 1:
        order = obj.args[0]
        if type(order) is OMInteger and order.value >= 2:
            return order.value
    return None


def _from_power(obj: OMApplication) -> object:
    if len(obj.args) == 2:
        base, exponent = obj.args
        order = _field_order(base)
        if order is not None and type(exponent) is OMInteger:
            return FiniteFieldElement(order, exponent.value)
    return obj


def _from_times(obj: OMApplication) -> object:
    if len(obj.args) == 2:
        base, factor = obj.args
        order = _field_order(base)
        if order is not None and factor == OMInteger(0):
            return FiniteFieldElement(order, None)
    return obj


def _from_plus(obj: OMApplication) -> object:
    """A sum of ``c * NthRootOfUnity(n, k)`` terms with one n is a cyclotomic number."""
    conductor = None
    terms = []
    for arg in obj.args:
        if type(arg) is not OMApplication or arg.head != _TIMES or len(arg.args) != 2:
            return obj
        coefficient = _rational(arg.args[0])
        root = arg.args[1]
        if (
            coefficient is None
            or type(root) is not OMApplication
            or root.head != _ROOT_OF_UNITY
            or len(root.args) != 2
        ):
            return obj
        nk = _int_args(root.args)
        if nk is None or nk[0] < 1 or (conductor is not None and nk[0] != conductor):
            return obj
        conductor = nk[0]
        terms.append((nk[1], coefficient))
    if conductor is None:
        return obj
    return Cyclotomic(conductor, tuple(terms))


def _from_permgroup(obj: OMApplication) -> object:
    args = obj.args
    if not args or args[0] != _RIGHT_COMPOSE:
        return obj
    generators = []
    for arg in args[1:]:
        perm = _permutation(arg)
        if perm is None:
            return obj
        generators.append(perm)
    return PermutationGroup(tuple(generators))


def _from_group(obj: OMApplication) -> object:
    return Group(tuple(to_python(arg) for arg in obj.args))


def _from_gfp(obj: OMApplication) -> object:
    values = _int_args(obj.args)
    if values is None or len(values) != 1 or values[0] < 2:
        return obj
    return FiniteField(values[0])


def _from_gfpn(obj: OMApplication) -> object:
    values = _int_args(obj.args)
    if values is None or len(values) != 2 or values[0] < 2 or values[1] < 1:
        return obj
    return FiniteField(values[0], values[1])


def _from_ring_named(obj: OMApplication) -> object:
    args = obj.args
    names = []
    for arg in args[1:]:
        if type(arg) is not OMVariable:
            return obj
        names.append(arg.name)
    if not names:
        return obj
    return PolynomialRing(to_python(args[0]), len(names), tuple(names))


def _from_ring(obj: OMApplication) -> object:
    args = obj.args
    if len(args) != 2 or type(args[1]) is not OMInteger or args[1].value < 1:
        return obj
    return PolynomialRing(to_python(args[0]), args[1].value)


def _is_zero(value: object) -> bool:
    """Whether ``value`` is a known zero coefficient.

    GAP writes polynomials over finite fields with a ``0*Z(p)`` term for every missing
    power (its writer compares the coefficient with the integer 0), and its own reader then
    builds a malformed polynomial that is not equal to the original. A zero term adds
    nothing, so the value drops it, and GAP reads the encoded value back correctly.
    """
    if isinstance(value, FiniteFieldElement):
        return value.exponent is None
    return type(value) in (int, Fraction) and value == 0


def _from_dmp(obj: OMApplication) -> object:
    if len(obj.args) != 2:
        return obj
    ring = to_python(obj.args[0])
    sdmp = obj.args[1]
    if not isinstance(ring, PolynomialRing) or type(sdmp) is not OMApplication:
        return obj
    if sdmp.head != _SDMP:
        return obj
    terms = []
    for term in sdmp.args:
        if type(term) is not OMApplication or term.head != _TERM or not term.args:
            return obj
        exponents = _int_args(term.args[1:])
        if exponents is None or len(exponents) != ring.rank or min(exponents, default=0) < 0:
            return obj
        coefficient = to_python(term.args[0])
        if not _is_zero(coefficient):
            terms.append((coefficient, tuple(exponents)))
    return Polynomial(ring, tuple(terms))


_Handler: TypeAlias = Callable[[OMApplication], object]

# One dict lookup per application decides how to read it; a handler returns the object
# itself when the arguments do not have the shape it understands.
_APPLICATIONS: dict[OMSymbol, _Handler] = {
    LIST: _from_list,
    SET: _from_set,
    RATIONAL: _from_rational,
    INTERVAL: _from_interval,
    MATRIX: _from_matrix,
    PERMUTATION: _from_permutation,
    RECORD: _from_record,
    COMPLEX: _from_complex,
    _POWER: _from_power,
    _TIMES: _from_times,
    _PLUS: _from_plus,
    _PERMGROUP: _from_permgroup,
    _GROUP_BY_GENERATORS: _from_group,
    _GFP: _from_gfp,
    _GFPN: _from_gfpn,
    _RING_NAMED: _from_ring_named,
    _RING: _from_ring,
    _DMP: _from_dmp,
}

_SYMBOLS: dict[OMSymbol, object] = {
    TRUE: True,
    FALSE: False,
    INFINITY_SYMBOL: INFINITY,
}


def to_python(obj: OMAny) -> object:
    """The Python value of ``obj``, or ``obj`` itself when there is no natural equivalent.

    Containers are converted element by element, so a list may mix Python values and
    OpenMath objects. An application whose arguments do not fit its head (a rational with a
    zero denominator, a "permutation" that is not one) stays an object.
    """
    kind = type(obj)
    if kind is OMInteger or kind is OMString or kind is OMFloat or kind is OMBytes:
        return obj.value  # type: ignore[union-attr]
    if kind is OMApplication:
        head = obj.head  # type: ignore[union-attr]
        if type(head) is OMSymbol:
            handler = _APPLICATIONS.get(head)
            if handler is not None:
                return handler(obj)  # type: ignore[arg-type]
        return obj
    if kind is OMSymbol:
        if obj == EMPTYSET:
            return SetList()
        return _SYMBOLS.get(obj, obj)  # type: ignore[arg-type]
    return obj


# --------------------------------------------------------------------------- from Python


def _exact(value: int | Fraction | float) -> OMAny:
    """An exact number: OMI for integral values, else ``nums1.rational``. Floats become the
    rational they hold exactly, because GAP refuses floats inside exact objects."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return OMFloat(value)
        value = Fraction(value)
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return OMInteger(value.numerator)
        return OMApplication(RATIONAL, (OMInteger(value.numerator), OMInteger(value.denominator)))
    return OMInteger(int(value))


def _app(head: OMSymbol, args: list[OMAny]) -> OMApplication:
    return OMApplication(head, tuple(args))


def _items_to_om(value: list[object] | tuple[object, ...]) -> tuple[OMAny, ...]:
    # Plain ints dominate big lists and matrices: skip the dispatch for them.
    return tuple([OMInteger(x) if type(x) is int else from_python(x) for x in value])


def _list_to_om(value: list[object] | tuple[object, ...]) -> OMAny:
    return OMApplication(LIST, _items_to_om(value))


def _set_list_to_om(value: SetList) -> OMAny:
    if not value:
        return EMPTYSET
    return OMApplication(SET, _items_to_om(value))


def _matrix_to_om(value: Matrix) -> OMAny:
    rows = []
    for row in value:
        if not isinstance(row, (list, tuple)):
            raise TypeError(f"Matrix row {row!r} is not a list")
        rows.append(OMApplication(MATRIXROW, _items_to_om(row)))
    return OMApplication(MATRIX, tuple(rows))


def _range_to_om(value: range) -> OMAny:
    """Step-1 ranges (empty ones too) as GAP's integer intervals, others as plain lists."""
    if value.step == 1:
        return _app(INTERVAL, [OMInteger(value.start), OMInteger(value.stop - 1)])
    return OMApplication(LIST, tuple([OMInteger(i) for i in value]))


def _dict_to_om(value: dict[object, object]) -> OMAny:
    args: list[OMAny] = []
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError(
                f"cannot convert dict with key {key!r} to OpenMath: record names must be str"
            )
        args.append(OMString(str(key)))
        args.append(from_python(item))
    return OMApplication(RECORD, tuple(args))


def _complex_to_om(value: complex) -> OMAny:
    return _app(COMPLEX, [_exact(value.real), _exact(value.imag)])


def _complex_rational_to_om(value: ComplexRational) -> OMAny:
    return _app(COMPLEX, [_exact(value.real), _exact(value.imag)])


def _permutation_to_om(value: Permutation) -> OMAny:
    return OMApplication(PERMUTATION, tuple([OMInteger(i) for i in value.images]))


def _permgroup_to_om(value: PermutationGroup) -> OMAny:
    return _app(_PERMGROUP, [_RIGHT_COMPOSE, *[_permutation_to_om(g) for g in value.generators]])


def _group_to_om(value: Group) -> OMAny:
    return _app(_GROUP_BY_GENERATORS, [from_python(g) for g in value.generators])


def _infinity_to_om(value: Infinity) -> OMAny:
    return INFINITY_SYMBOL


def _ffe_to_om(value: FiniteFieldElement) -> OMAny:
    base = _app(_PRIMITIVE_ELEMENT, [OMInteger(value.order)])
    if value.exponent is None:
        return _app(_TIMES, [base, OMInteger(0)])
    return _app(_POWER, [base, OMInteger(value.exponent)])


def _field_to_om(value: FiniteField) -> OMAny:
    if value.degree == 1:
        return _app(_GFP, [OMInteger(value.characteristic)])
    return _app(_GFPN, [OMInteger(value.characteristic), OMInteger(value.degree)])


def _cyclotomic_to_om(value: Cyclotomic) -> OMAny:
    n = OMInteger(value.conductor)
    return _app(
        _PLUS,
        [
            _app(_TIMES, [_exact(c), _app(_ROOT_OF_UNITY, [n, OMInteger(k)])])
            for k, c in value.terms
        ],
    )


def _ring_to_om(value: PolynomialRing) -> OMAny:
    coefficients = from_python(value.coefficients)
    if value.names is None:
        return _app(_RING, [coefficients, OMInteger(value.rank)])
    return _app(_RING_NAMED, [coefficients, *[OMVariable(name) for name in value.names]])


def _polynomial_to_om(value: Polynomial) -> OMAny:
    terms = [
        _app(_TERM, [from_python(c), *[OMInteger(e) for e in exponents]])
        for c, exponents in value.terms
        if not _is_zero(c)
    ]
    return _app(_DMP, [_ring_to_om(value.ring), _app(_SDMP, terms)])


_Encoder: TypeAlias = Callable[[object], OMAny]


def _identity(value: OMAny) -> OMAny:
    return value


# Exact-type dispatch for the value classes; subclasses of list/dict/... fall through to
# the isinstance chain in from_python.
_ENCODERS: dict[type, _Encoder] = {
    SetList: _set_list_to_om,  # type: ignore[dict-item]
    Matrix: _matrix_to_om,  # type: ignore[dict-item]
    range: _range_to_om,  # type: ignore[dict-item]
    dict: _dict_to_om,  # type: ignore[dict-item]
    complex: _complex_to_om,  # type: ignore[dict-item]
    ComplexRational: _complex_rational_to_om,  # type: ignore[dict-item]
    Permutation: _permutation_to_om,  # type: ignore[dict-item]
    PermutationGroup: _permgroup_to_om,  # type: ignore[dict-item]
    Group: _group_to_om,  # type: ignore[dict-item]
    Infinity: _infinity_to_om,  # type: ignore[dict-item]
    FiniteFieldElement: _ffe_to_om,  # type: ignore[dict-item]
    FiniteField: _field_to_om,  # type: ignore[dict-item]
    Cyclotomic: _cyclotomic_to_om,  # type: ignore[dict-item]
    PolynomialRing: _ring_to_om,  # type: ignore[dict-item]
    Polynomial: _polynomial_to_om,  # type: ignore[dict-item]
}
for _om_type in _OM_TYPES:
    _ENCODERS[_om_type] = _identity  # type: ignore[assignment]
del _om_type


def from_python(value: object) -> OMAny:
    """The OpenMath object for ``value``; OpenMath objects pass through unchanged.

    ``bool`` is tested before ``int`` because it is a subclass of it. A Fraction always
    becomes ``nums1.rational``, even with denominator 1, so the type survives a round trip.
    Complex numbers are written with exact parts (a float part becomes the rational it holds
    exactly), since GAP's reader accepts only exact ones. Raises TypeError for anything else,
    such as a dict with a non-string key or a Python ``set``: GAP has no unordered sets,
    so say ``SetList(sorted(s))`` to send one as ``set1.set``.
    """
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, int):
        return OMInteger(int(value))
    if isinstance(value, float):
        return OMFloat(float(value))
    if isinstance(value, str):
        return OMString(str(value))
    encoder = _ENCODERS.get(type(value))
    if encoder is not None:
        return encoder(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return OMBytes(bytes(value))
    if isinstance(value, Fraction):
        return OMApplication(RATIONAL, (OMInteger(value.numerator), OMInteger(value.denominator)))
    if isinstance(value, SetList):
        return _set_list_to_om(value)
    if isinstance(value, Matrix):
        return _matrix_to_om(value)
    if isinstance(value, (list, tuple)):
        return _list_to_om(value)
    if isinstance(value, _OM_TYPES):
        return value
    if isinstance(value, dict):
        return _dict_to_om(value)
    raise TypeError(f"cannot convert {type(value).__qualname__} to OpenMath")
