"""One worker as the pool uses it: a running backend and our session with it.

GAP serves one session at a time and closes it after every error reply, so
the worker keeps exactly one session open and reopens it when GAP drops it,
before the worker goes back to the pool. Callers never see that.

A call whose caller gives up (its deadline passed, the client sent
``terminate`` or left) is not abandoned on the worker: ``recover`` interrupts
the computation (SIGINT, which GAP answers with a "user interrupt" error) and
reopens the session, so that the same process serves the next call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import re
import secrets

from scscp.client import Client
from scscp.errors import SCSCPConnectionError, UnreadableReply
from scscp.gateway.providers.base import WorkerHandle
from scscp.openmath import OMError, OMString, OMSymbol
from scscp.protocol import ProcedureCall, ProcedureCompleted, ProcedureTerminated

log = logging.getLogger(__name__)

Reply = ProcedureCompleted | ProcedureTerminated
CONNECT_TIMEOUT = 10.0
INTERRUPT_GRACE = 5.0  # seconds GAP may take to answer an interrupt
GAP_MEMORY_LIMIT = "reached the pre-set memory limit"  # GAP's words when -o is hit
GAP_INTERRUPTED = "user interrupt"  # GAP's words for a computation stopped by SIGINT
MEMORY_POLL = 0.05  # seconds between looks at a worker's memory under option_max_memory


# Worker ids are unique across the gateway's runs, so that a cookie naming a
# worker can never reach another one that happens to have the same number.
_RUN = secrets.token_hex(3)
_serial = itertools.count(1)


class WorkerLost(Exception):
    """The worker stopped answering: it died, or its session cannot be reopened.

    Messages name the worker by id, never by its private address.
    """


class WorkerUnavailable(WorkerLost):
    """The worker was gone before the call reached it: safe to try another."""


class Worker:
    """A backend process plus one open SCSCP session with it."""

    def __init__(self, handle: WorkerHandle) -> None:
        self.handle = handle
        self.name = handle.name
        self.id = f"{_RUN}w{next(_serial)}"
        self.calls_served = 0
        self._idle = asyncio.Event()  # set while no call or probe is on the worker
        self._idle.set()
        self.failed_probes = 0
        self.started_at = asyncio.get_running_loop().time()
        self._client: Client | None = None
        self._pending: asyncio.Future[Reply] | None = None
        # GAP prefixes its error texts with the address it listens on; clients
        # of the gateway have no use for a worker's private address.
        self._error_prefix = re.compile(rf"^\s*{re.escape(str(handle.endpoint))} reports\s*:\s*")

    @property
    def busy(self) -> bool:
        """A call, a probe or an interrupted computation is on the worker."""
        return not self._idle.is_set()

    @busy.setter
    def busy(self, busy: bool) -> None:
        if busy:
            self._idle.clear()
        else:
            self._idle.set()

    async def until_idle(self) -> None:
        """Return once nothing is on the worker."""
        await self._idle.wait()

    @staticmethod
    def id_prefix() -> str:
        """What every worker id of this run starts with."""
        return _RUN

    async def open(self) -> None:
        """Open (or reopen) the session; raises WorkerLost if the worker is gone."""
        if self._client is not None:
            await self._client.close()
            self._client = None
        endpoint = self.handle.endpoint
        try:
            self._client = await Client.connect(
                endpoint.host, endpoint.port, timeout=CONNECT_TIMEOUT
            )
        except SCSCPConnectionError as exc:
            log.warning("worker %s does not accept a session: %s", self.name, exc)
            raise WorkerUnavailable(f"worker {self.id} does not accept a session") from exc

    async def call(self, call: ProcedureCall) -> Reply:
        """Forward ``call``; the worker is ready for the next one on return.

        If the caller is cancelled, the request stays pending on the worker,
        which must then be ``recover``ed before it serves again.
        """
        if self._client is None or self._client.is_closed:
            await self.open()
        assert self._client is not None
        # Our own call_id towards GAP: it echoes ids unescaped, and a client's
        # id with markup in it would make GAP's reply unreadable.
        sent = dataclasses.replace(call, call_id=self._client.new_call_id())
        self._pending = asyncio.ensure_future(self._client.request(sent))
        if call.max_memory is None:
            reply = await self._settle(call, asyncio.shield(self._pending))
        else:
            reply = await self._within_memory(call, call.max_memory)
        self._pending = None
        return dataclasses.replace(reply, call_id=call.call_id)

    async def _within_memory(self, call: ProcedureCall, limit: int) -> Reply:
        """Interrupt the call if the worker grows by more than ``limit`` bytes.

        GAP ignores option_max_memory; the worker's growth while the call runs
        is the closest measure of what the computation uses.
        """
        assert self._pending is not None
        pending = self._pending
        start = self.handle.memory()
        exceeded = False

        async def watch() -> None:
            nonlocal exceeded
            while not pending.done():
                now = self.handle.memory()
                if start is not None and now is not None and now - start > limit:
                    exceeded = True
                    await self.handle.interrupt()
                    return
                await asyncio.sleep(MEMORY_POLL)

        watcher = asyncio.create_task(watch())
        try:
            reply = await self._settle(call, asyncio.shield(pending))
        finally:
            watcher.cancel()
        if exceeded and isinstance(reply, ProcedureTerminated):
            return ProcedureTerminated.because(
                call.call_id,
                f"{call.name} used more than its option_max_memory of {limit} bytes "
                "and was interrupted",
                "error_memory",
            )
        return reply

    async def request(self, call: ProcedureCall) -> Reply:
        """``call`` on the open session, its reply or error exactly as they come."""
        if self._client is None or self._client.is_closed:
            await self.open()
        assert self._client is not None
        try:
            return await self._client.request(call)
        except SCSCPConnectionError as exc:
            raise WorkerLost(f"worker {self.id} ended the session: {exc}") from exc

    async def recover(self, call: ProcedureCall) -> None:
        """Interrupt the abandoned ``call`` and make the session usable again.

        Raises WorkerLost if the worker does not answer within INTERRUPT_GRACE.
        """
        pending, self._pending = self._pending, None
        if pending is None:
            return
        interrupted = not pending.done()
        try:
            async with asyncio.timeout(INTERRUPT_GRACE):
                if interrupted:
                    await self.handle.interrupt()
                reply = await self._settle(call, pending)
                if interrupted and GAP_INTERRUPTED not in getattr(reply, "message", ""):
                    await self._flush_interrupt()
        except TimeoutError:
            pending.cancel()
            raise WorkerLost(f"worker {self.name} ignored the interrupt of {call.name}") from None
        log.info(
            "worker %s interrupted %s: %s",
            self.name,
            call.name,
            getattr(reply, "message", "it had finished"),
        )

    async def _flush_interrupt(self) -> None:
        """GAP finished just before the signal came: make it spend the signal now.

        A signal left pending would interrupt the next client's call. A cheap
        question takes it (GAP answers "user interrupt", or answers normally if
        the signal was spent already); a worker the signal broke is lost.
        """
        probe = ProcedureCall("gateway-flush", OMSymbol("scscp2", "get_allowed_heads"))
        reply = await self.request(probe)
        if isinstance(reply, ProcedureTerminated):
            await self.close()  # GAP ends its session after an error

    async def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _settle(self, call: ProcedureCall, reply: asyncio.Future[Reply]) -> Reply:
        """Await GAP's reply, then leave the session ready for the next call."""
        try:
            answer = await reply
        except UnreadableReply as exc:
            return ProcedureTerminated.because(call.call_id, f"{call.name}: {exc}")
        except SCSCPConnectionError as exc:
            # Either the process died, or GAP cut its reply short (it cannot
            # write some results, `fail` among them) and closed the session.
            try:
                await self.open()
            except WorkerLost:
                raise WorkerLost(
                    f"worker {self.id} died while computing {call.name}; the call was not completed"
                ) from exc
            return ProcedureTerminated.because(
                call.call_id,
                f"the worker ended its session without a complete answer to {call.name} "
                "(GAP cannot write some results, such as fail, as OpenMath)",
            )
        self.calls_served += 1
        if isinstance(answer, ProcedureTerminated):
            # GAP closes its session after an error reply; the next call opens
            # a new one (and finds out, before sending, if the worker is gone).
            await self.close()
            return self._translate(answer)
        return answer

    def _translate(self, reply: ProcedureTerminated) -> ProcedureTerminated:
        """GAP's error in SCSCP's terms: no worker address, memory as error_memory."""
        texts = [a.value for a in reply.error.args if isinstance(a, OMString)]
        symbol = reply.error.symbol
        if any(GAP_MEMORY_LIMIT in text for text in texts):
            symbol = OMSymbol("scscp1", "error_memory")
        args = tuple(
            OMString(self._error_prefix.sub("", a.value)) if isinstance(a, OMString) else a
            for a in reply.error.args
        )
        if args == reply.error.args and symbol is reply.error.symbol:
            return reply
        return dataclasses.replace(reply, error=OMError(symbol, args))
