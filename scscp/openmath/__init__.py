"""OpenMath objects, their XML encoding and their mapping to Python values.

``objects`` holds one frozen dataclass per OpenMath element; ``encode``/``decode`` turn them
into and out of OpenMath 2.0 XML (``decode`` refuses DTDs, oversized input and anything
malformed with ``OpenMathError``); ``to_python``/``from_python`` map the common cases (ints,
floats, strings, bytes, booleans, rationals, lists) to and from plain Python values.
``encode_binary``/``decode_binary`` do the same as ``encode``/``decode`` in the OpenMath 2.0
binary encoding; ``values`` holds the Python classes for GAP objects such as permutations.
"""

from .binary import decode_binary, encode_binary
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
    "decode_binary",
    "encode",
    "encode_binary",
    "from_python",
    "to_python",
]
