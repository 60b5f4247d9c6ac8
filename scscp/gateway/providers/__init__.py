"""Where workers come from: local processes, Docker containers, a Swarm service, or DNS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scscp.gateway.providers.base import Provider

if TYPE_CHECKING:
    from scscp.gateway.config import GatewayConfig


def make_provider(config: GatewayConfig) -> Provider:
    """The provider that ``config.pool.provider`` names, set up from ``config``."""
    kind = config.pool.provider
    if kind == "local":
        from scscp.gateway.providers.local import LocalProvider

        return LocalProvider(
            config.gap.executable,
            config.gap.scripts,
            start_timeout=config.pool.start_timeout,
            memory=config.pool.memory,
        )
    if kind == "dns":
        from scscp.gateway.providers.dns import DnsProvider

        dns = config.dns
        return DnsProvider(
            dns.name,
            dns.port,
            interval=dns.interval,
            nameserver=dns.nameserver,
            start_timeout=config.pool.start_timeout,
            max_workers=config.pool.bounds[1],
        )
    if kind in ("docker", "swarm"):
        from scscp.gateway.providers.containers import WorkerSpec

        containers = config.containers
        spec = WorkerSpec(
            containers.image,
            config.gateway_id,
            memory=config.pool.memory,
            cpus=containers.cpus,
            pids=containers.pids,
            services=containers.services,
        )
        if kind == "docker":
            from scscp.gateway.providers.docker import DockerProvider

            return DockerProvider(spec, containers.engines, start_timeout=config.pool.start_timeout)
        from scscp.gateway.providers.swarm import SwarmProvider

        return SwarmProvider(
            spec,
            containers.engines[0] if containers.engines else None,
            start_timeout=config.pool.start_timeout,
            max_workers=config.pool.bounds[1],
        )
    raise ValueError(f"unknown provider {kind!r}")
