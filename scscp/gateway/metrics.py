"""The gateway's Prometheus metrics: counters on the call path, pool state read at scrape.

The metric names are a public interface (the Grafana dashboard and the alert
rules in deploy/ use them): change them only together with those. Label
values are bounded: a procedure the gateway does not offer counts as
``other``, reasons and outcomes are fixed sets, so that no client can grow
the number of series.

Every gateway has its own ``CollectorRegistry``, so that several gateways in
one process (the tests) do not mix their numbers. What mirrors the pool
(workers by state, queue, autoscaler counts, connections, bytes) is computed
when Prometheus scrapes, from the pool and the server, rather than kept up to
date on every change: the call path only bumps one counter and two histograms.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from scscp.gateway.pool import Pool, PoolEvents
from scscp.server import ServerStats

OTHER = "other"  # the procedure label of anything the gateway does not offer
OUTCOMES = ("completed", "error", "rejected", "cancelled", "timeout")
WORKER_STATES = ("starting", "ready", "busy", "ejected")
START_REASONS = ("initial", "scale_up", "replace")
EXIT_REASONS = ("scale_down", "died", "unhealthy", "recycled", "shutdown")
# Seconds, 1 ms to an hour: GAP answers table look-ups in a millisecond and may
# compute for an hour under max_runtime.
DURATION_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
)  # fmt: skip
QUEUE_BUCKETS = (0.0001, 0.0005, *DURATION_BUCKETS)  # most calls find a worker idle
LAG_INTERVAL = 0.5  # seconds between looks at the event loop's lag
LAG_WINDOW = 30.0  # seconds: the gauge is the worst lag seen in this time


class ProcedureLabels:
    """Maps a call's procedure to its label: its name if offered, else ``other``."""

    def __init__(self, procedures: Iterable[tuple[str, str]] = ()) -> None:
        self._labels = {(cd, name): name for cd, name in procedures}

    def __call__(self, cd: str, name: str) -> str:
        return self._labels.get((cd, name), OTHER)


@dataclass(slots=True)
class _Watched:
    pool: Pool
    stats: ServerStats | None


