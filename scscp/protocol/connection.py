"""The sans-IO SCSCP session: bytes in, events out; events in, bytes out.

A ``Connection`` knows the order of a session (welcome, version, messages,
quit) for one side, client or server, and nothing of sockets or event loops.
``receive_data`` returns the events that the bytes complete; ``send`` returns
the bytes of one event, a whole message in one piece so that the transport
writes it with one system call.
"""

from __future__ import annotations

import dataclasses
from enum import Enum, auto

from scscp.openmath import OpenMathError, decode, decode_binary, encode, encode_binary
from scscp.protocol.errors import ProtocolError
from scscp.protocol.events import (
    BadMessage,
    ConnectionClosed,
    Event,
    Info,
    ProcedureCall,
    ProcedureCompleted,
    ProcedureTerminated,
    Quit,
    Received,
    Terminate,
    Undecoded,
    Version,
    Welcome,
)
from scscp.protocol.framing import Block, Deframer, Instruction, format_pi, frame
from scscp.protocol.messages import from_openmath, to_openmath

SUPPORTED_VERSIONS = ("1.3", "1.2", "1.1", "1.0")
BINARY_STARTS = (b"\x18", b"\x58")  # a binary OpenMath object: OpenMath 1, or 2 with a version
DEFAULT_MAX_MESSAGE = 64 * 2**20


class Role(Enum):
    CLIENT = auto()
    SERVER = auto()


class State(Enum):
    GREETING = auto()  # server: welcome not sent yet; client: welcome not received
    NEGOTIATING = auto()  # waiting for the version request or its confirmation
    READY = auto()
    BROKEN = auto()  # the peer broke the protocol: nothing more is read, a quit may be sent
    CLOSED = auto()


