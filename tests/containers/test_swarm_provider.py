"""The swarm provider on a real one-node swarm: a service scaled up and down.

The swarm is made on loopback (``docker swarm init --advertise-addr
127.0.0.1``) if the engine is not in one, and left again afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
import pytest

from scscp.gateway import Gateway
from scscp.gateway.providers.containers import LABEL_GATEWAY
from tests.conftest import eventually
from tests.containers.workers import GNU_1024, burst, call, cleaned, container_config, engine


@pytest.fixture(scope="module")
def swarm() -> Iterator[docker.DockerClient]:
    client = engine()
    state = client.info()["Swarm"]["LocalNodeState"]
    made = state == "inactive"
    if made:
        client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
    try:
        yield client
    finally:
        if made:
            client.swarm.leave(force=True)
        client.close()


@pytest.fixture
def gateway_id(swarm: docker.DockerClient) -> Iterator[str]:
    with cleaned(swarm, f"test-swarm-{uuid.uuid4().hex[:8]}") as gid:
        yield gid


def service_of(client: docker.DockerClient, gateway_id: str) -> Any:
    services = client.services.list(filters={"label": f"{LABEL_GATEWAY}={gateway_id}"})
    assert len(services) == 1, services
    return services[0]


def replicas(client: docker.DockerClient, gateway_id: str) -> int:
    spec = service_of(client, gateway_id).attrs["Spec"]
    return int(spec["Mode"]["Replicated"]["Replicas"])


def running_tasks(client: docker.DockerClient, gateway_id: str) -> int:
    tasks = service_of(client, gateway_id).tasks(filters={"desired-state": "running"})
    return sum(1 for t in tasks if t["Status"]["State"] == "running")


async def test_a_swarm_service_scales_up_under_a_burst_and_back_down(
    swarm: docker.DockerClient, gateway_id: str
) -> None:
    gw = Gateway(
        container_config(gateway_id, "swarm", workers=1, max_workers=3, scale_down_after=2.0)
    )
    await gw.start()
    try:
        assert await asyncio.to_thread(replicas, swarm, gateway_id) == 1
        # Long calls: Swarm starts tasks one after another, each in a few seconds.
        calls = asyncio.ensure_future(burst(gw, clients=8, seconds=6))
        await eventually(
            lambda: gw.pool.ready == 3, timeout=120, what="3 ready Swarm tasks under the burst"
        )
        assert await asyncio.to_thread(replicas, swarm, gateway_id) == 3
        assert await asyncio.to_thread(running_tasks, swarm, gateway_id) == 3
        assert await calls == [6] * 8

        await eventually(
            lambda: gw.pool.ready == 1 and gw.pool.size == 1,
            timeout=60,
            what="the pool back to 1 worker after the window",
        )

        async def scaled_down() -> bool:
            return await asyncio.to_thread(replicas, swarm, gateway_id) == 1 and (
                await asyncio.to_thread(running_tasks, swarm, gateway_id) == 1
            )

        await eventually(scaled_down, timeout=60, what="the service scaled back to 1 task")
        # The task that stayed is the worker the pool kept: it still answers.
        assert await call(gw, "Gnu", 1024) == GNU_1024
    finally:
        await gw.close()

    def nothing_left() -> bool:
        label = f"{LABEL_GATEWAY}={gateway_id}"
        return not swarm.services.list(filters={"label": label}) and not swarm.containers.list(
            all=True, filters={"label": label}, ignore_removed=True
        )

    assert await asyncio.to_thread(nothing_left)
