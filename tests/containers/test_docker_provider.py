"""The docker provider against a real engine: bursts, kills, crashes, clean-up.

Every worker is a real GAP container (the scscp/gap-minimal image) with host
networking on a loopback port; the tests drive a real gateway with real
clients and look at the engine to see what it runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from scscp.client import BlockingClient
from scscp.errors import ProcedureError
from scscp.gateway import Gateway
from scscp.gateway.providers.base import WorkerStartError
from tests.conftest import BUSY_SERVICE, eventually
from tests.containers.workers import (
    GNU_1024,
    IMAGE,
    burst,
    call,
    cleaned,
    container_config,
    containers_of,
    engine,
    running_of,
)


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    client = engine()
    yield client
    client.close()


@pytest.fixture
def gateway_id(client: docker.DockerClient) -> Iterator[str]:
    with cleaned(client, f"test-{uuid.uuid4().hex[:8]}") as gid:
        yield gid


async def running(client: docker.DockerClient, gateway_id: str) -> int:
    return len(await asyncio.to_thread(running_of, client, gateway_id))


async def test_a_burst_of_16_clients_scales_containers_from_1_to_4_and_back(
    client: docker.DockerClient, gateway_id: str
) -> None:
    gw = Gateway(
        container_config(gateway_id, "docker", workers=1, max_workers=4, scale_down_after=2.0)
    )
    await gw.start()
    try:
        assert gw.pool.ready == 1
        assert await running(client, gateway_id) == 1
        seen: list[int] = []
        calls = asyncio.ensure_future(burst(gw, clients=16, seconds=2))
        await eventually(
            lambda: seen.append(gw.pool.ready) or gw.pool.ready == 4,
            timeout=120,
            what="4 ready workers under a burst of 16 clients",
        )
        assert await running(client, gateway_id) == 4
        assert await calls == [2] * 16
        assert max(seen) <= 4
        await eventually(
            lambda: gw.pool.ready == 1 and gw.pool.size == 1,
            timeout=60,
            what="the pool back to 1 worker after the window",
        )

        async def one_container() -> bool:
            return await running(client, gateway_id) == 1

        await eventually(one_container, timeout=60, what="the other containers removed")
        assert await call(gw, "Gnu", 1024) == GNU_1024
    finally:
        await gw.close()
    assert await asyncio.to_thread(containers_of, client, gateway_id) == []


async def test_docker_kill_under_load_loses_no_call(
    client: docker.DockerClient, gateway_id: str
) -> None:
    gw = Gateway(container_config(gateway_id, "docker", workers=2))
    await gw.start()
    try:
        pool = gw.pool
        doomed = asyncio.ensure_future(call(gw, "Busy", 600))
        await eventually(
            lambda: any(w.busy for w in pool.workers), timeout=30, what="Busy reached a worker"
        )
        victim = next(w for w in pool.workers if w.busy)
        outcomes: Counter[str] = Counter()

        async def load(offset: int) -> None:
            for i in range(30):
                n = 8 + offset + i
                try:
                    assert await call(gw, "Gnu", n) is not None
                    outcomes["answered"] += 1
                except ProcedureError as exc:
                    assert "died" in exc.message, exc.message
                    outcomes["worker died"] += 1

        loaders = [asyncio.ensure_future(load(i)) for i in range(4)]
        container_id = victim.handle.container_id  # type: ignore[attr-defined]
        await asyncio.to_thread(client.api.kill, container_id)
        with pytest.raises(ProcedureError) as died:
            await doomed
        assert died.value.symbol.name == "error_system_specific"
        assert "died while computing Busy" in died.value.message
        await asyncio.gather(*loaders)
        assert sum(outcomes.values()) == 4 * 30  # one answer each, none lost

        await eventually(
            lambda: pool.ready == 2 and pool.idle == 2, timeout=60, what="two ready workers again"
        )
        assert victim not in pool.workers
        assert container_id not in {
            c.id for c in await asyncio.to_thread(containers_of, client, gateway_id)
        }
        answers = await asyncio.gather(*(call(gw, "Gnu", 1024) for _ in range(4)))
        assert answers == [GNU_1024] * 4
    finally:
        await gw.close()
    assert await asyncio.to_thread(containers_of, client, gateway_id) == []


def write_config(path: Path, gateway_id: str) -> Path:
    path.write_text(
        f"""
id = "{gateway_id}"
listen = "127.0.0.1:0"
http = "127.0.0.1:0"
allow = ["Gnu", "Busy"]
[pool]
provider = "docker"
workers = 2
memory = 536870912
[containers]
image = "{IMAGE}"
services = ["{BUSY_SERVICE}"]
"""
    )
    return path


def start_gateway(config: Path) -> tuple[subprocess.Popen[str], int]:
    """`scscp-gateway serve --config FILE` as an operator runs it; its port once ready."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "scscp.gateway.cli", "serve", "--config", str(config)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stderr is not None
    said = []
    for line in proc.stderr:  # ends when the process exits: no hang on failure
        said.append(line)
        if match := re.search(r"ready on \S+:(\d+)", line):
            return proc, int(match.group(1))
    proc.wait()
    pytest.fail("the gateway did not start:\n" + "".join(said))


def test_a_restarted_gateway_removes_what_its_killed_run_left(
    client: docker.DockerClient, gateway_id: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "gateway.toml", gateway_id)
    first, _ = start_gateway(config)
    left = {c.id for c in running_of(client, gateway_id)}
    assert len(left) == 2
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert first.stderr is not None
    first.stderr.close()
    # The containers outlive a gateway killed with SIGKILL ...
    assert {c.id for c in running_of(client, gateway_id)} == left

    second, port = start_gateway(config)
    try:
        now = {c.id for c in containers_of(client, gateway_id)}
        assert len(now) == 2
        assert not now & left  # ... until the next run with the same id removes them
        with BlockingClient("127.0.0.1", port) as gap:
            assert gap.call("Gnu", 1024) == GNU_1024
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
        assert second.stderr is not None
        second.stderr.close()
    assert second.returncode == 0
    assert containers_of(client, gateway_id) == []  # a clean stop leaves nothing


async def test_a_start_failure_is_clear_and_leaves_no_container(
    client: docker.DockerClient, gateway_id: str
) -> None:
    config = container_config(gateway_id, "docker")
    containers = dataclasses.replace(config.containers, image="scscp/no-such-image")
    broken = Gateway(dataclasses.replace(config, containers=containers))
    with pytest.raises(WorkerStartError, match="scscp/no-such-image is not on the engine"):
        await broken.start()
    assert await asyncio.to_thread(containers_of, client, gateway_id) == []
