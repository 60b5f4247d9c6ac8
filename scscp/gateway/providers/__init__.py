"""Where workers come from: local processes, Docker containers, or a Swarm service."""

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
    raise ValueError(f"unknown provider {kind!r}")
