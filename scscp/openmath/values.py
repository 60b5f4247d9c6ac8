"""Small Python value classes for GAP objects that have no natural Python type.

``to_python`` produces these from the OpenMath that GAP writes and ``from_python`` writes them
back in a form GAP's OpenMath reader evaluates to an equal object. They know nothing about
OpenMath themselves: the mapping lives in ``scscp.openmath.convert``.

Mutable containers (``SetList``, ``Matrix``) subclass ``list`` so that code written for plain
lists keeps working; everything else is an immutable, hashable value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar, TypeAlias

from .objects import OMSymbol

__all__ = [
    "INFINITY",
    "INTEGERS",
    "RATIONALS",
    "ComplexRational",
    "Cyclotomic",
    "FiniteField",
    "FiniteFieldElement",
    "Group",
    "Infinity",
    "Matrix",
    "Permutation",
    "PermutationGroup",
    "Polynomial",
    "PolynomialRing",
    "SetList",
]

Rational: TypeAlias = int | Fraction
"""An exact rational number: GAP's integers and fractions."""

RATIONALS = OMSymbol("setname1", "Q")
"""``setname1.Q``: the coefficient ring GAP writes for polynomials over the rationals."""
INTEGERS = OMSymbol("setname1", "Z")
"""``setname1.Z``: the ring of integers."""


class SetList(list):  # type: ignore[type-arg]
    """A set as GAP holds one: a list, encoded as ``set1.set`` (or ``set1.emptyset``).

    GAP writes every list it knows to be strictly sorted as a set, including ``[]``. A
    list subclass keeps the order GAP sent and allows unhashable members (lists, matrices),
    which a ``frozenset`` would not, and it compares equal to the plain list with the same
    entries. GAP's reader applies ``Set`` to it, which sorts and removes duplicates.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"SetList({list.__repr__(self)})"


class Matrix(list):  # type: ignore[type-arg]
    """A ``linalg2.matrix``: a list of rows (plain lists) that encodes back as a matrix.

    GAP reads a plain list of lists as the same matrix, so this class only exists to keep the
    OpenMath form on a round trip; it compares equal to the equivalent list of lists.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Matrix({list.__repr__(self)})"


class Infinity:
    """``nums1.infinity``, GAP's ``infinity``: greater than every number.

    Not ``math.inf``: that is a float and would go back to GAP as ``OMF INF``, a float
    infinity, which GAP does not consider equal to its ``infinity``. There is one instance.
    """

    __slots__ = ()
    _instance: ClassVar[Infinity | None] = None

    def __new__(cls) -> Infinity:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "INFINITY"

    def __reduce__(self) -> str:
        return "INFINITY"

    def __float__(self) -> float:
        return math.inf

    def __lt__(self, other: object) -> bool:
        return False

    def __le__(self, other: object) -> bool:
        return other is self

    def __gt__(self, other: object) -> bool:
        return other is not self

    def __ge__(self, other: object) -> bool:
        return True


INFINITY = Infinity()
"""The single ``Infinity`` value."""


