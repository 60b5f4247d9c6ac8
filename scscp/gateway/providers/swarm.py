"""Workers as the tasks of one Docker Swarm service, scaled through the API.

The service runs the worker image with host networking; each task listens
on a port derived from its slot (``SCSCP_PORT_BASE`` + ``{{.Task.Slot}}``,
read by ``services/gap/worker.g``), so the gateway finds a task's worker at
the engine's host and that port. The service is pinned to the node whose
engine we talk to, since the gateway signals a task's container there (a
SIGINT to stop a computation) and reaches it on that host.

The pool starts a worker by raising the replica count by one and stops a
*particular* idle worker. Swarm chooses which task a scale-down removes;
its replicated orchestrator (swarmkit, ``reconcile`` and
``slotsByRunningState``) removes tasks that are not running before running
ones, ties going to the highest slot. So to retire a worker we first kill
its container, wait until Swarm reports the task no longer running, and
only then lower the count. The restart policy is "none": Swarm never
replaces a task by itself (the pool does), so a stopped task keeps its slot
until the count falls, and a worker that dies is given up the same way.
Changes to the count are made one at a time, and a new task is waited for
until it runs, so that a scale-down never meets a task that is still
starting (Swarm could take that one instead). On several nodes the balance
between nodes would come first in Swarm's choice: hence the pinning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import Any

import docker.errors
from docker.types import RestartPolicy, ServiceMode

from scscp.endpoint import Endpoint
from scscp.gateway.providers.base import WorkerStartError
from scscp.gateway.providers.containers import (
    POLL,
    ContainerWorker,
    Engine,
    WorkerSpec,
    check_image,
    connect,
    container_name,
    remove_orphans,
    until_ready,
)

log = logging.getLogger(__name__)

PORT_SEARCH = (20000, 60000)
SETTLE_TIMEOUT = 60.0  # seconds Swarm may take to act on a change of the count


class SwarmProvider:
    """Runs workers as the tasks of a Swarm service on the engine at ``engine``."""

    def __init__(
        self,
        spec: WorkerSpec,
        engine: str | None = None,
        *,
        start_timeout: float = 60.0,
        max_workers: int = 8,
    ) -> None:
        self.spec = spec
        self.url = engine
        self.start_timeout = start_timeout
        self.max_workers = max_workers
        self.engine: Engine | None = None
        self.service_id: str | None = None
        self.port_base = 0
        self._slots: dict[int, str] = {}  # slots we hold -> their task ids
        self._scaling = asyncio.Lock()  # one change of the replica count at a time
        self._prepared: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> ContainerWorker:
        if self._prepared is None:
            self._prepared = asyncio.ensure_future(self._prepare())
        await asyncio.shield(self._prepared)
        assert self.engine is not None
        if self._closing:
            raise WorkerStartError("the provider is closing")
        task: dict[str, Any] | None = None
        try:
            async with asyncio.timeout(self.start_timeout):
                async with self._scaling:
                    await self._scale(len(self._slots) + 1)
                    task = await self._new_task()
                    self._slots[task["Slot"]] = task["ID"]
                    task = await self._until_running(task["ID"])
                return await self._ready(task)
        except TimeoutError:
            raise WorkerStartError(
                f"no Swarm task of the worker service became ready within {self.start_timeout} s"
            ) from None
        except BaseException:
            if task is not None:
                await self._give_up(task["ID"], task["Slot"])
            else:  # the count went up but no task came: put it back
                async with self._scaling:
                    await self._scale(len(self._slots))
            raise

    async def close(self) -> None:
        """Remove the service, and wait until its containers are gone."""
        self._closing = True
        if self._prepared is not None:
            with contextlib.suppress(Exception):
                await self._prepared
        if self.engine is None:
            return
        with contextlib.suppress(docker.errors.DockerException):
            await asyncio.to_thread(remove_orphans, self.engine, self.spec.gateway_id)
            await self._until_no_containers()
        await asyncio.to_thread(self.engine.client.close)

    async def _prepare(self) -> None:
        """Once: reach the engine, remove an earlier run's service, create ours at zero."""
        engine = self.engine = await asyncio.to_thread(connect, self.url)
        info = await asyncio.to_thread(engine.client.info)
        swarm = info.get("Swarm", {})
        if not swarm.get("ControlAvailable"):
            raise WorkerStartError(
                f"the engine at {engine.url} is not a Swarm manager "
                f"(state {swarm.get('LocalNodeState')}): run `docker swarm init` there"
            )
        await asyncio.to_thread(check_image, engine, self.spec.image)
        removed = await asyncio.to_thread(remove_orphans, engine, self.spec.gateway_id)
        if removed:
            log.warning(
                "removed %d services and containers an earlier run of gateway %s left",
                removed,
                self.spec.gateway_id,
            )
            await self._until_no_containers()
        self.port_base = await asyncio.to_thread(_free_range, engine.host, 2 * self.max_workers + 4)
        options = self.spec.service_options(
            engine.host,
            {"SCSCP_PORT_BASE": str(self.port_base), "SCSCP_SLOT": "{{.Task.Slot}}"},
        )
        service = await asyncio.to_thread(
            engine.client.services.create,
            self.spec.image,
            name=container_name(self.spec.gateway_id, self.spec.backend),
            mode=ServiceMode("replicated", 0),
            restart_policy=RestartPolicy(condition="none"),
            constraints=[f"node.id=={swarm['NodeID']}"],
            **options,
        )
        self.service_id = service.id
        log.info("created Swarm service %s (ports from %d)", service.name, self.port_base + 1)

    async def _scale(self, replicas: int) -> None:
        assert self.engine is not None and self.service_id is not None
        await asyncio.to_thread(_scale, self.engine, self.service_id, replicas)

    async def _tasks(self) -> list[dict[str, Any]]:
        assert self.engine is not None
        tasks: list[dict[str, Any]] = await asyncio.to_thread(
            self.engine.client.api.tasks, filters={"service": self.service_id}
        )
        return tasks

    async def _new_task(self) -> dict[str, Any]:
        """The task Swarm made for the count just raised: a live one in no slot of ours."""
        while True:
            for task in await self._tasks():
                if task["DesiredState"] == "running" and task["Slot"] not in self._slots:
                    return task
            await asyncio.sleep(POLL)

    async def _until_running(self, task_id: str) -> dict[str, Any]:
        while True:
            task = next((t for t in await self._tasks() if t["ID"] == task_id), None)
            if task is None:
                raise WorkerStartError(f"Swarm removed task {task_id} while it started")
            state = task["Status"]["State"]
            if state == "running":
                return task
            if state in ("failed", "rejected", "complete", "shutdown", "orphaned", "remove"):
                raise WorkerStartError(
                    f"Swarm task {task_id} ended while starting ({state}): "
                    f"{task['Status'].get('Err') or task['Status'].get('Message')}"
                )
            await asyncio.sleep(POLL)

    async def _ready(self, task: dict[str, Any]) -> ContainerWorker:
        assert self.engine is not None
        container_id = task["Status"]["ContainerStatus"]["ContainerID"]
        endpoint = Endpoint(self.engine.host, self.port_base + task["Slot"])
        name = f"task {task['Slot']}"
        await until_ready(self.engine, container_id, endpoint, f"Swarm {name}")

        async def release(worker: ContainerWorker) -> None:
            await self._give_up(task["ID"], task["Slot"])

        worker = ContainerWorker(self.engine, container_id, name, endpoint, release)
        await worker.find_gap_process()
        return worker

    async def _give_up(self, task_id: str, slot: int) -> None:
        """Make Swarm remove this task and no other: stop it, then lower the count."""
        assert self.engine is not None
        if self._closing:
            return  # the service goes as a whole
        async with self._scaling:
            try:
                task = await self._stop_task(task_id)
                self._slots.pop(slot, None)
                await self._scale(len(self._slots))
                if task is not None:
                    await self._until_removed(task_id)
            except docker.errors.DockerException as exc:
                log.error("could not give up Swarm task %s: %s", task_id, exc)

    async def _stop_task(self, task_id: str) -> dict[str, Any] | None:
        """Kill the task's container; return once Swarm no longer counts it as running."""
        assert self.engine is not None
        deadline = time.monotonic() + SETTLE_TIMEOUT
        killed = False
        while time.monotonic() < deadline:
            task = next((t for t in await self._tasks() if t["ID"] == task_id), None)
            if task is None or task["Status"]["State"] != "running":
                return task
            if not killed:
                container_id = task["Status"]["ContainerStatus"]["ContainerID"]
                with contextlib.suppress(docker.errors.APIError):  # exited meanwhile
                    await asyncio.to_thread(self.engine.client.api.kill, container_id)
                killed = True
            await asyncio.sleep(POLL)
        log.error("Swarm still counts task %s as running; the scale-down may take another", task_id)
        return None

    async def _until_removed(self, task_id: str) -> None:
        """Check that the scale-down took our task (Swarm marks it for removal)."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while time.monotonic() < deadline:
            tasks = await self._tasks()
            task = next((t for t in tasks if t["ID"] == task_id), None)
            if task is None or task["DesiredState"] == "remove":
                return
            others = [t for t in tasks if t["DesiredState"] == "remove" and t["ID"] != task_id]
            if others:
                log.error("Swarm's scale-down took task %s instead of %s", others[0]["ID"], task_id)
                return
            await asyncio.sleep(POLL)

    async def _until_no_containers(self) -> None:
        """Wait until the engine has removed the containers of our removed services."""
        assert self.engine is not None
        label = f"scscp.gateway={self.spec.gateway_id}"
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while time.monotonic() < deadline:
            left = await asyncio.to_thread(
                self.engine.client.containers.list,
                all=True,
                filters={"label": label},
                ignore_removed=True,
            )
            if not left:
                return
            await asyncio.sleep(POLL)
        log.warning("containers of gateway %s are still there after its service", label)


def _scale(engine: Engine, service_id: str, replicas: int) -> None:
    """Set the replica count (blocking)."""
    service = engine.client.services.get(service_id)
    service.scale(replicas)


def _free_range(host: str, length: int) -> int:
    """A base port such that base+1 .. base+length are free on ``host`` now (blocking)."""
    base = PORT_SEARCH[0]
    while base + length < PORT_SEARCH[1]:
        sockets: list[socket.socket] = []
        try:
            for port in range(base + 1, base + length + 1):
                probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(probe)
                probe.bind((host, port))
            return base
        except OSError:
            base = port  # the taken port: start past it
        finally:
            for probe in sockets:
                probe.close()
    raise WorkerStartError(f"no {length} free ports in a row on {host}")
