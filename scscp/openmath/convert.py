"""Conversions between OpenMath objects and plain Python values.

SCSCP procedures mostly exchange integers, strings, booleans, rationals and lists of those;
these two functions map exactly that subset and leave everything else as OpenMath objects,
so no information is lost or invented.
"""

from __future__ import annotations

from fractions import Fraction

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

__all__ = ["FALSE", "LIST", "RATIONAL", "TRUE", "from_python", "to_python"]

TRUE = OMSymbol("logic1", "true")
"""``logic1.true``: Python ``True``."""
FALSE = OMSymbol("logic1", "false")
"""``logic1.false``: Python ``False``."""
LIST = OMSymbol("list1", "list")
"""``list1.list``: the head of a list application."""
RATIONAL = OMSymbol("nums1", "rational")
"""``nums1.rational``: the head of a numerator/denominator application."""

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


def to_python(obj: OMAny) -> object:
    """The Python value of ``obj``, or ``obj`` itself when there is no natural equivalent.

    Lists are converted element by element, so a list may mix Python values and OpenMath
    objects. A rational with a zero denominator is not a number and stays an object.
    """
    if isinstance(obj, (OMInteger, OMFloat, OMString, OMBytes)):
        return obj.value
    if isinstance(obj, OMSymbol):
        if obj == TRUE:
            return True
        if obj == FALSE:
            return False
    elif isinstance(obj, OMApplication):
        head = obj.head
        if head == LIST:
            return [to_python(arg) for arg in obj.args]
        if head == RATIONAL and len(obj.args) == 2:
            num, den = obj.args
            if isinstance(num, OMInteger) and isinstance(den, OMInteger) and den.value != 0:
                return Fraction(num.value, den.value)
    return obj


def from_python(value: object) -> OMAny:
    """The OpenMath object for ``value``; OpenMath objects pass through unchanged.

    ``bool`` is tested before ``int`` because it is a subclass of it. A Fraction always
    becomes ``nums1.rational``, even with denominator 1, so the type survives a round trip.
    """
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, int):
        return OMInteger(int(value))
    if isinstance(value, float):
        return OMFloat(float(value))
    if isinstance(value, str):
        return OMString(str(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return OMBytes(bytes(value))
    if isinstance(value, Fraction):
        return OMApplication(RATIONAL, (OMInteger(value.numerator), OMInteger(value.denominator)))
    if isinstance(value, (list, tuple)):
        return OMApplication(LIST, tuple([from_python(item) for item in value]))
    if isinstance(value, _OM_TYPES):
        return value
    raise TypeError(f"cannot convert {type(value).__qualname__} to OpenMath")
