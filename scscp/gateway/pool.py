"""A fixed-size pool of workers: one call per worker, a FIFO for the rest.

Callers wait for an idle worker in the order they came. A call that uses an
object stored on one worker (a cookie) waits for that worker; the others
take any. A worker whose process exits is replaced at once (with backoff if
replacements keep failing), and calls waiting for it in particular fail.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from scscp.gateway.autoscaler import Autoscaler
from scscp.gateway.health import HealthPolicy, healthy
from scscp.gateway.providers.base import Provider, WorkerStartError
from scscp.gateway.worker import Worker, WorkerLost, WorkerUnavailable
from scscp.protocol import ProcedureCall, ProcedureCompleted, ProcedureTerminated

log = logging.getLogger(__name__)

Reply = ProcedureCompleted | ProcedureTerminated
# Failed starts in a row, with no worker up, after which calls are refused rather than
# queued (one failure can be a worker killed while it started; three, with backoff, is not).
GIVE_UP_AFTER = 3
SCALE_INTERVAL = 0.5  # seconds between looks at the load, for scaling down


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between failed starts, so that a broken worker does not spin."""

    first: float = 0.5
    factor: float = 2.0
    limit: float = 30.0

    def delay(self, failures: int) -> float:
        return 0.0 if failures == 0 else min(self.limit, self.first * self.factor ** (failures - 1))


@dataclass(frozen=True, slots=True)
class Refusal(ProcedureTerminated):
    """A call the pool refused without running it (busy, no worker): the client may retry.

    A reply like any other on the wire; the type tells metrics "rejected" from a
    computation's error.
    """


class _NoWorker(WorkerLost):
    """Starts keep failing: the waiting callers are refused, to retry later."""


class PoolEvents:
    """What the pool reports as it happens (the gateway's metrics); this one ignores it.

    Reasons are a small fixed set: started initial, scale_up, replace; exited
    scale_down, died, unhealthy, recycled, shutdown.
    """

    def worker_started(self, reason: str) -> None:
        """A worker passed its start check and serves."""

    def worker_exited(self, reason: str) -> None:
        """A serving worker left the pool."""

    def start_failed(self) -> None:
        """A worker could not be started (it is tried again, with backoff)."""

    def probed(self, ok: bool) -> None:
        """An idle worker was probed."""

    def waited(self, seconds: float) -> None:
        """A call waited this long for a worker."""


class _IdleWorkers:
    """Idle workers, and callers waiting for one, served in arrival order."""

    def __init__(self) -> None:
        self._workers: list[Worker] = []
        self._waiters: deque[tuple[asyncio.Future[Worker], Worker | None]] = deque()

    def __len__(self) -> int:
        return len(self._workers)

    @property
    def waiting(self) -> int:
        """Callers waiting for a worker."""
        return sum(1 for future, _ in self._waiters if not future.done())

    def put(self, worker: Worker) -> None:
        """Hand ``worker`` to the first caller that takes it, or keep it idle."""
        for entry in self._waiters:
            future, wanted = entry
            if not future.done() and wanted in (None, worker):
                self._waiters.remove(entry)
                future.set_result(worker)
                return
        self._workers.append(worker)

    async def get(self, wanted: Worker | None = None) -> Worker:
        if wanted is None and self._workers:
            return self._workers.pop(0)
        if wanted is not None and wanted in self._workers:
            self._workers.remove(wanted)
            return wanted
        future: asyncio.Future[Worker] = asyncio.get_running_loop().create_future()
        entry = (future, wanted)
        self._waiters.append(entry)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.put(future.result())  # handed over just as the caller gave up
            raise
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def take(self, worker: Worker) -> bool:
        """Take ``worker`` if it is idle (for a probe); False if it is not."""
        if worker in self._workers:
            self._workers.remove(worker)
            return True
        return False

    def forget(self, worker: Worker) -> None:
        """``worker`` is gone: drop it, and fail the callers waiting for it alone."""
        if worker in self._workers:
            self._workers.remove(worker)
        for future, wanted in list(self._waiters):
            if wanted is worker and not future.done():
                future.set_exception(
                    WorkerLost(
                        f"worker {worker.id}, which held this call's objects, is gone; "
                        "the objects are lost"
                    )
                )

    def fail_all(self, error: WorkerLost) -> None:
        """Fail every waiting caller: no worker will come soon."""
        for future, _ in list(self._waiters):
            if not future.done():
                future.set_exception(error)