class Connection:
    """One side of one SCSCP session."""

    def __init__(
        self,
        role: Role,
        *,
        versions: tuple[str, ...] = SUPPORTED_VERSIONS,
        max_message_size: int = DEFAULT_MAX_MESSAGE,
        binary: bool = False,
        decode_limit: int | None = None,
    ) -> None:
        self.role = role
        self.binary = binary  # a client: send calls as binary OpenMath
        self._binary_calls: set[str] = set()  # a server: calls to answer in binary
        self.versions = versions
        self.state = State.GREETING
        self.version: str | None = None
        self.welcome: Welcome | None = None
        self._requested: str | None = None
        self._max_message = max_message_size
        self._deframer = Deframer(max_message_size)
        # Messages larger than this (bytes) come out as Undecoded, for the I/O
        # layer to decode off its event loop; None: every message is decoded here.
        self.decode_limit = decode_limit

    # -- bytes in, events out ------------------------------------------------

    def receive_data(self, data: bytes) -> list[Received]:
        """Events completed by ``data``; ``b""`` means the peer closed.

        Raises ProtocolError when the peer breaks framing or session order;
        the connection is then BROKEN and can only send its quit.
        """
        if self.state in (State.CLOSED, State.BROKEN):
            return []
        if not data:
            self.state = State.CLOSED
            return [ConnectionClosed()]
        events: list[Received] = []
        try:
            for unit in self._deframer.feed(data):
                event = self._block(unit) if isinstance(unit, Block) else self._instruction(unit)
                if event is not None:
                    events.append(event)
                if self.state is State.CLOSED:
                    break
        except ProtocolError:
            self.state = State.BROKEN
            raise
        return events

    def _instruction(self, pi: Instruction) -> Event | None:
        attrs = pi.attrs
        if pi.keyword == "quit":
            self.state = State.CLOSED
            return Quit(attrs.get("reason"))
        if pi.keyword == "terminate":
            return Terminate(attrs.get("call_id", "")) if self.role is Role.SERVER else None
        if pi.keyword is not None:
            return None  # ack and other unknown keywords are ignored (1.3 §3)
        if "service_name" in attrs:
            return self._welcome_received(attrs)
        if "version" in attrs:
            return self._version_received(attrs["version"])
        if "info" in attrs:
            return Info(attrs["info"])
        return None

    def _welcome_received(self, attrs: dict[str, str]) -> Welcome:
        if self.role is not Role.CLIENT or self.state is not State.GREETING or self.welcome:
            raise ProtocolError("unexpected connection initiation message")
        self.welcome = Welcome(
            attrs["service_name"],
            attrs.get("service_version", ""),
            attrs.get("service_id", ""),
            tuple(attrs.get("scscp_versions", "1.0").split()),
        )
        return self.welcome

    def _version_received(self, version: str) -> Version:
        if self.state is not State.NEGOTIATING:
            raise ProtocolError("version message out of order")
        if self.role is Role.CLIENT:
            if version != self._requested:
                raise ProtocolError(f"asked for version {self._requested}, server said {version}")
            self.version = version
            self.state = State.READY
        return Version(version)

    def _block(self, block: Block) -> Received:
        if self.state is not State.READY:
            raise ProtocolError("a message arrived before the version was agreed")
        if self.decode_limit is not None and len(block.payload) > self.decode_limit:
            return Undecoded(block.payload)
        return self.decode(block.payload)

    def decode(self, payload: bytes) -> Event:
        """The event a message's payload stands for (an Undecoded one's, say).

        It changes no state but the note of which calls came in binary (a set
        insertion, for a call that no one can answer yet), so an I/O layer may
        run it in another thread while the connection goes on sending.
        """
        body = payload.strip(b" \t\r\n")  # neither is a binary token byte
        binary = body[:1] in BINARY_STARTS
        try:
            obj = (
                decode_binary(body, max_size=self._max_message)
                if binary
                else decode(body, max_size=self._max_message)
            )
            message = from_openmath(obj)
        except OpenMathError as exc:
            return BadMessage(f"invalid OpenMath: {exc}", payload=payload)
        if isinstance(message, BadMessage):
            return dataclasses.replace(message, payload=payload)
        expected = (
            ProcedureCall
            if self.role is Role.SERVER
            else (
                ProcedureCompleted,
                ProcedureTerminated,
            )
        )
        if not isinstance(message, expected):
            return BadMessage(
                f"a {self.role.name.lower()} does not accept {type(message).__name__}",
                message.call_id,
            )
        if binary and self.role is Role.SERVER:
            self._binary_calls.add(message.call_id)  # answered in the encoding it came in
        return message

    # -- events in, bytes out ------------------------------------------------

    def send(self, event: Event) -> bytes:
        """The bytes of ``event``. Raises ProtocolError when out of order."""
        closed = self.state is State.CLOSED
        if closed or (self.state is State.BROKEN and not isinstance(event, Quit)):
            raise ProtocolError("the session is closed")
        if isinstance(event, Welcome):
            self._expect(Role.SERVER, State.GREETING, event)
            self.state = State.NEGOTIATING
            return format_pi(
                service_name=event.service_name,
                service_version=event.service_version,
                service_id=event.service_id,
                scscp_versions=" ".join(event.versions),
            )
        if isinstance(event, Version):
            return self._send_version(event.version)
        if isinstance(event, Quit):
            self.state = State.CLOSED
            return format_pi("quit", reason=event.reason) if event.reason else format_pi("quit")
        if isinstance(event, Info):
            return format_pi(info=event.text)
        if isinstance(event, Terminate):
            self._expect(Role.CLIENT, State.READY, event)
            return format_pi("terminate", call_id=event.call_id)
        if isinstance(event, (ProcedureCall, ProcedureCompleted, ProcedureTerminated)):
            role = Role.CLIENT if isinstance(event, ProcedureCall) else Role.SERVER
            self._expect(role, State.READY, event)
            if role is Role.CLIENT:
                binary = self.binary
            else:
                binary = event.call_id in self._binary_calls
                self._binary_calls.discard(event.call_id)
            tree = to_openmath(event)
            return frame(encode_binary(tree) if binary else encode(tree))
        raise ProtocolError(f"cannot send {type(event).__name__}")

    def _send_version(self, version: str) -> bytes:
        if self.role is Role.CLIENT:
            if self.state is not State.GREETING or self.welcome is None:
                raise ProtocolError("a client asks for a version after the welcome")
            self._requested = version
            self.state = State.NEGOTIATING
        else:
            self._expect(Role.SERVER, State.NEGOTIATING, Version(version))
            if version not in self.versions:
                raise ProtocolError(f"version {version} is not supported here")
            self.version = version
            self.state = State.READY
        return format_pi(version=version)

    def _expect(self, role: Role, state: State, event: Event) -> None:
        if self.role is not role or self.state is not state:
            raise ProtocolError(
                f"a {self.role.name.lower()} in state {self.state.name} cannot send "
                f"{type(event).__name__}"
            )

    # -- negotiation helpers -------------------------------------------------

    def choose_version(self) -> Version | None:
        """Client: the highest version both sides speak, or None."""
        offered = self.welcome.versions if self.welcome else ()
        common = [v for v in self.versions if v in offered]
        return Version(max(common, key=_version_key)) if common else None

    def accepts(self, version: str) -> bool:
        """Server: whether a requested version can be confirmed."""
        return version in self.versions


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())
