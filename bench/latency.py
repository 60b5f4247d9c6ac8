"""Latency and throughput of NrSmallGroups(n): straight to GAP and through the gateway.

One run measures, on this machine:
  (a) a naive persistent connection (a blocking socket read line by line,
      as most hand-written clients do) to a stock GAP SCSCP server: the
      baseline, which pays the 40 ms trap;
  (a') the same naive client against our GAP worker, which writes each
      message in one piece (services/gap/one_write_per_message.g);
  (b) the library's own connection handling (scscp.client: TCP_QUICKACK
      after every receive) against the stock server;
  (b') the same against our worker: both fixes, what the gateway uses;
  (c) the gateway (a separate `scscp-gateway serve` process, 2 workers)
      with one client; (c') the same calling Gnu(n), the flagship service;
  (d) the gateway with 8 concurrent clients and 2 workers;
  (e) the time from `kill -9` of a worker to a full pool again.
It prints p50/p99 latency and calls per second for each, and ratios to (a).

Usage: .venv/bin/python bench/latency.py [--calls N]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from scscp.client import Client
from scscp.endpoint import Endpoint
from scscp.gateway import Gateway
from scscp.gateway.config import GatewayConfig, PoolConfig
from scscp.gateway.providers.local import LocalProvider

# A fixed sample of orders. GAP reads the Small Groups data of an order on
# first use, so every path is warmed up on these orders before it is timed.
ORDERS = random.Random(2026).sample(range(1, 2001), 100)


@dataclass
class Figures:
    name: str
    latencies: list[float]
    wall: float

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p99(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall


def naive_call(sock: socket.socket, reader: object, call_id: int, n: int) -> bytes:
    request = (
        '<?scscp start ?>\n<OMOBJ xmlns="http://www.openmath.org/OpenMath" version="2.0">'
        f'<OMATTR><OMATP><OMS cd="scscp1" name="call_id"/><OMSTR>{call_id}</OMSTR>'
        '<OMS cd="scscp1" name="option_return_object"/><OMSTR></OMSTR></OMATP>'
        '<OMA><OMS cd="scscp1" name="procedure_call"/><OMA>'
        f'<OMS cd="scscp_transient_1" name="NrSmallGroups"/><OMI>{n}</OMI>'
        "</OMA></OMA></OMATTR></OMOBJ>\n<?scscp end ?>\n"
    )
    sock.sendall(request.encode())
    reply = b""
    while True:
        line = reader.readline()  # type: ignore[attr-defined]
        if not line:
            raise ConnectionError("GAP closed the connection")
        reply += line
        if line.startswith(b"<?scscp end"):
            return reply


def bench_naive(name: str, host: str, port: int, calls: int) -> Figures:
    sock = socket.create_connection((host, port))
    reader = sock.makefile("rb")
    reader.readline()
    sock.sendall(b'<?scscp version="1.3" ?>\n')
    reader.readline()
    for i, n in enumerate(ORDERS):  # warm-up
        naive_call(sock, reader, i, n)
    latencies = []
    start = time.perf_counter()
    for i in range(calls):
        t = time.perf_counter()
        reply = naive_call(sock, reader, i, random.choice(ORDERS))
        latencies.append(time.perf_counter() - t)
        assert b"procedure_completed" in reply
    wall = time.perf_counter() - start
    sock.close()
    return Figures(name, latencies, wall)


async def bench_clients(
    name: str, host: str, port: int, clients: int, calls: int, procedure: str = "NrSmallGroups"
) -> Figures:
    latencies: list[float] = []

    async def one(count: int, timed: bool = True) -> None:
        async with await Client.connect(host, port) as client:
            for i in range(count):
                n = ORDERS[i % len(ORDERS)] if not timed else random.choice(ORDERS)
                t = time.perf_counter()
                await client.call(procedure, n)
                if timed:
                    latencies.append(time.perf_counter() - t)

    # Warm-up: 2 passes over the orders by 8 clients reach every worker with
    # every order (the FIFO hands consecutive calls to different workers).
    await asyncio.gather(*(one(2 * len(ORDERS), timed=False) for _ in range(8)))
    start = time.perf_counter()
    await asyncio.gather(*(one(calls // clients) for _ in range(clients)))
    return Figures(name, latencies, time.perf_counter() - start)


def start_gateway(gap: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scscp.gateway.cli",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "2",
            "--gap",
            gap,
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        match = re.search(r"ready on \S+:(\d+)", line)
        if match:
            return proc, int(match.group(1))
    raise RuntimeError("the gateway did not start")


async def recovery_time(gap: str) -> float:
    """Seconds from kill -9 of one worker to a full pool again (GAP's start-up time)."""
    config = GatewayConfig(
        listen=Endpoint("127.0.0.1", 0),
        pool=PoolConfig(workers=2),
        gap=dataclasses.replace(GatewayConfig().gap, executable=gap),
    )
    gateway = Gateway(config)
    await gateway.start()
    try:
        victim = next(iter(gateway.pool.workers))
        os.kill(victim.handle.process.pid, signal.SIGKILL)  # type: ignore[attr-defined]
        t = time.perf_counter()
        await _until(lambda: victim not in gateway.pool.workers and gateway.pool.ready == 2)
        return time.perf_counter() - t
    finally:
        await gateway.close()


async def _until(predicate: Callable[[], bool]) -> None:
    while not predicate():
        await asyncio.sleep(0.01)


def show(rows: list[Figures], baseline: Figures) -> None:
    """One line per path; the ratios are against the baseline of this run."""
    print(
        f"{'path':48} {'p50 ms':>7} {'p99 ms':>7} {'calls/s':>8} {'p50 vs (a)':>11} "
        f"{'calls/s vs (a)':>15}"
    )
    for row in rows:
        print(
            f"{row.name:48} {row.p50 * 1e3:7.2f} {row.p99 * 1e3:7.2f} {row.rate:8.0f} "
            f"{baseline.p50 / row.p50:10.1f}x {row.rate / baseline.rate:14.1f}x"
        )


async def direct(gap: str, stock: bool, calls: int, naive_calls: int) -> tuple[Figures, Figures]:
    """Naive and library clients against one worker, stock or with our writes."""
    scripts = GatewayConfig().gap.scripts
    if stock:
        scripts = tuple(p for p in scripts if p.name != "one_write_per_message.g")
    provider = LocalProvider(gap, scripts)
    worker = await provider.start()
    host, port = worker.endpoint.host, worker.endpoint.port
    server = "stock GAP server" if stock else "our GAP worker"
    try:
        naive = await asyncio.to_thread(
            bench_naive, f"naive socket -> {server}", host, port, naive_calls if stock else calls
        )
        ours = await bench_clients(f"scscp.client -> {server}", host, port, 1, calls)
    finally:
        await provider.close()
    return naive, ours


async def main_async(calls: int, naive_calls: int, gap: str) -> None:
    naive_stock, ours_stock = await direct(gap, True, calls, naive_calls)
    naive_fixed, ours_fixed = await direct(gap, False, calls, naive_calls)
    gateway, gport = start_gateway(gap)
    try:
        eight = await bench_clients(
            "8 clients -> gateway (2 workers)", "127.0.0.1", gport, 8, calls
        )
        one = await bench_clients("1 client -> gateway (2 workers)", "127.0.0.1", gport, 1, calls)
        gnu = await bench_clients(
            "1 client -> gateway, Gnu(n) instead", "127.0.0.1", gport, 1, calls, "Gnu"
        )
    finally:
        gateway.terminate()
        gateway.wait()
    rows = [naive_stock, naive_fixed, ours_stock, ours_fixed, one, gnu, eight]
    labels = ("(a)", "(a')", "(b)", "(b')", "(c)", "(c')", "(d)")
    for label, row in zip(labels, rows, strict=True):
        row.name = f"{label} {row.name}"
    show(rows, naive_stock)
    print(f"(e) kill -9 of a worker -> pool full again: {await recovery_time(gap):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per measurement")
    parser.add_argument(
        "--naive-calls", type=int, default=100, help="calls for (a), which takes about 40 ms each"
    )
    args = parser.parse_args()
    gap = shutil.which("gap")
    if gap is None:
        sys.exit("GAP is not installed: ./run setup installs it")
    random.seed(1)
    print(
        f"NrSmallGroups(n), n from {len(ORDERS)} orders in 1..2000; {os.cpu_count()} cores; "
        f"Python {sys.version.split()[0]}"
    )
    asyncio.run(main_async(args.calls, args.naive_calls, gap))


if __name__ == "__main__":
    main()
