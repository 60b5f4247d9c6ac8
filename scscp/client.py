"""SCSCP clients: ``Client`` on asyncio and ``BlockingClient`` for scripts.

One connection carries any number of concurrent calls: each has its own
``call_id`` and its reply is matched by it, so calls pipeline against servers
that answer out of order (the gateway) and queue against those that do not
(GAP itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections.abc import Coroutine, Iterable
from types import TracebackType
from typing import Any, Self, TypeVar

from asyncio_pool import AioPool  # type: ignore[import-untyped]

from scscp.endpoint import DEFAULT_PORT
from scscp.errors import ProcedureError, SCSCPConnectionError, UnreadableReply
from scscp.openmath import OMAny, OMSymbol, from_python, to_python
from scscp.protocol import (
    SUPPORTED_VERSIONS,
    TRANSIENT_CD,
    BadMessage,
    ConnectionClosed,
    Info,
    ProcedureCall,
    ProcedureCompleted,
    ProcedureTerminated,
    ProtocolError,
    Quit,
    ReturnMode,
    Terminate,
    Version,
    Welcome,
)
from scscp.stream import Item, SCSCPStream, open_stream

log = logging.getLogger(__name__)
Reply = ProcedureCompleted | ProcedureTerminated
_ids = itertools.count(1)
_NOTHING = object()


class Client:
    """An open, negotiated SCSCP session. Create it with ``Client.connect``."""

    def __init__(self, stream: SCSCPStream, welcome: Welcome) -> None:
        self.stream = stream
        self.welcome = welcome
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._prefix = f"py{os.getpid()}.{next(_ids)}."
        self._counter = itertools.count(1)
        self._closed_reason: str | None = None
        stream.deliver(self._on_item)

    @classmethod
    async def connect(
        cls,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        timeout: float = 10.0,
        versions: tuple[str, ...] = SUPPORTED_VERSIONS,
        binary: bool = False,
    ) -> Self:
        """Open a session: TCP connect, read the welcome, agree on a version.

        ``binary``: send calls as binary OpenMath (servers answer in kind).
        """
        try:
            async with asyncio.timeout(timeout):
                stream = await open_stream(host, port, versions=versions, binary=binary)
                try:
                    welcome = await _negotiate(stream)
                except BaseException:
                    stream.abort()
                    raise
        except (OSError, TimeoutError) as exc:
            reason = str(exc) or f"no welcome within {timeout} s"
            raise SCSCPConnectionError(
                f"cannot open an SCSCP session with {host}:{port}: {reason}"
            ) from exc
        return cls(stream, welcome)

    @property
    def version(self) -> str | None:
        return self.stream.connection.version

    @property
    def is_closed(self) -> bool:
        return self._closed_reason is not None or self.stream.closed.is_set()

    def new_call_id(self) -> str:
        return f"{self._prefix}{next(self._counter)}"

    async def call(
        self,
        name: str,
        *args: object,
        cd: str = TRANSIENT_CD,
        return_mode: ReturnMode = ReturnMode.OBJECT,
        runtime_ms: int | None = None,
    ) -> Any:
        """Call ``name(*args)`` and return the result as a Python value.

        Arguments are converted with ``from_python`` (OpenMath objects pass
        unchanged); results with ``to_python``. Raises ProcedureError when the
        server answers ``procedure_terminated``.
        """
        call = ProcedureCall(
            self.new_call_id(),
            OMSymbol(cd, name),
            tuple(from_python(a) for a in args),
            return_mode,
            runtime_ms=runtime_ms,
        )
        reply = await self.request(call)
        if isinstance(reply, ProcedureTerminated):
            raise ProcedureError(reply)
        return None if reply.result is None else to_python(reply.result)

    async def map(
        self, name: str, arguments: Iterable[object], *, concurrency: int = 16, **options: Any
    ) -> list[Any]:
        """``name(a)`` for each ``a`` of ``arguments``, at most ``concurrency`` in flight.

        Results come in the order of ``arguments``; a call the server refuses
        stands in the list as its ProcedureError, and the others go on. This
        is the bounded fan-out asyncio-pool serves better than a TaskGroup
        with a Semaphore: its ``map`` draws the arguments lazily and keeps only
        ``concurrency`` tasks alive (a batch of 10^6 orders is not 10^6 tasks
        waiting on a semaphore), and one failure does not cancel its siblings.
        A lost session still raises.
        """
        pending = iter(arguments)
        first = next(pending, _NOTHING)
        if first is _NOTHING:
            return []  # asyncio-pool's map cannot wait on nothing
        async with AioPool(size=concurrency) as pool:
            results = await pool.map(
                lambda a: self.call(name, a, **options), itertools.chain([first], pending)
            )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, ProcedureError):
                raise result
        return results

    async def request(self, call: ProcedureCall) -> Reply:
        """Send ``call`` and wait for its reply, whichever kind it is."""
        if call.call_id in self._pending:
            raise ValueError(f"call_id {call.call_id!r} is already in use on this session")
        if self.is_closed:
            raise SCSCPConnectionError(self._closed_reason or "the session is closed")
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[call.call_id] = future
        try:
            self.stream.send(call)
            await self.stream.drain()
            return await future
        finally:
            self._pending.pop(call.call_id, None)

    def terminate(self, call_id: str) -> None:
        """Ask the server to interrupt call ``call_id``; its reply still comes."""
        self.stream.send(Terminate(call_id))

    async def close(self, reason: str | None = None) -> None:
        """Say quit and close; pending calls fail with SCSCPConnectionError."""
        if not self.stream.closed.is_set():
            with contextlib.suppress(ProtocolError):
                self.stream.send(Quit(reason))
            self.stream.close()
        self._end("the session was closed by the client")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, *exc: type[BaseException] | BaseException | TracebackType | None
    ) -> None:
        await self.close()

    def _on_item(self, item: Item) -> None:
        """Runs in the transport's callback: match replies to calls, notice the end."""
        if isinstance(item, (ProcedureCompleted, ProcedureTerminated)):
            future = self._pending.get(item.call_id)
            if future is not None and not future.done():
                future.set_result(item)
            else:
                log.warning("reply for unknown call_id %r ignored", item.call_id)
        elif isinstance(item, Quit):
            self._end(f"the server quit: {item.reason or 'no reason given'}")
        elif isinstance(item, ConnectionClosed):
            self._end("the server closed the connection")
        elif isinstance(item, ProtocolError):
            self._end(f"protocol error from the server: {item}")
        elif isinstance(item, Info):
            log.info("server info: %s", item.text)
        elif isinstance(item, BadMessage):
            self._unreadable(item)

    def _unreadable(self, bad: BadMessage) -> None:
        """A reply we cannot read still ends the call it answers: no call may hang."""
        pending = [cid for cid, f in self._pending.items() if not f.done()]
        if bad.call_id in self._pending:
            target = bad.call_id
        elif len(pending) == 1:
            target = pending[0]  # the only call it can answer
        else:
            self._end(f"unreadable message from the server: {bad.reason}")
            return
        self._pending[target].set_exception(
            UnreadableReply(f"the server's reply could not be read: {bad.reason}", bad.payload)
        )

    def _end(self, reason: str) -> None:
        """The session is over: close it and fail every pending call with ``reason``."""
        if self._closed_reason is None:
            self._closed_reason = reason
        self.stream.close()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SCSCPConnectionError(self._closed_reason))


