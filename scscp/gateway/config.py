"""The gateway's configuration: one typed object, from TOML and then flags.

Example (every key optional)::

    listen = "127.0.0.1:26133"
    http = "127.0.0.1:8080"              # /metrics, /healthz, /readyz, /status
    max_message_size = 67108864
    max_runtime = 3600.0                 # seconds, for every call
    allow = ["Gnu", "GnuExplained", "WS_*"]

    [pool]
    provider = "local"                   # local | docker | swarm | dns
    workers = 2                          # the pool's size (its floor, when autoscaling)
    max_workers = 8                      # above workers: the autoscaler sizes the pool
    scale_down_after = 300.0             # seconds the load must stay low before a shrink
    start_timeout = 60.0
    memory = 2147483648                  # bytes per worker (GAP's -o limit)
    max_queue = 1000                     # calls waiting; more are refused "busy, retry"
    max_queue_wait = 60.0                # seconds a call may wait for a worker

    [pool.health]
    probe_interval = 30.0                # seconds between probes of idle workers
    recycle_calls = 100000               # replace a worker after this many calls

    [gap]
    executable = "gap"
    services = ["services/gap/gnu.g"]   # relative to this file

    [containers]                         # for the docker and swarm providers
    image = "scscp/gap-minimal"

    [dns]                                # for the dns provider (a headless Service)
    name = "gap-workers.scscp.svc.cluster.local"
    interval = 5.0                       # seconds between lookups

Flags given on the command line override the file.
"""

from __future__ import annotations

import dataclasses
import socket
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scscp.endpoint import DEFAULT_PORT, Endpoint, parse_endpoint
from scscp.gateway.health import HealthPolicy
from scscp.protocol.connection import DEFAULT_MAX_MESSAGE

REPO_SERVICES = Path(__file__).resolve().parents[2] / "services" / "gap"
DEFAULT_HTTP = Endpoint("127.0.0.1", 8080)  # where `serve` puts the HTTP side by default
# Read after the services by every GAP worker: whole-message writes, then the server.
WORKER_SCRIPTS = ("one_write_per_message.g", "worker.g")


@dataclass(frozen=True, slots=True)
class GapConfig:
    executable: str = "gap"
    services: tuple[Path, ...] = (REPO_SERVICES / "gnu.g", REPO_SERVICES / "classic.g")

    @property
    def scripts(self) -> tuple[Path, ...]:
        """The files GAP reads: the services, then the scripts that start the server."""
        return (*self.services, *(REPO_SERVICES / name for name in WORKER_SCRIPTS))


MIN_MESSAGE_SIZE = 4096  # bytes: a control message alone may take 4094
MAX_WORKERS = 1024  # per gateway: a typo of a few zeros must not start a million GAPs
PROVIDERS = ("local", "docker", "swarm", "dns")


@dataclass(frozen=True, slots=True)
class DnsConfig:
    """Workers found in DNS (provider dns): the addresses behind a headless Service."""

    name: str = ""  # e.g. "gap-workers.scscp.svc.cluster.local"
    port: int = DEFAULT_PORT  # where every worker listens
    interval: float = 5.0  # seconds between lookups
    nameserver: Endpoint | None = None  # "HOST:PORT" to ask; None: the system's resolver


@dataclass(frozen=True, slots=True)
class ContainerConfig:
    """Workers in containers (providers docker and swarm), host networking on loopback."""

    image: str = "scscp/gap-minimal"
    engines: tuple[str, ...] = ()  # Docker engine URLs (DOCKER_HOST style); (): the environment's
    cpus: float | None = 1.0  # CPUs per worker
    pids: int | None = 256  # processes per worker
    # GAP files from this machine that every worker reads besides the image's own
    # services (mounted read-only; engines on this machine only)
    services: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True)
