"""How fast the pool grows, and what more workers buy, for each provider.

One run measures, on this machine, for the local provider (GAP processes)
and, when a Docker engine and the image are there, the docker provider:
  - start-to-ready: from asking the provider for a worker to its first
    answer (GAP's start-up, plus a container's for docker);
  - burst-to-new-worker: from a burst of 16 clients on a pool autoscaling
    from 1 to the first additional worker ready;
  - calls per second with 1, 2 and 4 workers under 16 concurrent clients,
    as ratios to 1 worker (a CPU-bound call, so that workers matter).
Ratios are against figures of the same run; this machine has os.cpu_count()
cores, which bounds what 4 workers can give.

Usage: .venv/bin/python bench/scaling.py [--providers local,docker] [--calls N]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from scscp.client import Client
from scscp.endpoint import Endpoint
from scscp.gateway import Gateway
from scscp.gateway.config import GapConfig, GatewayConfig, PoolConfig
from scscp.gateway.health import healthy
from scscp.gateway.providers import make_provider
from scscp.gateway.worker import Worker

CLIENTS = 16
# A short CPU-bound call in GAP (FactInt factorising a 23-digit product of
# two primes, about 1 ms): the workers' share of a call, against the
# gateway's own per-call cost on the same two cores.
WORK = ("WS_Factors", 12193263280395625673279)
STARTS = 5


def config_for(provider: str, gap: str, **pool: object) -> GatewayConfig:
    return GatewayConfig(
        id=f"bench-scaling-{os.getpid()}",
        listen=Endpoint("127.0.0.1", 0),
        pool=PoolConfig(provider=provider, **pool),  # type: ignore[arg-type]
        gap=GapConfig(executable=gap),
    )


async def start_to_ready(config: GatewayConfig) -> float:
    """Median seconds from provider.start() to a worker's known answer."""
    provider = make_provider(config)
    times = []
    try:
        for _ in range(STARTS):
            t = time.perf_counter()
            handle = await provider.start()
            worker = Worker(handle)
            await worker.open()
            assert await healthy(worker, 30)
            times.append(time.perf_counter() - t)
            await worker.close()
            await handle.stop()
    finally:
        await provider.close()
    return statistics.median(times)


async def burst_to_new_worker(config: GatewayConfig) -> float:
    """Seconds from a burst of clients to the second worker ready."""
    pool = dataclasses.replace(config.pool, workers=1, max_workers=4, scale_down_after=60)
    gateway = Gateway(dataclasses.replace(config, pool=pool))
    await gateway.start()
    try:
        t = time.perf_counter()
        burst = asyncio.gather(*(load(gateway.port, 4) for _ in range(CLIENTS)))
        await until(lambda: gateway.pool.ready >= 2)
        elapsed = time.perf_counter() - t
        await burst
        return elapsed
    finally:
        await gateway.close()


async def calls_per_second(config: GatewayConfig, workers: int, calls: int) -> float:
    gateway = Gateway(
        dataclasses.replace(config, pool=dataclasses.replace(config.pool, workers=workers))
    )
    await gateway.start()
    try:
        await asyncio.gather(*(load(gateway.port, 2) for _ in range(CLIENTS)))  # warm up
        t = time.perf_counter()
        await asyncio.gather(*(load(gateway.port, calls // CLIENTS) for _ in range(CLIENTS)))
        return calls / (time.perf_counter() - t)
    finally:
        await gateway.close()


async def load(port: int, calls: int) -> None:
    async with await Client.connect("127.0.0.1", port) as client:
        for _ in range(calls):
            await client.call(*WORK)


async def until(predicate: Callable[[], bool]) -> None:
    while not predicate():
        await asyncio.sleep(0.002)


def docker_ready(image: str) -> bool:
    if shutil.which("docker") is None:
        return False
    found = subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False)
    return found.returncode == 0


async def main_async(providers: list[str], calls: int, gap: str) -> None:
    base: dict[str, float] = {}
    print(f"{'provider':8} {'measure':34} {'value':>10} {'ratio':>8}")
    for provider in providers:
        config = config_for(provider, gap)
        if provider != "local" and not docker_ready(config.containers.image):
            print(f"{provider:8} skipped: no Docker engine or no image {config.containers.image}")
            continue
        ready = await start_to_ready(config)
        base.setdefault("ready", ready)
        print(f"{provider:8} {'start to ready (s)':34} {ready:10.2f} {ready / base['ready']:7.2f}x")
        burst = await burst_to_new_worker(config)
        base.setdefault("burst", burst)
        print(
            f"{provider:8} {'burst to a new ready worker (s)':34} {burst:10.2f} "
            f"{burst / base['burst']:7.2f}x"
        )
        one = 0.0
        for workers in (1, 2, 4):
            rate = await calls_per_second(config, workers, calls)
            one = one or rate
            print(
                f"{provider:8} {f'calls/s, {workers} workers, {CLIENTS} clients':34} "
                f"{rate:10.0f} {rate / one:7.2f}x"
            )
    print("ratios: start and burst times against the local provider; calls/s against 1 worker")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", default="local,docker", help="comma-separated")
    parser.add_argument("--calls", type=int, default=800, help="calls per throughput figure")
    args = parser.parse_args()
    gap = shutil.which("gap")
    if gap is None:
        sys.exit("GAP is not installed: ./run setup installs it")
    print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; call {WORK[0]}({WORK[1]})")
    asyncio.run(main_async(args.providers.split(","), args.calls, gap))


if __name__ == "__main__":
    main()
