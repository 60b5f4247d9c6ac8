"""An asyncio SCSCP server: sessions, negotiation and concurrent calls.

The server owns the protocol; what a call computes is the ``handler``'s
business (a Python function table, or the gateway's worker pool). Calls of
one session run concurrently and each gets exactly one reply: the handler's,
or an ``error_system_specific`` one when the handler fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from scscp.protocol import (
    SUPPORTED_VERSIONS,
    BadMessage,
    Connection,
    ConnectionClosed,
    ProcedureCall,
    ProcedureCompleted,
    ProcedureTerminated,
    ProtocolError,
    Quit,
    Role,
    Terminate,
    Version,
    Welcome,
)
from scscp.protocol.connection import DEFAULT_MAX_MESSAGE
from scscp.stream import Item, SCSCPStream

log = logging.getLogger(__name__)

Reply = ProcedureCompleted | ProcedureTerminated
Handler = Callable[[ProcedureCall], Awaitable[Reply]]
HANDSHAKE_TIMEOUT = 30.0
SHUTDOWN_GRACE = 10.0  # seconds for interrupted calls to be answered at shutdown
SHUTDOWN = Quit("the server is shutting down")
# Calls one session may have running or queued; past it the server stops reading from
# that client (TCP pushes back), so that no client can fill the queue or the memory.
MAX_CALLS_PER_SESSION = 32


@dataclass(slots=True)
class ServerStats:
    """Connection and byte counts: plain integers, cheap to bump, read by metrics."""

    accepted: int = 0  # connections accepted since the start
    open: int = 0  # connections open now
    received: int = 0  # bytes read from clients
    sent: int = 0  # bytes written to clients


class Server:
    """Serves SCSCP sessions on a TCP port, handing every call to ``handler``."""

    def __init__(
        self,
        handler: Handler,
        *,
        service_name: str,
        service_version: str,
        versions: tuple[str, ...] = SUPPORTED_VERSIONS,
        max_message_size: int = DEFAULT_MAX_MESSAGE,
    ) -> None:
        self.handler = handler
        self.service_name = service_name
        self.service_version = service_version
        self.versions = versions
        self.max_message_size = max_message_size
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        # Sessions past the handshake, and the future that ends each.
        self._session_ends: dict[asyncio.Task[None], asyncio.Future[Item]] = {}
        self._calls: set[asyncio.Task[None]] = set()
        self.stats = ServerStats()
        self.host = ""
        self.port = 0

    async def start(self, host: str, port: int, *, accept: bool = True) -> None:
        """Listen on ``host:port`` (port 0 picks a free one, see ``self.port``).

        With ``accept=False`` the address is taken (so a bad one fails now)
        but sessions start only at ``accept()``.
        """
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._new_stream, host, port, start_serving=accept)
        self.host, self.port = self._server.sockets[0].getsockname()[:2]

    async def accept(self) -> None:
        """Start accepting sessions on the address taken by ``start``."""
        assert self._server is not None, "start() first"
        await self._server.start_serving()

    async def close(self) -> None:
        """Stop listening and end every session.

        Calls in flight are interrupted and answered ``procedure_terminated``,
        then each client is told ``quit`` with the reason.
        """
        if self._server is not None:
            self._server.close()
        for task in self._sessions:
            ended = self._session_ends.get(task)
            if ended is None:
                task.cancel()  # still in its handshake: nothing to answer
            elif not ended.done():
                ended.set_result(SHUTDOWN)
        try:
            async with asyncio.timeout(SHUTDOWN_GRACE):
                await asyncio.gather(*self._sessions, return_exceptions=True)
        except TimeoutError:
            log.warning("sessions did not end within %ss; closing them", SHUTDOWN_GRACE)
        for task in (*self._sessions, *self._calls):
            task.cancel()
        await asyncio.gather(*self._sessions, *self._calls, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def _new_stream(self) -> SCSCPStream:
        stream = _ServerStream(
            Connection(Role.SERVER, versions=self.versions, max_message_size=self.max_message_size)
        )
        stream.stats = self.stats
        stream.on_connect = self._spawn_session
        return stream

    def _spawn_session(self, stream: SCSCPStream) -> None:
        task = asyncio.create_task(self._session(stream))
        self._sessions.add(task)
        task.add_done_callback(self._sessions.discard)

    async def _session(self, stream: SCSCPStream) -> None:
        peer = stream.peer
        try:
            if not await self._negotiate(stream):
                return
            await self._serve_calls(stream)
        except ProtocolError as exc:
            log.info("session with %s ended by a protocol error: %s", peer, exc)
            _quietly_send(stream, Quit(str(exc)))
        except TimeoutError:
            log.info("session with %s: no version request in %ss", peer, HANDSHAKE_TIMEOUT)
        finally:
            stream.close()

    async def _negotiate(self, stream: SCSCPStream) -> bool:
        stream.send(
            Welcome(
                self.service_name,
                self.service_version,
                f"{self.host}:{self.port}:{os.getpid()}",
                self.versions,
            )
        )
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            request = await stream.next_event()
        if not isinstance(request, Version):
            return False
        if not stream.connection.accepts(request.version):
            stream.send(Quit("not supported version"))
            return False
        stream.send(request)
        return True

    async def _serve_calls(self, stream: SCSCPStream) -> None:
        """Start a task per call as it arrives; return when the session ends.

        ``terminate`` cancels the named call, which is then answered with
        ``procedure_terminated``; calls still running when the client leaves
        are cancelled too, since nobody is left to read their answers. When
        the server shuts down, running calls are answered and the client is
        told ``quit``.
        """
        calls: dict[str, asyncio.Task[None]] = {}
        stopped: dict[str, str] = {}  # call_id -> why it was interrupted
        ended: asyncio.Future[Item] = asyncio.get_running_loop().create_future()
        session = asyncio.current_task()
        assert session is not None
        self._session_ends[session] = ended

        def finished(task: asyncio.Task[None], call_id: str) -> None:
            calls.pop(call_id, None)
            if len(calls) == MAX_CALLS_PER_SESSION - 1:
                stream.resume_reading()
            if task.cancelled() and call_id in stopped:
                # Stopped before it ever ran (a terminate in the same read as
                # its call): ``_answer`` could not reply, so answer here.
                _quietly_send(stream, ProcedureTerminated.because(call_id, stopped.pop(call_id)))

        def on_item(item: Item) -> None:
            if isinstance(item, ProcedureCall):
                if item.call_id in calls:
                    _quietly_send(
                        stream,
                        ProcedureTerminated.because(
                            item.call_id, f"call_id {item.call_id!r} is already in use"
                        ),
                    )
                    return
                task = asyncio.create_task(self._answer(stream, item, stopped))
                calls[item.call_id] = task
                self._calls.add(task)
                task.add_done_callback(self._calls.discard)
                task.add_done_callback(lambda t, cid=item.call_id: finished(t, cid))
                if len(calls) >= MAX_CALLS_PER_SESSION:
                    stream.pause_reading()  # a client that floods waits, others do not
            elif isinstance(item, Terminate):
                task = calls.get(item.call_id)
                if task is not None and item.call_id not in stopped:
                    stopped[item.call_id] = "the call was terminated at the client's request"
                    task.cancel()
            elif isinstance(item, BadMessage):
                _quietly_send(
                    stream,
                    ProcedureTerminated.because(
                        item.call_id or "N/A", f"bad message: {item.reason}"
                    ),
                )
            elif isinstance(item, (Quit, ConnectionClosed, ProtocolError)) and not ended.done():
                ended.set_result(item)

        stream.deliver(on_item)
        try:
            last = await ended
        finally:
            del self._session_ends[session]
        if last is SHUTDOWN:
            for call_id, task in calls.items():
                stopped[call_id] = "the server is shutting down; the call was not completed"
                task.cancel()
            await asyncio.gather(*calls.values(), return_exceptions=True)
            _quietly_send(stream, SHUTDOWN)
            return
        for task in calls.values():
            task.cancel()  # the client is gone: nobody reads these answers
        if isinstance(last, ProtocolError):
            raise last

    async def _answer(
        self, stream: SCSCPStream, call: ProcedureCall, stopped: dict[str, str]
    ) -> None:
        try:
            reply = await self.handler(call)
        except asyncio.CancelledError:
            if call.call_id not in stopped:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            reply = ProcedureTerminated.because(call.call_id, stopped.pop(call.call_id))
        except Exception as exc:  # the handler's bug must not cost the caller its answer
            log.exception("handler failed on %s", call.name)
            reply = ProcedureTerminated.because(call.call_id, f"internal error: {exc}")
        _quietly_send(stream, reply)
        await stream.drain()


class _ServerStream(SCSCPStream):
    """A stream that tells the server when its connection is made, and counts for it."""

    on_connect: Callable[[SCSCPStream], None]
    stats: ServerStats

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.stats.accepted += 1
        self.stats.open += 1
        super().connection_made(transport)
        self.on_connect(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.open -= 1
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.stats.received += len(data)
        super().data_received(data)

    def write(self, data: bytes) -> None:
        self.stats.sent += len(data)
        super().write(data)


def _quietly_send(
    stream: SCSCPStream, event: Quit | ProcedureCompleted | ProcedureTerminated
) -> None:
    """Send unless the session is already over (the peer left: nobody to tell)."""
    with contextlib.suppress(ProtocolError):
        stream.send(event)