class PoolConfig:
    provider: str = "local"  # one of PROVIDERS
    workers: int = 2  # the pool's size; with max_workers above it, the autoscaler's floor
    min_workers: int | None = None  # the autoscaler's floor, if not workers (0: scale to zero)
    max_workers: int | None = None  # the autoscaler's ceiling; None: a fixed pool
    scale_down_after: float = 300.0  # seconds a lower load must last before the pool shrinks
    target_per_worker: float = 1.0  # calls in flight or waiting that one worker should carry
    start_timeout: float = 60.0
    memory: int | None = None  # bytes each worker may use (GAP's -o); None: GAP's default
    max_queue: int = 1000  # calls waiting for a worker; more are refused "busy, retry"
    max_queue_wait: float | None = None  # seconds a call may wait for a worker
    health: HealthPolicy = field(default_factory=HealthPolicy)  # [pool.health]

    @property
    def bounds(self) -> tuple[int, int]:
        """The least and most workers the pool may have."""
        high = self.workers if self.max_workers is None else self.max_workers
        low = min(self.workers, high) if self.min_workers is None else self.min_workers
        return low, high

    @property
    def autoscaling(self) -> bool:
        low, high = self.bounds
        return low != high


# What the bundled GAP services offer; operators widen or narrow it. The GAP
# server also installs tracing procedures that write files: not allowed here.
DEFAULT_ALLOW = (
    "Gnu", "GnuExplained", "NrSmallGroups",
    "Identity", "WS_*", "IsPrimeInt", "NrConjugacyClasses", "Size", "Length",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    listen: Endpoint = field(default_factory=lambda: Endpoint("127.0.0.1", DEFAULT_PORT))
    # The HTTP side (/metrics, /healthz, /readyz, /status); None: none. ``scscp-gateway
    # serve`` uses DEFAULT_HTTP unless told otherwise; in-process gateways (tests) ask.
    http: Endpoint | None = None
    max_message_size: int = DEFAULT_MAX_MESSAGE
    max_runtime: float | None = None  # seconds; applies to every call, with option_runtime
    allow: tuple[str, ...] = DEFAULT_ALLOW  # procedure names, shell-style patterns
    id: str | None = None  # names this gateway's containers; default: host name and port
    pool: PoolConfig = field(default_factory=PoolConfig)
    gap: GapConfig = field(default_factory=GapConfig)
    containers: ContainerConfig = field(default_factory=ContainerConfig)
    dns: DnsConfig = field(default_factory=DnsConfig)

    @property
    def gateway_id(self) -> str:
        """Stable across restarts, so that a new run finds what a crashed one left."""
        return self.id or f"{socket.gethostname()}-{self.listen.port}"

    @classmethod
    def from_toml(cls, path: Path) -> GatewayConfig:
        with path.open("rb") as f:
            try:
                data = tomllib.load(f)
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"{path} is not valid TOML: {exc}") from None
        try:
            return cls.from_dict(data, base=path.parent)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, base: Path = Path()) -> GatewayConfig:
        data = dict(data)
        pool_data = _table(data, "pool", "the top level")
        health = _section(HealthPolicy, _table(pool_data, "health", "pool"), "pool.health")
        pool = _section(PoolConfig, {**pool_data, "health": health}, "pool")
        gap_data = _table(data, "gap", "the top level")
        if "services" in gap_data:
            gap_data["services"] = tuple(base / p for p in _items(gap_data, "services", "gap"))
        gap = _section(GapConfig, gap_data, "gap")
        container_data = _table(data, "containers", "the top level")
        if "engines" in container_data:
            container_data["engines"] = tuple(_items(container_data, "engines", "containers"))
        if "services" in container_data:
            services = _items(container_data, "services", "containers")
            container_data["services"] = tuple(base / p for p in services)
        containers = _section(ContainerConfig, container_data, "containers")
        dns_data = _table(data, "dns", "the top level")
        if "nameserver" in dns_data:
            dns_data["nameserver"] = _address(dns_data, "nameserver", "dns", 53)
        dns = _section(DnsConfig, dns_data, "dns")
        if "listen" in data:
            data["listen"] = _address(data, "listen", "the top level", DEFAULT_PORT)
        if "http" in data:
            data["http"] = _address(data, "http", "the top level", DEFAULT_HTTP.port)
        if "allow" in data:
            data["allow"] = tuple(_items(data, "allow", "the top level"))
        return _section(
            cls,
            {**data, "pool": pool, "gap": gap, "containers": containers, "dns": dns},
            "the top level",
        )

    def validate(self) -> GatewayConfig:
        """Check what can be checked before anything starts; returns self."""
        pool = self.pool
        if pool.provider not in PROVIDERS:
            raise ValueError(f"pool.provider must be one of {', '.join(PROVIDERS)}")
        if pool.provider == "swarm" and len(self.containers.engines) > 1:
            raise ValueError("the swarm provider talks to one engine, a Swarm manager")
        if pool.provider == "dns" and not self.dns.name:
            raise ValueError("the dns provider needs dns.name (the workers' headless Service)")
        low, high = pool.bounds
        if max(pool.workers, high) > MAX_WORKERS:
            raise ValueError(
                f"at most {MAX_WORKERS} workers per gateway (each GAP holds about 140 MiB); "
                "run more gateways for more"
            )
        if low < 0 or pool.workers < 0 or high < max(low, 1):
            raise ValueError(
                f"the pool's size must be 0 <= least <= most, most >= 1; got {low}..{high} "
                "(from workers, min_workers, max_workers)"
            )
        if pool.scale_down_after < 0 or pool.target_per_worker <= 0:
            raise ValueError("pool.scale_down_after must be >= 0, target_per_worker > 0")
        if self.pool.memory is not None and self.pool.memory < 64 * 2**20:
            raise ValueError("pool.memory must be at least 64 MiB (GAP needs that to start)")
        if self.pool.max_queue < 0:
            raise ValueError("pool.max_queue must not be negative")
        health = pool.health
        positive = {  # None: the setting is off; nan is not positive either
            "max_runtime": self.max_runtime,
            "pool.start_timeout": pool.start_timeout,
            "pool.max_queue_wait": pool.max_queue_wait,
            "pool.health.probe_interval": health.probe_interval,
            "pool.health.probe_timeout": health.probe_timeout,
            "pool.health.probe_failures": health.probe_failures,
            "pool.health.recycle_calls": health.recycle_calls,
            "pool.health.recycle_after": health.recycle_after,
            "containers.cpus": self.containers.cpus,
            "containers.pids": self.containers.pids,
            "dns.interval": self.dns.interval,
        }
        for name, value in positive.items():
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if self.max_message_size < MIN_MESSAGE_SIZE:
            raise ValueError(
                f"max_message_size must be at least {MIN_MESSAGE_SIZE} bytes, "
                f"got {self.max_message_size}"
            )
        # Only local workers read [gap] files; a gateway image for containers has none.
        missing = [str(p) for p in self.gap.scripts if not p.is_file()]
        if missing and pool.provider == "local":
            raise ValueError(f"GAP service files not found: {', '.join(missing)}")
        return self


