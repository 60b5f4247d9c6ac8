"""Shared fixtures: real GAP workers, a real gateway, and condition waits."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from scscp.endpoint import Endpoint
from scscp.gateway import Gateway, GatewayConfig
from scscp.gateway.config import DEFAULT_ALLOW, GapConfig, PoolConfig

TESTS = Path(__file__).parent
BUSY_SERVICE = TESTS / "gap" / "busy.g"
SERVICES = GapConfig().services


@pytest.fixture(scope="session")
def gap() -> str:
    """The GAP executable; its absence is a broken setup, not a reason to skip."""
    path = shutil.which("gap")
    if path is None:
        pytest.fail("GAP is not installed; `./run tests` installs it")
    return path


def gateway_config(gap: str, workers: int = 2, *, busy: bool = False) -> GatewayConfig:
    services = (*SERVICES, BUSY_SERVICE) if busy else SERVICES
    return GatewayConfig(
        listen=Endpoint("127.0.0.1", 0),
        allow=(*DEFAULT_ALLOW, "Busy", "ReturnFail", "Allocate") if busy else DEFAULT_ALLOW,
        pool=PoolConfig(workers=workers),
        gap=GapConfig(executable=gap, services=services),
    )


@pytest.fixture
async def gateway(gap: str) -> AsyncIterator[Gateway]:
    """An in-process gateway on a free loopback port with two GAP workers."""
    gw = Gateway(gateway_config(gap, busy=True))
    await gw.start()
    try:
        yield gw
    finally:
        await gw.close()


@pytest.fixture(scope="session")
def gateway_process(gap: str) -> Iterator[Endpoint]:
    """The real `scscp-gateway serve` command, run as a user runs it."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scscp.gateway.cli",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--gap",
            gap,
            "--http",
            "127.0.0.1:0",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stderr is not None
    endpoint = None
    lines = []
    for line in proc.stderr:  # ends when the process exits: no hang on failure
        lines.append(line)
        match = re.search(r"ready on (\S+):(\d+)", line)
        if match:
            endpoint = Endpoint(match.group(1), int(match.group(2)))
            break
    if endpoint is None:
        proc.kill()
        pytest.fail("the gateway did not start:\n" + "".join(lines))
    try:
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stderr.close()


POLL = 0.05  # seconds between looks at a condition


async def eventually(
    predicate: Callable[[], bool | Awaitable[bool]], *, timeout: float, what: str
) -> None:
    """Wait until ``predicate`` holds, polling; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout}s: {what}")
        await asyncio.sleep(POLL)


def until(predicate: Callable[[], bool], *, timeout: float) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes; whether it held.

    For code outside the event loop (fixtures, blocking tests); in a coroutine
    use ``eventually``.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL)
    return True
