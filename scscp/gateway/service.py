"""The gateway as a running service: an SCSCP server whose calls go to a pool."""

from __future__ import annotations

import logging

from scscp import __version__
from scscp.gateway.config import GatewayConfig
from scscp.gateway.pool import Pool
from scscp.gateway.providers.local import LocalProvider
from scscp.protocol import ProcedureCall, ProcedureCompleted, ProcedureTerminated
from scscp.server import Server

log = logging.getLogger(__name__)


class Gateway:
    """Start with ``start()``, stop with ``close()``; ``port`` is where it listens."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config.validate()
        provider = LocalProvider(
            config.gap.executable, config.gap.scripts, start_timeout=config.pool.start_timeout
        )
        self.pool = Pool(provider, config.pool.workers)
        self.server = Server(
            self.handle,
            service_name="scscp-gateway",
            service_version=__version__,
            max_message_size=config.max_message_size,
        )

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> None:
        await self.pool.start()
        try:
            await self.server.start(self.config.listen.host, self.config.listen.port)
        except BaseException:
            await self.pool.close()
            raise

    async def close(self) -> None:
        await self.server.close()
        await self.pool.close()

    async def handle(self, call: ProcedureCall) -> ProcedureCompleted | ProcedureTerminated:
        return await self.pool.call(call)