@dataclass(frozen=True, slots=True, eq=False)
class Permutation:
    """A permutation of 1..n given by its image list, as ``permut1.permutation`` and
    GAP's ``ListPerm`` write it: ``images[i - 1]`` is the image of ``i``.

    Equality and hashing ignore trailing fixed points (GAP's ``()`` is ``[]`` and
    ``PermList([1, 2])`` is ``()`` too), while ``images`` keeps exactly what was sent, so a
    round trip reproduces the original OpenMath.
    """

    images: tuple[int, ...]

    def __post_init__(self) -> None:
        images = self.images
        if type(images) is not tuple:
            images = tuple(images)
            object.__setattr__(self, "images", images)
        n = len(images)
        seen = bytearray(n + 1)
        for image in images:
            if type(image) is not int or not 1 <= image <= n or seen[image]:
                raise ValueError(f"{images!r} is not a permutation of 1..{n}")
            seen[image] = 1

    @classmethod
    def from_cycles(cls, *cycles: Iterable[int]) -> Permutation:
        """The product of disjoint cycles, e.g. ``from_cycles((1, 2, 3), (4, 5))``."""
        mapping: dict[int, int] = {}
        for cycle in cycles:
            points = list(cycle)
            for i, point in enumerate(points):
                if point in mapping or type(point) is not int or point < 1:
                    raise ValueError(f"cycles {cycles!r} are not disjoint cycles of points >= 1")
                mapping[point] = points[(i + 1) % len(points)]
        degree = max(mapping, default=0)
        return cls(tuple(mapping.get(i, i) for i in range(1, degree + 1)))

    @property
    def degree(self) -> int:
        """The largest moved point (0 for the identity), GAP's ``LargestMovedPoint``."""
        images = self.images
        n = len(images)
        while n and images[n - 1] == n:
            n -= 1
        return n

    def _key(self) -> tuple[int, ...]:
        return self.images[: self.degree]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Permutation):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __call__(self, point: int) -> int:
        """The image of ``point`` (GAP's ``point ^ perm``)."""
        return self.images[point - 1] if 1 <= point <= len(self.images) else point

    def __mul__(self, other: Permutation) -> Permutation:
        """GAP's product: ``p * q`` applies ``p`` first, then ``q``."""
        if not isinstance(other, Permutation):
            return NotImplemented
        degree = max(len(self.images), len(other.images))
        return Permutation(tuple(other(self(i)) for i in range(1, degree + 1)))

    def inverse(self) -> Permutation:
        """The inverse permutation."""
        inverse = [0] * len(self.images)
        for i, image in enumerate(self.images, 1):
            inverse[image - 1] = i
        return Permutation(tuple(inverse))

    def cycles(self) -> list[tuple[int, ...]]:
        """The non-trivial cycles, each starting at its smallest point."""
        done: set[int] = set()
        result = []
        for start in range(1, len(self.images) + 1):
            if start in done or self(start) == start:
                continue
            cycle = [start]
            done.add(start)
            point = self(start)
            while point != start:
                cycle.append(point)
                done.add(point)
                point = self(point)
            result.append(tuple(cycle))
        return result

    def __str__(self) -> str:
        """GAP's cycle notation, e.g. ``(1,2,3)(4,5)``."""
        return "".join("(" + ",".join(map(str, c)) + ")" for c in self.cycles()) or "()"


@dataclass(frozen=True, slots=True)
class PermutationGroup:
    """A permutation group given by generators: ``permgp1.group`` with
    ``permutation1.right_compose``, as GAP writes every permutation group.

    Equality compares the generator tuples, not the groups they generate.
    """

    generators: tuple[Permutation, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """Any other group given by generators: GAP's ``group1.group_by_generators`` (matrix
    groups, for one). Generators are Python values (e.g. ``Matrix``), so such a group is
    hashable only when they are."""

    generators: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class FiniteField:
    """GF(p^n): ``setname2.GFp`` (n = 1) or ``setname2.GFpn``; GAP writes these as the
    coefficient ring of polynomials over finite fields."""

    characteristic: int
    degree: int = 1

    @property
    def order(self) -> int:
        """The number of elements, p^n."""
        return self.characteristic**self.degree


@dataclass(frozen=True, slots=True)
class FiniteFieldElement:
    """GAP's ``Z(order)^exponent``, or the zero of GF(order) when ``exponent`` is None.

    GAP writes a finite field element as ``arith1.power(finfield1.primitive_element(q), k)``
    (``arith1.times(..., 0)`` for zero) where q is the size of the element's default field
    and ``Z(q)`` is GAP's (Conway polynomial) primitive root; so the pair (q, k) is all GAP
    needs to rebuild the element. Equality compares that representation: ``Z(4)^3`` and
    ``Z(2)^0`` are the same element of GAP but different values here.
    """

    order: int
    exponent: int | None

    def __post_init__(self) -> None:
        if type(self.order) is not int or self.order < 2:
            raise ValueError(f"finite field order {self.order!r} is not an integer >= 2")
        if self.exponent is not None and type(self.exponent) is not int:
            raise ValueError(f"exponent {self.exponent!r} is not an int or None")

    @classmethod
    def zero(cls, order: int) -> FiniteFieldElement:
        """The zero of GF(order)."""
        return cls(order, None)

    @property
    def is_zero(self) -> bool:
        """Whether this is the zero of the field."""
        return self.exponent is None


@dataclass(frozen=True, slots=True)
class ComplexRational:
    """An exact complex number with rational parts (GAP's Gaussian rationals,
    ``complex1.complex_cartesian``) that a Python ``complex`` cannot hold exactly.

    ``to_python`` returns a plain ``complex`` whenever both parts fit a float exactly and
    this class otherwise (e.g. for ``1/3 + E(4)``), so no precision is lost silently.
    """

    real: Rational | float
    imag: Rational | float

    def __complex__(self) -> complex:
        return complex(float(self.real), float(self.imag))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ComplexRational):
            return self.real == other.real and self.imag == other.imag
        if isinstance(other, (complex, int, float, Fraction)):
            return self.real == other.real and self.imag == other.imag
        return NotImplemented

    def __hash__(self) -> int:
        # Equal to a complex exactly when both parts are; hash like it then.
        try:
            value = complex(float(self.real), float(self.imag))
        except OverflowError:
            return hash((self.real, self.imag))
        if value == self:
            return hash(value)
        return hash((self.real, self.imag))


