"""An SCSCP session on an asyncio TCP connection, without the 40 ms trap.

GAP (and GAP's client) write each message in several small pieces with
Nagle's algorithm on. If the reading side delays its acknowledgements, each
piece after the first waits for the delayed-ACK timer: about 40 ms a message.
The reader cannot switch the writer's Nagle off, but it can acknowledge at
once: ``TCP_QUICKACK`` is set on every connection and set again after every
receive, because Linux leaves quick-ack mode on its own. Our own writes go
out with ``TCP_NODELAY`` and as one piece per message.

A large message (hundreds of kilobytes and more) is decoded in a thread, so
that one client sending tens of megabytes of XML does not stop every other
session for the seconds that takes; events keep their order, and the
connection is not read meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import Callable, Sequence

from scscp.protocol import (
    Connection,
    ConnectionClosed,
    Event,
    ProtocolError,
    Received,
    Role,
    Undecoded,
)

_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
# Messages larger than this (bytes) are decoded in a thread: about 10 ms of
# work in the loop at most, and a thread hop is nothing against it.
DECODE_INLINE_LIMIT = 256 * 1024


Item = Event | ProtocolError
"""What a stream delivers: an event, or the framing error that ended reading."""


class SCSCPStream(asyncio.Protocol):
    """Feeds a sans-IO Connection from a transport and delivers its events.

    Two ways to read, in order: ``next_event`` (pull, for the handshake),
    then ``deliver(handler)`` (push: the handler runs inside the transport's
    callback, saving a task switch per message on the hot path of a call).
    A framing error is delivered (or raised from ``next_event``) once, after
    the events that came before it; nothing is read after it.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        connection.decode_limit = DECODE_INLINE_LIMIT
        self.transport: asyncio.Transport | None = None
        self._events: deque[Item] = deque()
        self._handler: Callable[[Item], None] | None = None
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._socket: socket.socket | None = None
        self.closed = asyncio.Event()
        self._undecoded: deque[Received | ProtocolError] = deque()  # behind one in a thread
        self._decoding: asyncio.Task[None] | None = None
        self._pauses = 0  # reasons not to read now (a flooding client, a decode)
        self._lost = False  # the transport's connection_lost came

    # -- asyncio.Protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment] (uvloop's is not a subclass)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            self._socket = sock
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._quickack()

    def data_received(self, data: bytes) -> None:
        self._quickack()
        try:
            received: list[Received | ProtocolError] = list(self.connection.receive_data(data))
        except ProtocolError as exc:
            received = [exc]  # the connection reads nothing more after it
        self._receive(received)

    def eof_received(self) -> bool:
        self._receive(self.connection.receive_data(b""))
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._receive(self.connection.receive_data(b""))  # nothing new after EOF
        self._writable.set()
        self._lost = True
        if self._decoding is None:
            self._closed()

    def _closed(self) -> None:
        self.closed.set()
        if self._handler is None:
            self._readable.set()

    def _receive(self, received: Sequence[Received | ProtocolError]) -> None:
        """Deliver what came, but an Undecoded message and all behind it only once decoded."""
        if self._decoding is None and not any(isinstance(r, Undecoded) for r in received):
            self._push(received)  # type: ignore[arg-type] (no Undecoded among them)
            return
        self._undecoded.extend(received)
        if self._decoding is None:
            self.pause_reading()
            self._decoding = asyncio.ensure_future(self._decode_in_order())

    async def _decode_in_order(self) -> None:
        try:
            while self._undecoded:
                item = self._undecoded.popleft()
                if isinstance(item, Undecoded):
                    item = await asyncio.to_thread(self.connection.decode, item.payload)
                self._push([item])
        finally:
            self._decoding = None
            self.resume_reading()
            if self._lost:
                self._closed()  # the connection was lost while decoding

    def _push(self, items: Sequence[Item]) -> None:
        if self._handler is not None:
            for item in items:
                self._handler(item)
        elif items:
            self._events.extend(items)
            self._readable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- the API used by clients and servers ----------------------------------

    async def next_event(self) -> Event:
        """The next event; ConnectionClosed (repeatedly) once the peer is gone."""
        while not self._events:
            if self.closed.is_set():
                return ConnectionClosed()
            self._readable.clear()
            await self._readable.wait()
        item = self._events.popleft()
        if isinstance(item, ProtocolError):
            raise item
        return item

    def deliver(self, handler: Callable[[Item], None]) -> None:
        """From now on hand every item to ``handler`` as it arrives (queued ones first).

        The last item it sees is a Quit, ConnectionClosed or a ProtocolError;
        it must not block.
        """
        self._handler = handler
        while self._events:
            handler(self._events.popleft())

    def send(self, event: Event) -> None:
        """Write ``event`` at once (as one write). Raises ProtocolError if out of order."""
        data = self.connection.send(event)
        if self.transport is not None and not self.transport.is_closing():
            self.write(data)

    def write(self, data: bytes) -> None:
        """Put bytes on the transport (a subclass may count them)."""
        assert self.transport is not None
        self.transport.write(data)

    async def drain(self) -> None:
        """Wait while the peer reads slower than we write."""
        await self._writable.wait()

    def pause_reading(self) -> None:
        """Stop reading from the peer (TCP pushes back) until ``resume_reading``.

        Pauses nest: reading resumes when each has been resumed.
        """
        self._pauses += 1
        if self._pauses == 1 and self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        self._pauses -= 1
        if self._pauses == 0 and self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    @property
    def peer(self) -> str:
        name = self.transport.get_extra_info("peername") if self.transport else None
        return f"{name[0]}:{name[1]}" if name else "?"

    def _quickack(self) -> None:
        if self._socket is not None and _QUICKACK is not None:
            with contextlib.suppress(OSError):
                self._socket.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)


async def open_stream(
    host: str, port: int, *, role: Role = Role.CLIENT, **connection_options: object
) -> SCSCPStream:
    """Connect to ``host:port`` and return the stream (no handshake yet)."""
    loop = asyncio.get_running_loop()
    _, stream = await loop.create_connection(
        lambda: SCSCPStream(Connection(role, **connection_options)),  # type: ignore[arg-type]
        host,
        port,
    )
    return stream
