"""SCSCP 1.3 as a sans-IO state machine, in the manner of h11.

Feed a ``Connection`` the bytes a peer sent and get events; hand it events
and get the bytes to write. No sockets and no event loop live here, so every
rule of the protocol can be tested with plain byte strings.
"""

from scscp.protocol.connection import SUPPORTED_VERSIONS, Connection, Role, State
from scscp.protocol.errors import ProtocolError
from scscp.protocol.events import (
    TRANSIENT_CD,
    BadMessage,
    ConnectionClosed,
    Event,
    Info,
    Message,
    ProcedureCall,
    ProcedureCompleted,
    ProcedureTerminated,
    Quit,
    Received,
    ReturnMode,
    Terminate,
    Undecoded,
    Version,
    Welcome,
)

__all__ = [
    "SUPPORTED_VERSIONS",
    "TRANSIENT_CD",
    "BadMessage",
    "Connection",
    "ConnectionClosed",
    "Event",
    "Info",
    "Message",
    "ProcedureCall",
    "ProcedureCompleted",
    "ProcedureTerminated",
    "ProtocolError",
    "Quit",
    "Received",
    "ReturnMode",
    "Role",
    "State",
    "Terminate",
    "Undecoded",
    "Version",
    "Welcome",
]