def _section(kind: type, values: dict[str, Any], where: str) -> Any:
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown setting(s) in {where}: {', '.join(sorted(unknown))}")
    hints = typing.get_type_hints(kind)
    for name, value in values.items():
        if not _fits(value, hints[name]):
            shown = list(value) if isinstance(value, tuple) else value  # as the file has it
            raise ValueError(f"{where}: {name} must be {_describe(hints[name])}, got {shown!r}")
    return kind(**values)


def _fits(value: Any, hint: Any) -> bool:
    """Whether a TOML value (after the conversions above) has the field's type."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        return isinstance(value, tuple) and all(_fits(v, item) for v in value)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return not isinstance(hint, type) or isinstance(value, hint)


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        # TOML has no null: an optional setting is one left out
        return " or ".join(_describe(h) for h in typing.get_args(hint) if h is not type(None))
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        return "a list of " + {str: "strings", Path: "paths"}.get(item, _describe(item))
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    return names.get(hint, getattr(hint, "__name__", "?"))


def _table(values: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    table = values.pop(key, {})
    if not isinstance(table, dict):
        raise ValueError(f"{where}: {key} must be a table ([{key}]), got {table!r}")
    return dict(table)


def _items(values: dict[str, Any], key: str, where: str) -> list[Any]:
    items = values[key]
    if not isinstance(items, list):
        raise ValueError(f"{where}: {key} must be a list, got {items!r}")
    return items


def _address(values: dict[str, Any], key: str, where: str, port: int) -> Endpoint:
    text = values[key]
    if not isinstance(text, str):
        raise ValueError(f'{where}: {key} must be a string "HOST:PORT", got {text!r}')
    return parse_endpoint(text, port)
