"""The gateway as a running service: an SCSCP server whose calls go to a pool.

Before a call reaches a worker the gateway applies the operator's policy:
the allow-list (others are rejected as GAP rejects an unknown procedure) and
the runtime limit (``option_runtime`` and ``max_runtime``, whichever is
shorter), which GAP itself ignores.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import re

from scscp import __version__
from scscp.gateway.config import GatewayConfig
from scscp.gateway.pool import Pool
from scscp.gateway.providers.local import LocalProvider
from scscp.openmath import OMError, OMSymbol
from scscp.protocol import ProcedureCall, ProcedureCompleted, ProcedureTerminated
from scscp.server import Server

log = logging.getLogger(__name__)

Reply = ProcedureCompleted | ProcedureTerminated
UNEXPECTED_SYMBOL = OMSymbol("error", "unexpected_symbol")


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
        self._allowed = re.compile(
            "|".join(fnmatch.translate(pattern) for pattern in config.allow) or "(?!)"
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

    def allows(self, procedure: OMSymbol) -> bool:
        return self._allowed.fullmatch(procedure.name) is not None

    async def handle(self, call: ProcedureCall) -> Reply:
        if not self.allows(call.procedure):
            return ProcedureTerminated(call.call_id, OMError(UNEXPECTED_SYMBOL, (call.procedure,)))
        limit = self.runtime_limit(call)
        try:
            async with asyncio.timeout(limit):
                return await self.pool.call(call)
        except TimeoutError:
            assert limit is not None
            return ProcedureTerminated.because(
                call.call_id,
                f"{call.name} exceeded its runtime limit of {round(limit * 1000)} ms "
                "and was interrupted",
                "error_runtime",
            )

    def runtime_limit(self, call: ProcedureCall) -> float | None:
        """Seconds the call may take: the client's option_runtime, capped by the operator's."""
        limits = [self.config.max_runtime]
        if call.runtime_ms is not None:
            limits.append(call.runtime_ms / 1000)
        return min((t for t in limits if t is not None), default=None)
