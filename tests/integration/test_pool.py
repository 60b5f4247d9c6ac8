"""The pool under concurrent load and when a worker dies mid-call."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from scscp.client import Client
from scscp.errors import ProcedureError
from scscp.gateway import Gateway, GatewayConfig
from scscp.gateway.providers.local import LocalProvider
from tests.conftest import eventually, gateway_config, until

ORDERS = random.Random(2026).sample(range(1, 2001), 50)


async def direct_answers(gap: str) -> dict[int, int]:
    """What one GAP worker answers without the gateway, the reference."""
    config = gateway_config(gap)
    provider = LocalProvider(gap, config.gap.scripts)
    handle = await provider.start()
    try:
        async with await Client.connect(handle.endpoint.host, handle.endpoint.port) as gap_client:
            return {n: await gap_client.call("Gnu", n) for n in ORDERS}
    finally:
        await provider.close()


async def test_eight_concurrent_clients_get_what_gap_gives(gap: str, gateway: Gateway) -> None:
    expected = await direct_answers(gap)
    served = sum(w.calls_served for w in gateway.pool.workers)

    async def one_client(seed: int) -> dict[int, int]:
        orders = random.Random(seed).sample(ORDERS, len(ORDERS))
        async with await Client.connect("127.0.0.1", gateway.port) as client:
            return {n: await client.call("Gnu", n) for n in orders}

    results = await asyncio.gather(*(one_client(seed) for seed in range(8)))
    assert all(result == expected for result in results)
    assert sum(w.calls_served for w in gateway.pool.workers) - served == 8 * len(ORDERS)


async def test_pipelined_calls_on_one_session(gateway: Gateway) -> None:
    """Calls sent without waiting are answered by call_id, whatever the order."""
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        answers = await asyncio.gather(*(client.call("Gnu", n) for n in (8, 16, 24, 32)))
    assert answers == [5, 14, 15, 51]


async def test_worker_killed_mid_call(gateway: Gateway) -> None:
    pool = gateway.pool
    async with await Client.connect("127.0.0.1", gateway.port) as victim_client:
        doomed = asyncio.create_task(victim_client.call("Busy", 600))
        await eventually(
            lambda: any(w.busy for w in pool.workers),
            timeout=10,
            what="the Busy call reached a worker",
        )
        victim = next(w for w in pool.workers if w.busy)
        pid = victim.handle.process.pid  # type: ignore[attr-defined]

        outcomes: Counter[str] = Counter()

        async def load(client_id: int) -> None:
            async with await Client.connect("127.0.0.1", gateway.port) as client:
                for i in range(40):
                    try:
                        assert await client.call("Gnu", 8 + client_id + i) is not None
                        outcomes["answered"] += 1
                    except ProcedureError as exc:
                        assert "died" in exc.message
                        outcomes["worker died"] += 1

        loaders = [asyncio.create_task(load(i)) for i in range(4)]
        os.kill(pid, signal.SIGKILL)
        try:
            await doomed
            raise AssertionError("the call on the killed worker was answered")
        except ProcedureError as exc:
            assert exc.symbol.name == "error_system_specific"
            assert "died while computing Busy" in exc.message
        await asyncio.gather(*loaders)

    assert sum(outcomes.values()) == 4 * 40  # one answer each, none lost
    await eventually(
        lambda: pool.ready == 2 and pool.idle == 2,
        timeout=30,
        what="the pool back at two ready workers",
    )
    assert victim not in pool.workers
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        assert (
            await asyncio.gather(*(client.call("Gnu", 1024) for _ in range(4))) == [49487367289] * 4
        )


async def test_calls_fail_fast_while_no_worker_can_start(gap: str, tmp_path: Path) -> None:
    """GAP vanishes (say, uninstalled) and a worker dies: calls are told, not parked."""
    gap_link = tmp_path / "gap"
    gap_link.symlink_to(gap)
    gw = Gateway(gateway_config(str(gap_link), workers=1))
    await gw.start()
    try:
        async with await Client.connect("127.0.0.1", gw.port) as client:
            gap_link.unlink()
            (victim,) = gw.pool.workers
            os.kill(victim.handle.process.pid, signal.SIGKILL)  # type: ignore[attr-defined]
            await eventually(lambda: not gw.pool.workers, timeout=10, what="the death noticed")
            with pytest.raises(ProcedureError) as caught:
                await asyncio.wait_for(client.call("Gnu", 8), timeout=60)
            assert "no worker is available" in caught.value.message
            assert "cannot run GAP" in caught.value.message
            gap_link.symlink_to(gap)  # GAP is back: the pool recovers by itself
            await eventually(lambda: gw.pool.ready == 1, timeout=60, what="a new worker")
            assert await client.call("Gnu", 8) == 5
    finally:
        await gw.close()


async def test_a_flood_of_pipelined_calls_is_throttled_not_lost(gateway: Gateway) -> None:
    """Past 32 calls in flight the server stops reading that session; all are answered."""
    orders = list(range(1, 201))
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        answers = await asyncio.gather(*(client.call("NrSmallGroups", n) for n in orders))
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        expected = [await client.call("NrSmallGroups", n) for n in orders]
    assert answers == expected


async def test_the_queue_is_bounded_in_length_and_in_time(gap: str) -> None:
    config = gateway_config(gap, workers=1, busy=True)
    config = dataclasses.replace(
        config, pool=dataclasses.replace(config.pool, max_queue=1, max_queue_wait=1.0)
    )
    gw = Gateway(config)
    await gw.start()
    try:
        async with await Client.connect("127.0.0.1", gw.port) as client:
            running = asyncio.create_task(client.call("Busy", 600))
            await eventually(lambda: gw.pool.idle == 0, timeout=10, what="the worker taken")
            waiting = asyncio.create_task(client.call("Gnu", 8))
            await eventually(lambda: gw.pool.queued == 1, timeout=10, what="one queued")
            with pytest.raises(ProcedureError, match="busy: 1 calls are waiting"):
                await client.call("Gnu", 16)
            with pytest.raises(ProcedureError, match=r"no worker was free within 1\.0 s"):
                await waiting
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
    finally:
        await gw.close()


def with_health(config: GatewayConfig, **policy: object) -> GatewayConfig:
    health = dataclasses.replace(config.pool.health, **policy)
    return dataclasses.replace(config, pool=dataclasses.replace(config.pool, health=health))


async def test_workers_are_recycled_after_their_calls(gap: str) -> None:
    gw = Gateway(with_health(gateway_config(gap, workers=1), recycle_calls=3))
    await gw.start()
    try:
        (first,) = gw.pool.workers
        async with await Client.connect("127.0.0.1", gw.port) as client:
            for _ in range(3):
                assert await client.call("Gnu", 8) == 5
            await eventually(
                lambda: first not in gw.pool.workers and gw.pool.ready == 1,
                timeout=30,
                what="a fresh worker in place of the worn one",
            )
            assert await client.call("Gnu", 8) == 5
    finally:
        await gw.close()


async def test_a_hung_idle_worker_is_found_by_probes_and_replaced(gap: str) -> None:
    """SIGSTOP: the process lives and holds its port, but answers nothing."""
    config = with_health(
        gateway_config(gap, workers=2), probe_interval=0.2, probe_timeout=0.5, probe_failures=2
    )
    gw = Gateway(config)
    await gw.start()
    try:
        hung = next(iter(gw.pool.workers))
        os.kill(hung.handle.process.pid, signal.SIGSTOP)  # type: ignore[attr-defined]
        await eventually(
            lambda: hung not in gw.pool.workers and gw.pool.ready == 2,
            timeout=30,
            what="the hung worker replaced",
        )
        async with await Client.connect("127.0.0.1", gw.port) as client:
            assert await asyncio.gather(*(client.call("Gnu", 8) for _ in range(4))) == [5] * 4
    finally:
        await gw.close()


def test_no_gap_process_outlives_a_gateway_killed_with_sigkill(gap: str) -> None:
    """Local workers die with the gateway (the kernel sees to it), so a restart finds none."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "scscp.gateway.cli", "serve", "--listen", "127.0.0.1:0",
         "--http", "off", "--gap", gap],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:  # ends when the process exits: no hang on failure
        if "ready on" in line:
            break
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    assert len(children) == 2  # the two GAP workers
    proc.kill()
    proc.wait()
    proc.stderr.close()
    assert until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children), timeout=30), (
        "a GAP worker outlived the killed gateway"
    )


def test_sigterm_while_workers_start_stops_the_gateway(tmp_path: Path) -> None:
    """A gateway told to stop before it is ready stops, and leaves no worker behind."""
    never_ready = tmp_path / "gap"
    never_ready.write_text("#!/bin/sh\nexec sleep 300\n")  # a GAP that never says it listens
    never_ready.chmod(0o755)
    proc = subprocess.Popen(
        [sys.executable, "-m", "scscp.gateway.cli", "serve", "--listen", "127.0.0.1:0",
         "--http", "off", "--gap", str(never_ready)],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    children_file = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    assert until(lambda: len(children_file.read_text().split()) == 2, timeout=30)
    children = children_file.read_text().split()
    proc.terminate()
    _, said = proc.communicate(timeout=30)
    assert proc.returncode == 0, said
    assert "stopping before it was ready" in said
    assert until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children), timeout=30)