@dataclass(frozen=True, slots=True)
class Cyclotomic:
    """A cyclotomic number ``sum(c * E(conductor)^k for k, c in terms)``.

    GAP writes non-Gaussian cyclotomics as ``arith1.plus`` of ``arith1.times(c,
    algnums.NthRootOfUnity(n, k))`` terms; ``terms`` keeps the (k, c) pairs in that order.
    """

    conductor: int
    terms: tuple[tuple[int, Rational], ...]

    def __complex__(self) -> complex:
        n = self.conductor
        return complex(
            sum(
                float(c) * complex(math.cos(2 * math.pi * k / n), math.sin(2 * math.pi * k / n))
                for k, c in self.terms
            )
        )


@dataclass(frozen=True, slots=True)
class PolynomialRing:
    """A polynomial ring over ``coefficients`` in ``rank`` indeterminates.

    ``names`` holds the variable names when the ring came as ``polyd1.poly_ring_d_named``
    (GAP's univariate rings) and is None for ``polyd1.poly_ring_d`` (GAP's multivariate
    rings, which carry only the number of indeterminates). ``coefficients`` is a Python value
    or OpenMath object such as ``RATIONALS`` or ``FiniteField(5)``.
    """

    coefficients: object
    rank: int
    names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if type(self.rank) is not int or self.rank < 1:
            raise ValueError(f"polynomial ring rank {self.rank!r} is not a positive int")
        if self.names is not None and len(self.names) != self.rank:
            raise ValueError(f"{len(self.names)} names for a ring of rank {self.rank}")

    @classmethod
    def named(cls, coefficients: object, *names: str) -> PolynomialRing:
        """The ring over ``coefficients`` with the named indeterminates."""
        return cls(coefficients, len(names), tuple(names))


@dataclass(frozen=True, slots=True)
class Polynomial:
    """A polynomial in distributed form, ``polyd1.DMP(ring, polyd1.SDMP(term...))``.

    Each term is ``(coefficient, exponents)`` with one exponent per indeterminate of the
    ring, in the order they were sent (GAP sends the leading term first). GAP's reader
    builds the polynomial in its indeterminates 1..rank.
    """

    ring: PolynomialRing
    terms: tuple[tuple[object, tuple[int, ...]], ...]

    def __post_init__(self) -> None:
        for term in self.terms:
            exponents = term[1]
            if len(exponents) != self.ring.rank or not all(
                type(e) is int and e >= 0 for e in exponents
            ):
                raise ValueError(
                    f"term {term!r} needs {self.ring.rank} non-negative integer exponents"
                )
