"""Workers as Docker containers, spread over one or more engines.

Each worker is one container of the worker image with host networking,
listening on its own port of its engine's host: 127.0.0.1 for a local
engine, the engine's host for a remote one (``tcp://HOST:PORT``). A new
worker goes to the engine with the fewest of ours. The first start removes
whatever an earlier run of this gateway left (same gateway id: it was
killed); ``close`` removes every container with our label, so none remains.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import docker.errors

from scscp.endpoint import Endpoint
from scscp.gateway.providers.base import WorkerStartError
from scscp.gateway.providers.containers import (
    ContainerWorker,
    Engine,
    PortTaken,
    WorkerSpec,
    check_image,
    connect,
    container_name,
    remove_orphans,
    tail,
    until_ready,
)

log = logging.getLogger(__name__)

PORT_ATTEMPTS = 3


class DockerProvider:
    """Starts GAP worker containers on the engines at ``engines`` (none: the environment's)."""

    def __init__(
        self, spec: WorkerSpec, engines: Sequence[str] = (), *, start_timeout: float = 60.0
    ) -> None:
        self.spec = spec
        self.urls: tuple[str | None, ...] = tuple(engines) or (None,)
        self.start_timeout = start_timeout
        self.engines: list[Engine] = []
        self._workers: dict[Engine, set[ContainerWorker]] = {}
        self._starting: dict[Engine, int] = {}
        self._prepared: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> ContainerWorker:
        if self._prepared is None:
            self._prepared = asyncio.ensure_future(self._prepare())
        await asyncio.shield(self._prepared)
        if self._closing:
            raise WorkerStartError("the provider is closing")
        engine = min(self.engines, key=lambda e: len(self._workers[e]) + self._starting[e])
        self._starting[engine] += 1
        try:
            async with asyncio.timeout(self.start_timeout):
                return await self._start_on(engine)
        except TimeoutError:
            raise WorkerStartError(
                f"no worker container became ready on {engine.url} within {self.start_timeout} s"
            ) from None
        finally:
            self._starting[engine] -= 1

    async def close(self) -> None:
        """Stop our workers, then remove anything else with our label (a start cut short)."""
        self._closing = True
        if self._prepared is not None:
            with contextlib.suppress(Exception):
                await self._prepared
        await asyncio.gather(
            *(w.stop() for ws in self._workers.values() for w in list(ws)),
            return_exceptions=True,
        )
        for engine in self.engines:
            with contextlib.suppress(docker.errors.DockerException):
                await asyncio.to_thread(remove_orphans, engine, self.spec.gateway_id)
            await asyncio.to_thread(engine.client.close)

    async def _prepare(self) -> None:
        """Once: reach the engines, check the image, remove an earlier run's containers."""
        connecting = (asyncio.to_thread(connect, url) for url in self.urls)
        self.engines = list(await asyncio.gather(*connecting))
        for engine in self.engines:
            self._workers[engine] = set()
            self._starting[engine] = 0
            await asyncio.to_thread(check_image, engine, self.spec.image)
            removed = await asyncio.to_thread(remove_orphans, engine, self.spec.gateway_id)
            if removed:
                log.warning(
                    "removed %d containers an earlier run of gateway %s left on %s",
                    removed,
                    self.spec.gateway_id,
                    engine.url,
                )

    async def _start_on(self, engine: Engine) -> ContainerWorker:
        last_error = ""
        for _ in range(PORT_ATTEMPTS):
            taken = {w.endpoint.port for w in self._workers[engine]}
            port = engine.free_port(taken)
            try:
                return await self._start_container(engine, port)
            except PortTaken as exc:
                last_error = str(exc)  # another process took the port first: try another
        raise WorkerStartError(last_error)

    async def _start_container(self, engine: Engine, port: int) -> ContainerWorker:
        name = container_name(self.spec.gateway_id, self.spec.backend)
        endpoint = Endpoint(engine.host, port)
        options = self.spec.run_options(engine.host, port)
        try:
            container = await asyncio.to_thread(
                engine.client.containers.create, self.spec.image, name=name, **options
            )
        except docker.errors.DockerException as exc:
            raise WorkerStartError(
                f"cannot create a worker container on {engine.url}: {exc}"
            ) from exc
        ready = False
        try:
            await asyncio.to_thread(container.start)
            await until_ready(engine, container.id, endpoint, f"container {name}")
            worker = ContainerWorker(engine, container.id, name, endpoint, self._release)
            await worker.find_gap_process()
            ready = True
        except docker.errors.DockerException as exc:
            said = await tail(engine, container.id)
            raise WorkerStartError(
                f"container {name} did not start: {exc}; it said: {said}"
            ) from exc
        finally:
            if not ready:
                await asyncio.to_thread(_remove, engine, container.id)
        self._workers[engine].add(worker)
        log.debug("started %s on %s", worker.name, engine.url)
        return worker

    async def _release(self, worker: ContainerWorker) -> None:
        self._workers[worker.engine].discard(worker)
        await asyncio.to_thread(_remove, worker.engine, worker.container_id)


def _remove(engine: Engine, container_id: str) -> None:
    """Kill and remove a container; one that is gone already is fine. Blocking."""
    with contextlib.suppress(docker.errors.NotFound):
        try:
            engine.client.api.remove_container(container_id, force=True)
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: its removal is under way already
                raise
