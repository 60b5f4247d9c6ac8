"""Events of an SCSCP conversation: what a connection reads and what it writes.

The same classes travel both ways, as in h11: a peer's bytes become events,
and events handed to ``Connection.send`` become bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from scscp.openmath import OMAny, OMError, OMString, OMSymbol

TRANSIENT_CD = "scscp_transient_1"


class ReturnMode(Enum):
    """How the caller wants the result (exactly one per call, SCSCP 1.3 §5)."""

    OBJECT = "option_return_object"
    COOKIE = "option_return_cookie"
    NOTHING = "option_return_nothing"


Attributes = tuple[tuple[OMSymbol, OMAny], ...]
"""OMATP pairs this library does not interpret, carried along unchanged."""


@dataclass(frozen=True, slots=True)
class Welcome:
    """The server's first message: who it is and which versions it speaks."""

    service_name: str
    service_version: str
    service_id: str
    versions: tuple[str, ...] = ("1.3",)


@dataclass(frozen=True, slots=True)
class Version:
    """Client: the version it asks for. Server: the version it confirms."""

    version: str


@dataclass(frozen=True, slots=True)
class Quit:
    """Either side ends the session, optionally saying why."""

    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Info:
    """A free-text note from the peer (``<?scscp info="..." ?>``)."""

    text: str


@dataclass(frozen=True, slots=True)
class Terminate:
    """The client asks the server to interrupt the call ``call_id``."""

    call_id: str


@dataclass(frozen=True, slots=True)
class ProcedureCall:
    """``scscp1.procedure_call``: apply ``procedure`` to ``args``."""

    call_id: str
    procedure: OMSymbol
    args: tuple[OMAny, ...] = ()
    return_mode: ReturnMode = ReturnMode.OBJECT
    runtime_ms: int | None = None
    min_memory: int | None = None
    max_memory: int | None = None
    debuglevel: int | None = None
    extra: Attributes = ()

    @property
    def name(self) -> str:
        return self.procedure.name


@dataclass(frozen=True, slots=True)
class ProcedureCompleted:
    """``scscp1.procedure_completed``; ``result`` is None for return-nothing."""

    call_id: str
    result: OMAny | None = None
    info_runtime: int | None = None
    info_memory: int | None = None
    info_message: str | None = None
    extra: Attributes = ()


@dataclass(frozen=True, slots=True)
class ProcedureTerminated:
    """``scscp1.procedure_terminated``: the call failed with ``error``."""

    call_id: str
    error: OMError
    info_runtime: int | None = None
    info_memory: int | None = None
    info_message: str | None = None
    extra: Attributes = field(default=())

    @classmethod
    def because(
        cls, call_id: str, message: str, kind: str = "error_system_specific"
    ) -> ProcedureTerminated:
        """A reply saying ``message``; ``kind`` is an scscp1 error symbol name."""
        return cls(call_id, OMError(OMSymbol("scscp1", kind), (OMString(message),)))

    @property
    def message(self) -> str:
        """The error's text, or a rendering of its arguments when there is none."""
        texts = [a.value for a in self.error.args if isinstance(a, OMString)]
        if texts:
            return " ".join(texts)
        return " ".join(_describe(a) for a in self.error.args) or self.error.symbol.name


def _describe(obj: OMAny) -> str:
    if isinstance(obj, OMSymbol):
        return f"{obj.cd}.{obj.name}"
    return repr(obj)


@dataclass(frozen=True, slots=True)
class BadMessage:
    """A framed message whose content could not be understood.

    The session survives it; a server answers it with ``procedure_terminated``
    (under ``call_id`` when one could be read, else ``"N/A"`` as GAP does).
    ``payload`` is the message as it came, for whoever can make more of it.
    """

    reason: str
    call_id: str | None = None
    payload: bytes = field(default=b"", repr=False)


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The peer closed its end (end of file)."""


Message = ProcedureCall | ProcedureCompleted | ProcedureTerminated


@dataclass(frozen=True, slots=True)
class Undecoded:
    """A message framed but not decoded, because it is larger than the connection's
    ``decode_limit``: the I/O layer turns it into its event with
    ``Connection.decode(payload)``, where it likes (a thread: decoding tens of
    megabytes of XML takes seconds). Its place among the events is kept.
    """

    payload: bytes = field(repr=False)


Event = Welcome | Version | Quit | Info | Terminate | Message | BadMessage | ConnectionClosed
Received = Event | Undecoded  # what ``Connection.receive_data`` returns
