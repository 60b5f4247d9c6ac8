"""The autoscaler with real GAP processes: a burst grows the pool, quiet shrinks it."""

from __future__ import annotations

import asyncio
import dataclasses

from scscp.client import Client
from scscp.gateway import Gateway
from tests.conftest import eventually, gateway_config


def autoscaling_config(gap: str, low: int, high: int, window: float):  # type: ignore[no-untyped-def]
    config = gateway_config(gap, workers=low, busy=True)
    pool = dataclasses.replace(
        config.pool, min_workers=low, max_workers=high, scale_down_after=window
    )
    return dataclasses.replace(config, pool=pool)


async def test_a_burst_grows_the_pool_and_quiet_shrinks_it(gap: str) -> None:
    gw = Gateway(autoscaling_config(gap, 1, 4, window=1.0))
    await gw.start()
    try:
        assert gw.pool.ready == 1
        seen: list[int] = []

        async def one_client(seconds: int) -> object:
            client = await Client.connect("127.0.0.1", gw.port)
            try:
                return await client.call("Busy", seconds)
            finally:
                await client.close()

        burst = [asyncio.create_task(one_client(2)) for _ in range(8)]
        await eventually(
            lambda: seen.append(gw.pool.ready) or gw.pool.ready >= 3,
            timeout=60,
            what="the pool grown to 3 workers or more under the burst",
        )
        assert await asyncio.gather(*burst) == [2] * 8
        assert max(seen) <= 4
        await eventually(
            lambda: gw.pool.ready == 1 and gw.pool.size == 1,
            timeout=30,
            what="the pool back to 1 worker after the window",
        )
        client = await Client.connect("127.0.0.1", gw.port)
        try:
            assert await client.call("Gnu", 8) == 5  # the one left still serves
        finally:
            await client.close()
    finally:
        await gw.close()


async def test_scaled_to_zero_the_first_call_waits_for_a_cold_start(gap: str) -> None:
    gw = Gateway(autoscaling_config(gap, 0, 2, window=0.5))
    await gw.start()
    try:
        await eventually(lambda: gw.pool.ready == 0, timeout=30, what="the pool scaled to zero")
        client = await Client.connect("127.0.0.1", gw.port)
        try:
            assert await client.call("Gnu", 1024) == 49487367289
        finally:
            await client.close()
    finally:
        await gw.close()
