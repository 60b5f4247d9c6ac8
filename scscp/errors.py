"""Errors that users of the client see."""

from __future__ import annotations

from scscp.openmath import OMSymbol
from scscp.protocol import ProcedureTerminated, ProtocolError

__all__ = [
    "ProcedureError",
    "ProtocolError",
    "SCSCPConnectionError",
    "SCSCPError",
    "UnreadableReply",
]


class SCSCPError(Exception):
    """Base of every SCSCP error raised by this library."""


class SCSCPConnectionError(SCSCPError, ConnectionError):
    """The session could not be opened or ended before the answer came."""


class UnreadableReply(SCSCPError):
    """The server answered, but its reply is not OpenMath this library reads.

    ``payload`` holds the reply as it came (GAP, for one, answers
    ``get_transient_cd`` with raw XML).
    """

    def __init__(self, message: str, payload: bytes = b"") -> None:
        super().__init__(message)
        self.payload = payload


class ProcedureError(SCSCPError):
    """The server answered ``procedure_terminated``.

    ``symbol`` is the error symbol (``scscp1.error_runtime`` ...), ``message``
    its text, ``reply`` the whole message with its info attributes.
    """

    def __init__(self, reply: ProcedureTerminated) -> None:
        self.reply = reply
        self.symbol: OMSymbol = reply.error.symbol
        self.message = reply.message
        super().__init__(f"{self.symbol.cd}.{self.symbol.name}: {self.message}")
