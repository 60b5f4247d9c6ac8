"""Runtime limits, terminate and the allow-list: what GAP itself ignores."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from pathlib import Path

import pytest

from scscp.client import Client
from scscp.errors import ProcedureError
from scscp.gateway import Gateway
from scscp.openmath import (
    OMApplication,
    OMBinding,
    OMInteger,
    OMReference,
    OMString,
    OMSymbol,
    OMVariable,
)
from scscp.protocol import TRANSIENT_CD, ProcedureCall, ProcedureCompleted, ProcedureTerminated
from tests.conftest import eventually, gateway_config

# 414159265358979323846264338403 * 271828182845904523536028747271: GAP's
# Factors (with FactInt) needs minutes for these 60 digits.
SEMIPRIME = 112580160511326123008238383485608386927203987476281706748213


def worker_pids(gateway: Gateway) -> set[int]:
    return {w.handle.process.pid for w in gateway.pool.workers}  # type: ignore[attr-defined]


async def test_option_runtime_interrupts_the_computation(gateway: Gateway) -> None:
    pids = worker_pids(gateway)
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        with pytest.raises(ProcedureError) as caught:
            await client.call("WS_Factors", SEMIPRIME, runtime_ms=500)
        assert caught.value.symbol == OMSymbol("scscp1", "error_runtime")
        assert "runtime limit of 500 ms" in caught.value.message
        await eventually(
            lambda: gateway.pool.idle == 2,
            timeout=30,
            what="the interrupted worker back in the pool",
        )
        # The same processes serve on: interrupted, not replaced.
        assert worker_pids(gateway) == pids
        answers = await asyncio.gather(*(client.call("WS_Factors", 2**10 * 3) for _ in range(4)))
        assert answers == [[2] * 10 + [3]] * 4


async def test_the_runtime_limit_counts_computing_not_waiting_in_the_queue(gap: str) -> None:
    gw = Gateway(gateway_config(gap, workers=1, busy=True))
    await gw.start()
    try:
        async with await Client.connect("127.0.0.1", gw.port) as client:
            ahead = asyncio.ensure_future(client.call("Busy", 2))  # 2 CPU seconds on the worker
            await eventually(
                lambda: gw.pool.running == 1, timeout=10, what="Busy running on the one worker"
            )
            # Waits about 2 s for the worker, then computes in far less than its 1 s.
            assert await client.call("Gnu", 8, runtime_ms=1000) == 5
            assert await ahead == 2
    finally:
        await gw.close()


async def test_operator_max_runtime_applies_to_every_call(gap: str) -> None:
    config = dataclasses.replace(gateway_config(gap, workers=1), max_runtime=0.3)
    gw = Gateway(config)
    await gw.start()
    try:
        async with await Client.connect("127.0.0.1", gw.port) as client:
            with pytest.raises(ProcedureError) as caught:
                await client.call("WS_Factors", SEMIPRIME)
            assert caught.value.symbol.name == "error_runtime"
            # A shorter option_runtime wins; a longer one is capped.
            with pytest.raises(ProcedureError):
                await client.call("WS_Factors", SEMIPRIME, runtime_ms=60_000)
            assert await client.call("Gnu", 1024) == 49487367289
    finally:
        await gw.close()


async def test_terminate_interrupts_only_the_named_call(gateway: Gateway) -> None:
    async with (
        await Client.connect("127.0.0.1", gateway.port) as victim,
        await Client.connect("127.0.0.1", gateway.port) as bystander,
    ):
        call = ProcedureCall(
            "long-one", OMSymbol(TRANSIENT_CD, "WS_Factors"), (OMInteger(SEMIPRIME),)
        )
        pending = asyncio.create_task(victim.request(call))
        await eventually(
            lambda: any(w.busy for w in gateway.pool.workers),
            timeout=10,
            what="the long call reached a worker",
        )
        victim.terminate("long-one")
        reply = await pending
        assert isinstance(reply, ProcedureTerminated)
        assert "terminated at the client's request" in reply.message
        # The other client's calls were never disturbed, and both sessions go on.
        assert await bystander.call("Gnu", 2000) == 963
        assert await victim.call("Gnu", 1536) == 408641062
    await eventually(lambda: gateway.pool.idle == 2, timeout=30, what="both workers idle")


@pytest.mark.parametrize("name", ["SCSCPStartTracing", "NoSuchProcedure", "Busy"])
async def test_procedures_outside_the_allow_list_are_rejected(gap: str, name: str) -> None:
    gw = Gateway(gateway_config(gap, workers=1))  # the default allow-list
    await gw.start()
    try:
        served = sum(w.calls_served for w in gw.pool.workers)
        async with await Client.connect("127.0.0.1", gw.port) as client:
            with pytest.raises(ProcedureError) as caught:
                await client.call(name, 1)
            # The same error GAP gives for a procedure it does not know.
            assert caught.value.symbol == OMSymbol("error", "unexpected_symbol")
            assert caught.value.reply.error.args == (OMSymbol(TRANSIENT_CD, name),)
        assert sum(w.calls_served for w in gw.pool.workers) == served  # no worker saw it
    finally:
        await gw.close()


async def test_worker_memory_limit_gives_error_memory(gap: str) -> None:
    config = gateway_config(gap, workers=1, busy=True)
    config = dataclasses.replace(config, pool=dataclasses.replace(config.pool, memory=300 * 2**20))
    gw = Gateway(config)
    await gw.start()
    try:
        pids = worker_pids(gw)
        async with await Client.connect("127.0.0.1", gw.port) as client:
            with pytest.raises(ProcedureError) as caught:
                await client.call("Allocate", 10**7)
            assert caught.value.symbol == OMSymbol("scscp1", "error_memory")
            assert "memory limit" in caught.value.message
            needy = ProcedureCall(
                "needy", OMSymbol(TRANSIENT_CD, "Gnu"), (OMInteger(8),), min_memory=2**40
            )
            refused = await client.request(needy)  # asks more than any worker has
            assert isinstance(refused, ProcedureTerminated)
            assert refused.error.symbol.name == "error_memory"
            assert await client.call("Allocate", 1000) == 1000
        assert worker_pids(gw) == pids  # stopped, not killed
    finally:
        await gw.close()


async def test_option_max_memory_interrupts_a_growing_call(gateway: Gateway) -> None:
    pids = worker_pids(gateway)
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        call = ProcedureCall(
            "greedy",
            OMSymbol(TRANSIENT_CD, "Allocate"),
            (OMInteger(10**7),),
            max_memory=50 * 2**20,
        )
        reply = await client.request(call)
        assert isinstance(reply, ProcedureTerminated)
        assert reply.error.symbol == OMSymbol("scscp1", "error_memory")
        assert "option_max_memory" in reply.message
        assert await client.call("Allocate", 1000) == 1000
    await eventually(lambda: gateway.pool.idle == 2, timeout=30, what="both workers idle")
    assert worker_pids(gateway) == pids


async def test_a_disallowed_procedure_cannot_hide_in_the_arguments(
    gateway: Gateway, tmp_path: Path
) -> None:
    """GAP evaluates a procedure symbol wherever it stands: Identity(SCSCPStartTracing(f))."""
    trace = tmp_path / "trace"
    hidden = OMApplication(OMSymbol(TRANSIENT_CD, "SCSCPStartTracing"), (OMString(str(trace)),))
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        with pytest.raises(ProcedureError) as caught:
            await client.call("Identity", hidden)
        assert caught.value.reply.error.args == (OMSymbol(TRANSIENT_CD, "SCSCPStartTracing"),)
        allowed_inside = OMApplication(OMSymbol(TRANSIENT_CD, "WS_Factorial"), (OMInteger(5),))
        assert await client.call("Identity", allowed_inside) == 120
    assert not list(tmp_path.iterdir())


async def test_references_in_unknown_attributes_are_not_followed(gateway: Gateway) -> None:
    """GAP would fetch a reference from wherever it points, even in an attribute."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens there once closed
    elsewhere = OMReference(f"scscp://127.0.0.1:{closed_port}/TEMPVarSCSCP1")
    call = ProcedureCall(
        "attr",
        OMSymbol(TRANSIENT_CD, "Identity"),
        (OMInteger(1),),
        extra=((OMSymbol("private_cd", "note"), elsewhere),),
    )
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        reply = await client.request(call)
    assert reply == ProcedureCompleted("attr", OMInteger(1))


async def test_bindings_cannot_smuggle_gap_code(gateway: Gateway, tmp_path: Path) -> None:
    """GAP's reader compiles OMBIND into source text with the variable names pasted in."""
    proof = tmp_path / "proof"
    name = f'a ) return 0; end; Exec("touch {proof}"); _x := function( b'
    lam = OMSymbol("fns1", "lambda")
    evil = OMBinding(lam, (OMVariable(name),), OMInteger(1))
    fine = OMBinding(lam, (OMVariable("x"),), OMVariable("x"))
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        with pytest.raises(ProcedureError, match="bound variable name"):
            await client.call("Identity", evil)
        # A plain lambda still reaches GAP (which cannot send a function back).
        with pytest.raises(ProcedureError, match="without a complete answer"):
            await client.call("Identity", fine)
    assert not proof.exists()
