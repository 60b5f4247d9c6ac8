"""GAP workers in containers: what each container looks like, and its handle.

Shared by the docker provider (containers started one by one on engines) and
the swarm provider (the tasks of a service). Every worker runs the image's
GAP server with host networking on its own port of the engine's host, so the
gateway reaches it at that host's address and never at a bridge or overlay
address. Every container and service carries the label ``scscp.gateway``
with the gateway's id: that is how a gateway finds what an earlier run of
itself left behind (``remove_orphans``) and what it must remove at the end.

Every engine call blocks, so it runs in a thread (``asyncio.to_thread``); no
call waits on the engine without end (``wait`` polls), so that closing the
event loop never waits for a thread stuck in the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import docker
import docker.errors

from scscp.endpoint import Endpoint
from scscp.gateway.providers.base import WorkerStartError
from scscp.gateway.providers.local import BIND_FAILED_MARK, READY_MARK, until_listening

log = logging.getLogger(__name__)

LABEL_GATEWAY = "scscp.gateway"  # the owning gateway's id
LABEL_BACKEND = "scscp.backend"  # which of its backends the worker serves
SWARM_SERVICE_LABEL = "com.docker.swarm.service.id"  # set by the engine on task containers
SERVICE_DIR = "/opt/scscp/services.d"  # extra service files, mounted read-only (see image)
ENGINE_TIMEOUT = 30  # seconds any one engine request may take
POLL = 0.1  # seconds between looks at a starting container
WAIT_POLL = 0.5  # seconds between looks at a running container, to notice its exit
LOG_TAIL = 40  # lines of a failed container's output quoted in the error
REMOTE_PORTS = (20000, 40000)  # where ports are drawn for a remote engine's workers
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MiB = 2**20
# Measured: a GAP worker with the Small Groups library is about 135 MiB resident
# whatever its -o limit (which bounds its workspace); 64 MiB of workspace starts it.
GAP_OUTSIDE_WORKSPACE = 160 * MiB
GAP_MIN_WORKSPACE = 64 * MiB


@dataclass(eq=False)
class Engine:
    """One Docker engine and the address its host-networked workers listen on."""

    url: str
    client: docker.DockerClient
    host: str  # 127.0.0.1 for a local socket, else the engine's host name or address

    @property
    def local(self) -> bool:
        """Whether the engine runs on this machine (its containers share our loopback)."""
        return self.host == "127.0.0.1"

    def free_port(self, taken: set[int]) -> int:
        """A port for a new worker: free here, or for a remote host, one not ours."""
        if self.local:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind((self.host, 0))
                return int(probe.getsockname()[1])
        while (port := random.randrange(*REMOTE_PORTS)) in taken:
            pass
        return port


def engine_host(url: str) -> str:
    """Where a host-networked container of the engine at ``url`` can be reached."""
    parts = urlsplit(url)
    if parts.scheme in ("", "unix", "npipe", "http+unix") or not parts.hostname:
        return "127.0.0.1"
    return "127.0.0.1" if parts.hostname == "localhost" else parts.hostname


def connect(url: str | None) -> Engine:
    """The engine at ``url`` (None: the environment's, as the docker CLI finds it).

    TLS settings come from the environment (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)
    for every URL. Blocking: call it in a thread.
    """
    environment = dict(os.environ)
    if url is not None:
        environment["DOCKER_HOST"] = url
    where = environment.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(environment=environment, timeout=ENGINE_TIMEOUT)
        client.ping()
    except docker.errors.DockerException as exc:
        raise WorkerStartError(f"cannot reach the Docker engine at {where}: {exc}") from exc
    return Engine(where, client, engine_host(where))


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What every worker container looks like, for ``docker run`` and for a service.

    Limits: ``memory`` bytes (the container's hard limit; GAP's own ``-o``
    limit a little below, so that a computation that needs too much gets
    GAP's error and the worker lives on), ``cpus``, ``pids`` processes; a
    read-only root file system with a tmpfs /tmp, no capabilities, no
    privilege gain, and an init process that passes SIGINT on to GAP.
    ``services`` are extra GAP files from this machine, mounted read-only
    where the image reads them (local engines only).
    """

    image: str
    gateway_id: str
    backend: str = "gap"
    memory: int | None = None
    cpus: float | None = None
    pids: int | None = None
    services: tuple[Path, ...] = ()
    tmpfs_size: int = 64 * MiB
    extra_labels: dict[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        return {LABEL_GATEWAY: self.gateway_id, LABEL_BACKEND: self.backend, **self.extra_labels}

    def __post_init__(self) -> None:
        if self.gap_memory is not None and self.gap_memory < GAP_MIN_WORKSPACE:
            least = (GAP_MIN_WORKSPACE + GAP_OUTSIDE_WORKSPACE) // MiB
            raise ValueError(
                f"pool.memory must be at least {least} MiB for workers in containers "
                f"(GAP's process takes about {GAP_OUTSIDE_WORKSPACE // MiB} MiB besides "
                "its workspace)"
            )

    @property
    def gap_memory(self) -> int | None:
        """GAP's ``-o`` limit: the container's, less room for what GAP holds outside it."""
        if self.memory is None:
            return None
        return self.memory - max(self.memory // 8, GAP_OUTSIDE_WORKSPACE)

    def environment(self, host: str, port: int | None = None) -> dict[str, str]:
        env = {"SCSCP_HOST": host}
        if port is not None:
            env["SCSCP_PORT"] = str(port)
        if self.gap_memory is not None:
            env["GAP_MEMORY"] = f"{self.gap_memory // 1024}k"
        return env

    def mounts(self) -> list[tuple[str, str]]:
        """(source on this machine, target in the container) of the extra service files."""
        return [(str(p.resolve()), f"{SERVICE_DIR}/{p.name}") for p in self.services]

    def run_options(self, host: str, port: int) -> dict[str, Any]:
        """Keyword arguments of ``client.containers.create`` for one worker."""
        options: dict[str, Any] = {
            "environment": self.environment(host, port),
            "labels": self.labels,
            "network_mode": "host",
            "init": True,
            "read_only": True,
            "tmpfs": {"/tmp": f"rw,nosuid,nodev,size={self.tmpfs_size}"},
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"],
            "volumes": {src: {"bind": dst, "mode": "ro"} for src, dst in self.mounts()},
        }
        if self.memory is not None:
            options["mem_limit"] = self.memory
            options["memswap_limit"] = self.memory  # no swap: the limit is real
        if self.cpus is not None:
            options["nano_cpus"] = int(self.cpus * 1e9)
        if self.pids is not None:
            options["pids_limit"] = self.pids
        return options

    def service_options(self, host: str, environment: dict[str, str]) -> dict[str, Any]:
        """Keyword arguments of ``client.services.create`` (the same limits, as a task).

        Swarm services have no no-new-privileges setting on engines before API
        1.46; with every capability dropped and a non-root image user there is
        nothing to gain anyway. The pids limit needs API 1.41.
        """
        from docker.types import Mount, Resources

        resources = Resources(
            cpu_limit=int(self.cpus * 1e9) if self.cpus is not None else None,
            mem_limit=self.memory,
        )
        if self.pids is not None:
            resources.setdefault("Limits", {})["Pids"] = self.pids
        mounts = [Mount(dst, src, type="bind", read_only=True) for src, dst in self.mounts()]
        mounts.append(
            Mount("/tmp", None, type="tmpfs", tmpfs_size=self.tmpfs_size)  # type: ignore[arg-type]
        )
        return {
            "env": [f"{k}={v}" for k, v in {**self.environment(host), **environment}.items()],
            "labels": self.labels,
            "container_labels": self.labels,
            "networks": ["host"],
            "init": True,
            "read_only": True,
            "cap_drop": ["ALL"],
            "mounts": mounts,
            "resources": resources,
        }


class ContainerWorker:
    """A GAP worker in a container, as the pool sees it.

    ``release`` is the provider's way of getting rid of the worker (remove the
    container; for a Swarm task, also give up its slot). It runs once, whether
    the pool stops the worker or the worker dies on its own.
    """

    def __init__(
        self,
        engine: Engine,
        container_id: str,
        name: str,
        endpoint: Endpoint,
        release: Callable[[ContainerWorker], Awaitable[None]],
    ) -> None:
        self.engine = engine
        self.container_id = container_id
        self.endpoint = endpoint
        self.name = f"{name}@{endpoint}"
        self._release = release
        self._released: asyncio.Future[None] | None = None
        self._stopping = asyncio.Event()
        self._gap_pid: int | None = None

    async def wait(self) -> int | None:
        """Poll the container until it exits or is stopped; then release it."""
        status: int | None = None
        while not self._stopping.is_set():
            state = await self._state()
            if state is None or not state.get("Running"):
                if state is not None:
                    status = state.get("ExitCode")
                    said = await tail(self.engine, self.container_id)
                    log.warning("worker %s exited (%s); it said: %s", self.name, status, said)
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(WAIT_POLL):
                    await self._stopping.wait()
        await self.stop()
        return status

    async def interrupt(self) -> None:
        """SIGINT to the container's init, which passes it on to GAP."""
        with contextlib.suppress(docker.errors.APIError):  # gone already: nothing to stop
            await asyncio.to_thread(self.engine.client.api.kill, self.container_id, signal="SIGINT")

    def memory(self) -> int | None:
        """GAP's resident memory, read from /proc; None for a remote engine."""
        if self._gap_pid is None:
            return None
        try:
            with open(f"/proc/{self._gap_pid}/statm") as statm:
                return int(statm.read().split()[1]) * PAGE_SIZE
        except (OSError, ValueError, IndexError):
            return None

    async def stop(self) -> None:
        self._stopping.set()
        if self._released is None:
            self._released = asyncio.ensure_future(self._release(self))
        await asyncio.shield(self._released)

    async def find_gap_process(self) -> None:
        """Learn GAP's process id, for ``memory``, when the engine is this machine's."""
        if self.engine.local:
            self._gap_pid = await asyncio.to_thread(_gap_pid, self.engine, self.container_id)

    async def _state(self) -> dict[str, Any] | None:
        """The container's state, or None once it is gone."""
        try:
            attrs = await asyncio.to_thread(
                self.engine.client.api.inspect_container, self.container_id
            )
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:
            log.warning("cannot inspect worker %s: %s", self.name, exc)
            return {"Running": True}  # look again later
        state: dict[str, Any] = attrs["State"]
        return state


def _gap_pid(engine: Engine, container_id: str) -> int | None:
    """GAP's process: the child of the container's init, if it is visible here."""
    try:
        init = engine.client.api.inspect_container(container_id)["State"]["Pid"]
        with open(f"/proc/{init}/task/{init}/children") as children:
            pids = [int(p) for p in children.read().split()]
        for pid in pids:
            with open(f"/proc/{pid}/cgroup") as cgroup:
                if container_id in cgroup.read():
                    return pid
    except (docker.errors.APIError, OSError, ValueError, KeyError):
        pass
    return None


async def tail(engine: Engine, container_id: str, lines: int = LOG_TAIL) -> str:
    """The last ``lines`` of a container's output, for an error message."""
    try:
        output = await asyncio.to_thread(
            engine.client.api.logs, container_id, stdout=True, stderr=True, tail=lines
        )
    except docker.errors.APIError as exc:
        return f"(no output: {exc})"
    return output.decode(errors="replace").strip() or "nothing"


class PortTaken(WorkerStartError):
    """GAP could not listen on its port: another process has it."""


async def until_ready(engine: Engine, container_id: str, endpoint: Endpoint, what: str) -> None:
    """Return once GAP in the container listens at ``endpoint``.

    GAP prints its ready line a moment before it listens; a probe connection
    that leaves at once is harmless. Raises PortTaken, or WorkerStartError
    with the container's last output if it exits first. The caller bounds
    the time.
    """
    while True:
        try:
            attrs, output = await asyncio.to_thread(_look, engine, container_id)
        except docker.errors.NotFound:
            raise WorkerStartError(f"{what} vanished while it started") from None
        if READY_MARK in output:
            break
        if BIND_FAILED_MARK in output:
            raise PortTaken(f"{what} could not listen on {endpoint}")
        state = attrs["State"]
        if not state.get("Running") and state.get("Status") != "created":
            said = output.decode(errors="replace").strip()
            lines = "\n".join(said.splitlines()[-LOG_TAIL:]) or "nothing"
            raise WorkerStartError(
                f"{what} exited while starting (status {state.get('ExitCode')}); it said: {lines}"
            )
        await asyncio.sleep(POLL)
    await until_listening(endpoint.host, endpoint.port)


def _look(engine: Engine, container_id: str) -> tuple[dict[str, Any], bytes]:
    api = engine.client.api
    attrs = api.inspect_container(container_id)
    return attrs, api.logs(container_id, stdout=True, stderr=True)


def remove_orphans(engine: Engine, gateway_id: str) -> int:
    """Remove every service and container labelled with ``gateway_id``; how many.

    At a gateway's start these are what an earlier run left (it was killed);
    at its end, what is still there. Task containers go with their service.
    Blocking: call it in a thread.
    """
    label = f"{LABEL_GATEWAY}={gateway_id}"
    removed = 0
    with contextlib.suppress(docker.errors.APIError):  # not a swarm manager: no services
        for service in engine.client.services.list(filters={"label": label}):
            with contextlib.suppress(docker.errors.NotFound):
                service.remove()
                removed += 1
    for container in ours(engine, gateway_id):
        if SWARM_SERVICE_LABEL in container.labels:
            continue  # its service's removal takes it
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            container.remove(force=True)
            removed += 1
    return removed


def ours(engine: Engine, gateway_id: str) -> list[Any]:
    """Containers (any state) labelled with ``gateway_id``. Blocking.

    One removed between the engine's list and its look at each is left out
    (a worker that exits while we look is no error).
    """
    label = f"{LABEL_GATEWAY}={gateway_id}"
    found = engine.client.containers.list(all=True, filters={"label": label}, ignore_removed=True)
    return list(found)


def check_image(engine: Engine, image: str) -> None:
    """Fail clearly when the worker image is not on the engine. Blocking."""
    try:
        engine.client.images.get(image)
    except docker.errors.ImageNotFound:
        raise WorkerStartError(
            f"the worker image {image} is not on the engine at {engine.url}; "
            "build it with containers/build"
        ) from None
    except docker.errors.APIError as exc:
        raise WorkerStartError(f"cannot look up {image} on {engine.url}: {exc}") from exc


def container_name(gateway_id: str, backend: str) -> str:
    """A readable, unique container name (engines allow [a-zA-Z0-9_.-])."""
    safe = "".join(c if c.isalnum() or c in "_.-" else "-" for c in gateway_id)
    return f"scscp-{safe}-{backend}-{os.urandom(3).hex()}"