class GatewayMetrics:
    """One gateway's metrics and their registry; ``backend`` names its pool."""

    def __init__(self, backend: str = "gap") -> None:
        self.backend = backend
        self.registry = CollectorRegistry(auto_describe=True)
        self.procedures = ProcedureLabels()
        self.calls = Counter(
            "scscp_calls_total",
            "Client procedure calls answered, by outcome (completed, error, rejected, "
            "cancelled, timeout); the gateway's own probes are not counted",
            ["procedure", "backend", "outcome"],
            registry=self.registry,
        )
        self.call_duration = Histogram(
            "scscp_call_duration_seconds",
            "Time from a call's arrival to its reply, all outcomes",
            ["procedure", "backend"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.queue_wait = Histogram(
            "scscp_queue_wait_seconds",
            "Time a call waited for a free worker",
            ["backend"],
            buckets=QUEUE_BUCKETS,
            registry=self.registry,
        )
        self.worker_starts = Counter(
            "scscp_worker_starts_total",
            "Workers that came up, by reason (initial, scale_up, replace)",
            ["backend", "reason"],
            registry=self.registry,
        )
        self.worker_exits = Counter(
            "scscp_worker_exits_total",
            "Workers that left the pool, by reason "
            "(scale_down, died, unhealthy, recycled, shutdown)",
            ["backend", "reason"],
            registry=self.registry,
        )
        self.start_failures = Counter(
            "scscp_worker_start_failures_total",
            "Worker starts that failed (each is retried with backoff)",
            ["backend"],
            registry=self.registry,
        )
        self.health_probes = Counter(
            "scscp_health_probes_total",
            "Probes of idle workers, by result (ok, failed)",
            ["backend", "result"],
            registry=self.registry,
        )
        self.loop_lag = Gauge(
            "scscp_event_loop_lag_seconds",
            f"The worst delay of the gateway's event loop in the last {LAG_WINDOW:.0f} s "
            f"(a timer every {LAG_INTERVAL} s)",
            registry=self.registry,
        )
        # Every label value exists from the start: a rate over a series that appears
        # only at its first event misses that event.
        for reason in START_REASONS:
            self.worker_starts.labels(backend, reason)
        for reason in EXIT_REASONS:
            self.worker_exits.labels(backend, reason)
        for result in ("ok", "failed"):
            self.health_probes.labels(backend, result)
        self.queue_wait.labels(backend)
        self.start_failures.labels(backend)
        self._watched: dict[str, _Watched] = {}
        self._children: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        self._lag_task: asyncio.Task[None] | None = None
        self.registry.register(_StateCollector(self._watched))

    def offer(self, procedures: Iterable[tuple[str, str]]) -> None:
        """The (cd, name) pairs that get their own procedure label; the rest are ``other``."""
        procedures = list(procedures)
        self.procedures = ProcedureLabels(procedures)
        for label in (*(name for _, name in procedures), OTHER):
            for outcome in OUTCOMES:
                self._child(label, outcome)  # zeros from the start, for rates and ratios

    def watch(self, pool: Pool, stats: ServerStats | None = None) -> None:
        """Read ``pool`` (and the server's ``stats``) at every scrape."""
        self._watched[self.backend] = _Watched(pool, stats)

    def events(self) -> PoolEvents:
        """The observer to give the pool when it is made (before ``watch``)."""
        return _PoolEvents(self)

    def call_done(self, cd: str, name: str, outcome: str, seconds: float) -> None:
        """Count one client call; cheap: a dict look-up, a counter and a histogram."""
        counter, histogram = self._child(self.procedures(cd, name), outcome)
        counter.inc()
        histogram.observe(seconds)

    def _child(self, label: str, outcome: str) -> tuple[Counter, Histogram]:
        key = (label, outcome)  # bounded: labels come from ProcedureLabels
        children = self._children.get(key)
        if children is None:
            children = (
                self.calls.labels(label, self.backend, outcome),
                self.call_duration.labels(label, self.backend),
            )
            self._children[key] = children
        return children

    def start(self) -> None:
        """Start sampling the event loop's lag."""
        if self._lag_task is None:
            self._lag_task = asyncio.create_task(self._sample_lag())

    async def close(self) -> None:
        if self._lag_task is not None:
            self._lag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lag_task
            self._lag_task = None

    async def _sample_lag(self) -> None:
        """A timer that fires late says the loop was blocked (or the machine is loaded).

        The gauge is the worst lag of the last LAG_WINDOW seconds, so that a stall
        between two scrapes is still seen at the next one.
        """
        loop = asyncio.get_running_loop()
        recent: deque[tuple[float, float]] = deque()  # (when, lag)
        while True:
            due = loop.time() + LAG_INTERVAL
            await asyncio.sleep(LAG_INTERVAL)
            now = loop.time()
            recent.append((now, max(0.0, now - due)))
            while recent[0][0] < now - LAG_WINDOW:
                recent.popleft()
            self.loop_lag.set(max(lag for _, lag in recent))


class _PoolEvents(PoolEvents):
    """The pool's reports, as counters and the queue-wait histogram."""

    def __init__(self, metrics: GatewayMetrics) -> None:
        backend = metrics.backend
        self._starts = {r: metrics.worker_starts.labels(backend, r) for r in START_REASONS}
        self._exits = {r: metrics.worker_exits.labels(backend, r) for r in EXIT_REASONS}
        self._ok = metrics.health_probes.labels(backend, "ok")
        self._failed = metrics.health_probes.labels(backend, "failed")
        self._wait = metrics.queue_wait.labels(backend)
        self._failed_starts = metrics.start_failures.labels(backend)

    def worker_started(self, reason: str) -> None:
        self._starts[reason].inc()

    def worker_exited(self, reason: str) -> None:
        self._exits[reason].inc()

    def start_failed(self) -> None:
        self._failed_starts.inc()

    def probed(self, ok: bool) -> None:
        (self._ok if ok else self._failed).inc()

    def waited(self, seconds: float) -> None:
        self._wait.observe(seconds)


# The gauges read from a pool at every scrape: name, help, value.
POOL_GAUGES: tuple[tuple[str, str, Callable[[Pool], int]], ...] = (
    ("scscp_queue_length", "Calls waiting for a worker", lambda p: p.queued),
    (
        "scscp_queue_capacity",
        "Calls that may wait for a worker (pool.max_queue); more are rejected",
        lambda p: p.max_queue,
    ),
    ("scscp_inflight_calls", "Client calls running on a worker now", lambda p: p.running),
    (
        "scscp_autoscaler_desired_replicas",
        "Workers the pool aims for (the autoscaler's count, or the fixed size)",
        lambda p: p.size,
    ),
    (
        "scscp_autoscaler_current_replicas",
        "Workers up or starting",
        lambda p: len(p.workers) + p.starting,
    ),
    ("scscp_autoscaler_min_replicas", "The pool's least size", lambda p: p.bounds[0]),
    ("scscp_autoscaler_max_replicas", "The pool's largest size", lambda p: p.bounds[1]),
)


class _StateCollector(Collector):
    """Gauges (and the server's counters) computed from the pool at scrape time."""

    def __init__(self, watched: dict[str, _Watched]) -> None:
        self._watched = watched

    def describe(self) -> Iterable[Metric]:
        return self.collect()

    def collect(self) -> Iterator[Metric]:
        workers = GaugeMetricFamily(
            "scscp_workers",
            "Workers by state: starting, ready (idle), busy, ejected (taken out, not yet exited)",
            labels=["backend", "state"],
        )
        gauges = [
            (GaugeMetricFamily(name, text, labels=["backend"]), value)
            for name, text, value in POOL_GAUGES
        ]
        stats = ServerStats()
        for backend, watched in self._watched.items():
            pool = watched.pool
            counts = {state: len(ws) for state, ws in pool.by_state().items()}
            counts["starting"] = pool.starting
            for state in WORKER_STATES:
                workers.add_metric([backend, state], counts[state])
            for family, value in gauges:
                family.add_metric([backend], value(pool))
            if watched.stats is not None:
                stats = watched.stats  # one server for all backends
        yield workers
        yield from (family for family, _ in gauges)
        yield GaugeMetricFamily(
            "scscp_client_connections", "Client connections open now", stats.open
        )
        yield CounterMetricFamily(
            "scscp_client_connections_accepted", "Client connections accepted", stats.accepted
        )
        yield CounterMetricFamily(
            "scscp_client_received_bytes", "Bytes received from clients", stats.received
        )
        yield CounterMetricFamily("scscp_client_sent_bytes", "Bytes sent to clients", stats.sent)
