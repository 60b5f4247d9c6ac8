"""OpenMath objects, their XML encoding and their mapping to Python values.

``objects`` holds one frozen dataclass per OpenMath element; ``encode``/``decode`` turn them
into and out of OpenMath 2.0 XML (``decode`` refuses DTDs, oversized input and anything
malformed with ``OpenMathError``); ``to_python``/``from_python`` map the common cases (ints,
floats, strings, bytes, booleans, rationals, lists) to and from plain Python values.
"""

from .convert import from_python, to_python
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
from .xml import OpenMathError, decode, encode

__all__ = [
    "OMAny",
    "OMApplication",
    "OMAttribution",
    "OMBinding",
    "OMBytes",
    "OMError",
    "OMFloat",
    "OMInteger",
    "OMReference",
    "OMString",
    "OMSymbol",
    "OMVariable",
    "OpenMathError",
    "decode",
    "encode",
    "from_python",
    "to_python",
]
