"""The gateway's HTTP side: metrics for Prometheus, probes for orchestrators, a status page.

- ``/metrics``: the Prometheus exposition of this gateway's registry;
- ``/healthz``: 200 while the process serves HTTP at all (a liveness probe);
- ``/readyz``: 200 when every backend has a worker up (idle or busy), else 503,
  so that a load balancer sends no client to a gateway that cannot compute;
- ``/status``: the pools as JSON (workers, their state, age, calls served).

It runs on the gateway's event loop (aiohttp): every answer is computed from
memory in microseconds, nothing here waits on a worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from scscp.endpoint import Endpoint
from scscp.gateway.metrics import GatewayMetrics
from scscp.gateway.pool import Pool
from scscp.gateway.worker import Worker

ReadyPools = Mapping[str, Pool]


class HttpSide:
    """Serves the four paths on ``endpoint``; ``port`` is where it listens once started."""

    def __init__(self, endpoint: Endpoint, metrics: GatewayMetrics, pools: ReadyPools) -> None:
        self.endpoint = endpoint
        self.metrics = metrics
        self.pools = pools
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/status", self._status)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        self.port = 0

    async def start(self) -> None:
        """Listen; raises OSError when the address cannot be taken."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.endpoint.host, self.endpoint.port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            raise
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        await self._runner.cleanup()

    async def _metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        backends = {name: pool.ready for name, pool in self.pools.items()}
        ready = bool(backends) and all(backends.values())
        return web.json_response(
            {"ready": ready, "ready_workers": backends}, status=200 if ready else 503
        )

    async def _status(self, request: web.Request) -> web.Response:
        now = asyncio.get_running_loop().time()
        return web.json_response(
            {"backends": {name: _pool_status(pool, now) for name, pool in self.pools.items()}}
        )


def _pool_status(pool: Pool, now: float) -> dict[str, Any]:
    """What an operator looks at first: sizes, queue, and each worker."""
    low, high = pool.bounds
    workers = [_worker_status(w, state, now) for state, ws in pool.by_state().items() for w in ws]
    return {
        "ready": pool.ready > 0,
        "desired_workers": pool.size,
        "min_workers": low,
        "max_workers": high,
        "starting": pool.starting,
        "queued": pool.queued,
        "running": pool.running,
        "workers": sorted(workers, key=lambda w: w["age_seconds"], reverse=True),
    }


def _worker_status(worker: Worker, state: str, now: float) -> dict[str, Any]:
    return {
        "id": worker.id,
        "name": worker.name,
        "state": state,
        "age_seconds": round(now - worker.started_at, 3),
        "calls_served": worker.calls_served,
    }