async def _negotiate(stream: SCSCPStream) -> Welcome:
    welcome = await stream.next_event()
    if not isinstance(welcome, Welcome):
        raise SCSCPConnectionError(f"expected the server's welcome, got {welcome!r}")
    version = stream.connection.choose_version()
    if version is None:
        stream.send(Quit("not supported version"))
        raise SCSCPConnectionError(
            f"no common SCSCP version (server offers {' '.join(welcome.versions)})"
        )
    stream.send(version)
    reply = await stream.next_event()
    if isinstance(reply, Quit):
        raise SCSCPConnectionError(f"the server refused version {version.version}: {reply.reason}")
    if not isinstance(reply, Version):
        raise SCSCPConnectionError(f"expected the version confirmation, got {reply!r}")
    return welcome


T = TypeVar("T")


class BlockingClient:
    """A synchronous wrapper that owns a private event loop.

    >>> with BlockingClient("127.0.0.1", 26133) as gap:
    ...     gap.call("Gnu", 1024)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._client = self._run(Client.connect(host, port, **options))
        except BaseException:
            self._loop.close()
            raise

    def call(self, name: str, *args: object, **options: Any) -> Any:
        return self._run(self._client.call(name, *args, **options))

    def map(self, name: str, arguments: Iterable[object], **options: Any) -> list[Any]:
        return self._run(self._client.map(name, arguments, **options))

    def request(self, call: ProcedureCall) -> Reply:
        return self._run(self._client.request(call))

    @property
    def welcome(self) -> Welcome:
        return self._client.welcome

    def close(self) -> None:
        if not self._loop.is_closed():
            self._run(self._client.close())
            self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(coro)


__all__ = ["BlockingClient", "Client", "OMAny", "ProcedureError", "SCSCPConnectionError"]
