"""Worker health: a known answer before serving, probes while idle, recycling.

A process that accepts connections is not yet a worker that computes: a new
worker must answer a real call with a known answer before it serves. Idle
workers are probed at an interval, so that a hung one (stopped, or stuck in
GAP's break loop) is found before a client's call is given to it. Workers
can also be recycled after a number of calls or a lifetime, which bounds
what a long-lived GAP process accumulates (memory, stored objects).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from scscp.gateway.worker import Worker, WorkerLost
from scscp.openmath import OMApplication, OMSymbol
from scscp.protocol import ProcedureCall, ProcedureCompleted

# Every SCSCP server answers this, GAP with its procedure list.
PROBE = ProcedureCall("gateway-probe", OMSymbol("scscp2", "get_allowed_heads"))
KNOWN_ANSWER_HEAD = OMSymbol("scscp2", "symbol_set")


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    probe_interval: float | None = 30.0  # seconds between probes of an idle worker; None: never
    probe_timeout: float = 5.0  # seconds a probe may take
    probe_failures: int = 2  # failed probes in a row that eject a worker
    recycle_calls: int | None = None  # calls after which a worker is replaced
    recycle_after: float | None = None  # seconds after which a worker is replaced

    def worn_out(self, worker: Worker) -> bool:
        """Whether ``worker`` has served its calls or its time."""
        if self.recycle_calls is not None and worker.calls_served >= self.recycle_calls:
            return True
        age = asyncio.get_running_loop().time() - worker.started_at
        return self.recycle_after is not None and age >= self.recycle_after


async def healthy(worker: Worker, timeout: float) -> bool:
    """Whether ``worker`` gives the known answer to the probe within ``timeout``."""
    try:
        async with asyncio.timeout(timeout):
            reply = await worker.request(PROBE)
    except (TimeoutError, WorkerLost):
        return False
    return (
        isinstance(reply, ProcedureCompleted)
        and isinstance(reply.result, OMApplication)
        and reply.result.head == KNOWN_ANSWER_HEAD
    )