class Pool:
    """Keeps ``size`` workers running and hands each call to an idle one."""

    def __init__(
        self,
        provider: Provider,
        size: int,
        *,
        max_queue: int = 1000,
        max_queue_wait: float | None = None,
        health: HealthPolicy | None = None,
        autoscaler: Autoscaler | None = None,
        backoff: Backoff | None = None,
        events: PoolEvents | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a pool starts with at least one worker")
        self.provider = provider
        self.size = size  # the workers wanted now: fixed, or the autoscaler's count
        self.autoscaler = autoscaler
        self.max_queue = max_queue
        self.max_queue_wait = max_queue_wait
        self.health = health or HealthPolicy()
        self.backoff = backoff or Backoff()
        self.events = events or PoolEvents()
        self.workers: set[Worker] = set()
        self.stopping: set[Worker] = set()  # taken out of service, not yet exited
        self.running = 0  # client calls on a worker now
        self._idle = _IdleWorkers()
        self._tasks: set[asyncio.Task[None]] = set()
        self._failures = 0
        self._last_error = ""
        self._starting = 0
        self._closing = False

    @property
    def ready(self) -> int:
        """Workers that are up (idle or busy)."""
        return len(self.workers)

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def starting(self) -> int:
        """Workers being started."""
        return self._starting

    @property
    def queued(self) -> int:
        """Calls waiting for a worker."""
        return self._idle.waiting

    @property
    def bounds(self) -> tuple[int, int]:
        """The least and most workers the pool may have (its size when fixed)."""
        scaler = self.autoscaler
        return (scaler.minimum, scaler.maximum) if scaler else (self.size, self.size)

    def by_state(self) -> dict[str, list[Worker]]:
        """Workers up or leaving: ``ready`` (idle), ``busy``, ``ejected`` (not yet exited)."""
        states: dict[str, list[Worker]] = {"ready": [], "busy": [], "ejected": list(self.stopping)}
        for worker in self.workers:
            states["busy" if worker.busy else "ready"].append(worker)
        return states

    async def start(self) -> None:
        """Bring up every worker; fails if the first generation cannot start."""
        started = await asyncio.gather(
            *(self._start_worker("initial") for _ in range(self.size)), return_exceptions=True
        )
        errors = [r for r in started if isinstance(r, BaseException)]
        if errors:
            await self.close()
            raise errors[0]
        if self.health.probe_interval is not None:
            self._spawn(self._probe_idle_workers(self.health.probe_interval))
        if self.autoscaler is not None or self._offered() is not None:
            self._spawn(self._keep_scaling())

    async def call(
        self, call: ProcedureCall, on: Worker | None = None, *, runtime: float | None = None
    ) -> Reply:
        """Run ``call`` on the next idle worker (or on worker ``on``): one reply each.

        A call that never reached its worker (found dead when the call came)
        goes to another. Cancelling the caller (a terminate, a client gone)
        interrupts the computation on the worker, which rejoins the pool
        once it answers; so does ``runtime``, seconds counted from when the
        call reaches its worker (the wait in the queue is not computing), after
        which TimeoutError is raised. Every other failure is answered as
        ``procedure_terminated``.
        """
        self._scale(arriving=1)
        for _ in range(self.size + 1):
            if not self.workers and self._failures >= GIVE_UP_AFTER:
                return Refusal.because(call.call_id, self._unavailable())
            if self._idle.waiting >= self.max_queue and not (on is None and len(self._idle)):
                return Refusal.because(
                    call.call_id,
                    f"the service is busy: {self._idle.waiting} calls are waiting for a worker; "
                    "retry later",
                )
            clock = asyncio.get_running_loop().time
            came = clock()
            try:
                async with asyncio.timeout(self.max_queue_wait):
                    worker = await self._idle.get(on)
            except _NoWorker as exc:
                return Refusal.because(call.call_id, str(exc))
            except WorkerLost as exc:
                return ProcedureTerminated.because(call.call_id, str(exc))
            except TimeoutError:
                return Refusal.because(
                    call.call_id,
                    f"no worker was free within {self.max_queue_wait} s; retry later",
                )
            finally:
                self.events.waited(clock() - came)
            worker.busy = True
            self.running += 1
            try:
                async with asyncio.timeout(runtime):
                    reply = await worker.call(call)
            except WorkerUnavailable as exc:
                log.warning("%s", exc)
                self._retire(worker, "died")
                if on is None:
                    continue  # the call never reached it: another worker may take it
                return ProcedureTerminated.because(call.call_id, str(exc))
            except WorkerLost as exc:
                log.warning("%s", exc)
                self._retire(worker, "died")
                return ProcedureTerminated.because(call.call_id, str(exc))
            except (asyncio.CancelledError, TimeoutError):
                self._spawn(self._recover(worker, call))
                raise
            finally:
                worker.busy = False
                self.running -= 1
            if self.health.worn_out(worker):
                log.info("recycling worker %s after %d calls", worker.name, worker.calls_served)
                self._retire(worker, "recycled")
            else:
                self._release(worker)
            return reply
        return ProcedureTerminated.because(call.call_id, "no worker could take the call")

    async def ask(self, call: ProcedureCall) -> Reply:
        """The gateway's own question to any worker, the reply as the worker sent it.

        Unlike ``call`` there is no recovery: UnreadableReply and WorkerLost
        reach the caller, who knows what it asked.
        """
        worker = await self._idle.get()
        try:
            return await worker.request(call)
        finally:
            self._release(worker)

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for _ in self.workers:
            self.events.worker_exited("shutdown")
        await asyncio.gather(*(w.close() for w in self.workers), return_exceptions=True)
        await self.provider.close()
        self.workers.clear()
        self.stopping.clear()

    def _offered(self) -> int | None:
        """Workers the provider offers, when the cluster sizes them (dns); else None."""
        offered: int | None = getattr(self.provider, "offered", None)
        return offered

    def _target(self) -> int:
        """Workers to keep: the pool's size, or as many as the cluster offers."""
        offered = self._offered()
        return self.size if offered is None else offered

    def _scale(self, arriving: int = 0) -> None:
        """Move the pool towards the autoscaler's count: start workers, or stop idle ones.

        A provider that offers a count (dns: the cluster sizes the workers) is
        followed instead: the pool starts what is offered and stops none; the
        autoscaler's count stays in ``size``, for the cluster to read.
        """
        offered = self._offered()
        if (self.autoscaler is None and offered is None) or self._closing:
            return
        current = len(self.workers) + self._starting
        if self.autoscaler is not None:
            load = sum(1 for w in self.workers if w.busy) + self.queued + arriving
            self.size = self.autoscaler.desired(load, current, asyncio.get_running_loop().time())
            if self.size > current:
                log.info("scaling up: %d calls for %d workers; want %d", load, current, self.size)
        for _ in range(self._target() - current):
            self._add_worker("scale_up")
        if offered is not None:
            return  # workers go when the cluster removes them
        for _ in range(current - self.size):
            worker = next((w for w in self.workers if self._idle.take(w)), None)
            if worker is None:
                break  # the others are busy: they go when idle, at a later look
            log.info("scaling down: stopping idle worker %s", worker.name)
            self._retire(worker, "scale_down")

    async def _keep_scaling(self) -> None:
        """Look at the load regularly: a fall is acted on only after its window."""
        while True:
            await asyncio.sleep(SCALE_INTERVAL)
            self._scale()

    async def _start_worker(self, reason: str) -> None:
        handle = await self.provider.start()
        worker = Worker(handle)
        try:
            await worker.open()
            if not await healthy(worker, self.health.probe_timeout):
                raise WorkerLost(f"worker {worker.name} does not give the known answer")
        except WorkerLost:
            await handle.stop()
            raise
        self.workers.add(worker)
        self.events.worker_started(reason)
        self._spawn(self._supervise(worker))
        self._release(worker)
        log.info("worker %s ready (%d of %d)", worker.name, len(self.workers), self.size)

    async def _supervise(self, worker: Worker) -> None:
        """Wait for the worker's exit, then put a new one in its place."""
        status = await worker.handle.wait()
        if worker in self.workers:
            self.events.worker_exited("died")  # not retired: it exited on its own
        self.workers.discard(worker)
        self.stopping.discard(worker)
        self._idle.forget(worker)
        # A call in flight ends first: a worker can leave (its address left DNS)
        # while it still answers, and a dead one fails its call at once.
        await worker.until_idle()
        await worker.close()
        if self._closing or len(self.workers) + self._starting >= self._target():
            return  # stopped on purpose (scaled down), or already replaced
        log.warning("worker %s exited (status %s); starting a replacement", worker.name, status)
        self._add_worker("replace")

    def _add_worker(self, reason: str) -> None:
        """Start one more worker in the background; it counts as starting at once."""
        self._starting += 1
        self._spawn(self._start_until_up(reason))

    async def _start_until_up(self, reason: str) -> None:
        """Start a worker, retrying with backoff while one is still wanted."""
        try:
            while not self._closing and len(self.workers) + self._starting <= self._target():
                await asyncio.sleep(self.backoff.delay(self._failures))
                try:
                    await self._start_worker(reason)
                except (WorkerStartError, WorkerLost) as exc:
                    self._failures += 1
                    self._last_error = str(exc)
                    self.events.start_failed()
                    log.error("worker failed to start (%d in a row): %s", self._failures, exc)
                    if not self.workers and self._failures >= GIVE_UP_AFTER:
                        # Nobody will serve the callers soon: tell them now.
                        self._idle.fail_all(_NoWorker(self._unavailable()))
                    continue
                self._failures = 0
                return
        finally:
            self._starting -= 1

    async def _probe_idle_workers(self, interval: float) -> None:
        """Every ``interval`` s, probe the idle workers; eject those that fail in a row."""
        while True:
            await asyncio.sleep(interval)
            for worker in list(self.workers):
                if self._idle.waiting or not self._idle.take(worker):
                    continue  # busy, or callers need the workers more than probes do
                worker.busy = True
                ok = await healthy(worker, self.health.probe_timeout)
                worker.busy = False
                self.events.probed(ok)
                worker.failed_probes = 0 if ok else worker.failed_probes + 1
                if worker.failed_probes >= self.health.probe_failures:
                    log.warning(
                        "worker %s failed %d probes; replacing it",
                        worker.name,
                        worker.failed_probes,
                    )
                    self._retire(worker, "unhealthy")
                else:
                    self._release(worker)

    async def _recover(self, worker: Worker, call: ProcedureCall) -> None:
        worker.busy = True  # until the interrupted computation has answered
        try:
            await worker.recover(call)
        except WorkerLost as exc:
            log.warning("%s; replacing it", exc)
            self._retire(worker, "unhealthy")
            return
        finally:
            worker.busy = False
        self._release(worker)

    def _unavailable(self) -> str:
        return (
            f"no worker is available: starting one failed {self._failures} times in a row "
            f"({self._last_error}); retry later"
        )

    def _release(self, worker: Worker) -> None:
        if worker in self.workers:  # not if it died meanwhile
            self._idle.put(worker)

    def _retire(self, worker: Worker, reason: str) -> None:
        """Stop a worker that can no longer be trusted; its supervisor replaces it."""
        if worker in self.workers:  # once per worker, however many find it bad
            self.events.worker_exited(reason)
            self.stopping.add(worker)
        self.workers.discard(worker)
        self._idle.forget(worker)
        self._spawn(worker.handle.stop())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
