"""The OpenMath object model: one immutable class per OpenMath element.

Objects are frozen dataclasses so that they hash, compare by value and can be
shared between connections without copying. They carry no encoding: the XML
codec (``scscp.openmath.xml``) and the Python conversions
(``scscp.openmath.convert``) are separate modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class OMInteger:
    """``<OMI>``: an integer of any size."""

    value: int


@dataclass(frozen=True, slots=True)
class OMFloat:
    """``<OMF>``: an IEEE double."""

    value: float


@dataclass(frozen=True, slots=True)
class OMString:
    """``<OMSTR>``: a Unicode string."""

    value: str


@dataclass(frozen=True, slots=True)
class OMBytes:
    """``<OMB>``: a byte array (base64 in XML)."""

    value: bytes


@dataclass(frozen=True, slots=True)
class OMSymbol:
    """``<OMS>``: a symbol ``name`` of content dictionary ``cd``."""

    cd: str
    name: str
    cdbase: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class OMVariable:
    """``<OMV>``: a variable."""

    name: str


@dataclass(frozen=True, slots=True)
class OMReference:
    """``<OMR>``: a reference to an object elsewhere, e.g. an SCSCP cookie."""

    href: str


@dataclass(frozen=True, slots=True)
class OMApplication:
    """``<OMA>``: ``head`` applied to ``args``."""

    head: OMAny
    args: tuple[OMAny, ...] = ()


@dataclass(frozen=True, slots=True)
class OMAttribution:
    """``<OMATTR>``: ``obj`` with (key symbol, value) attribute pairs."""

    pairs: tuple[tuple[OMSymbol, OMAny], ...]
    obj: OMAny

    def get(self, cd: str, name: str) -> OMAny | None:
        """The value of the first attribute with key ``cd.name``, or None."""
        for key, value in self.pairs:
            if key.cd == cd and key.name == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class OMBinding:
    """``<OMBIND>``: a binder over variables and a body (lambda, forall ...)."""

    binder: OMAny
    variables: tuple[OMVariable, ...]
    body: OMAny


@dataclass(frozen=True, slots=True)
class OMError:
    """``<OME>``: an error symbol with arguments (usually one OMSTR)."""

    symbol: OMSymbol
    args: tuple[OMAny, ...] = ()


OMAny: TypeAlias = (
    OMInteger
    | OMFloat
    | OMString
    | OMBytes
    | OMSymbol
    | OMVariable
    | OMReference
    | OMApplication
    | OMAttribution
    | OMBinding
    | OMError
)
"""Any OpenMath object that can stand inside an ``<OMOBJ>``."""
