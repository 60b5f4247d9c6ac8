"""Helpers for the tests of the docker and swarm providers: the engine, configs, clean-up.

The tests need a running Docker engine and the worker image; without them
they fail with a message saying what to run, they never skip. Every test
gateway has its own id, and everything labelled with it is removed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
import pytest

from scscp.client import Client
from scscp.endpoint import Endpoint
from scscp.gateway import Gateway, GatewayConfig
from scscp.gateway.config import DEFAULT_ALLOW, ContainerConfig, PoolConfig
from scscp.gateway.providers.containers import LABEL_GATEWAY, WorkerSpec
from tests.conftest import BUSY_SERVICE

IMAGE = os.environ.get("SCSCP_TEST_IMAGE", "scscp/gap-minimal")
GNU_1024 = 49487367289


def engine() -> docker.DockerClient:
    """The local engine, or a failed test that says how to get one."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(
            f"the Docker engine is not running ({exc}); `./run tests` starts it "
            "with containers/engine"
        )
    try:
        client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"the worker image {IMAGE} is missing; build it with containers/build")
    return client


def containers_of(client: docker.DockerClient, gateway_id: str) -> list[Any]:
    """Our containers, running or not."""
    return list(
        client.containers.list(
            all=True, filters={"label": f"{LABEL_GATEWAY}={gateway_id}"}, ignore_removed=True
        )
    )


def running_of(client: docker.DockerClient, gateway_id: str) -> list[Any]:
    return [c for c in containers_of(client, gateway_id) if c.status == "running"]


def remove_everything(client: docker.DockerClient, gateway_id: str) -> None:
    """What a failed test may leave: services, then containers, with our label."""
    label = f"{LABEL_GATEWAY}={gateway_id}"
    with contextlib.suppress(docker.errors.APIError):
        for service in client.services.list(filters={"label": label}):
            service.remove()
    for container in containers_of(client, gateway_id):
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)


@contextlib.contextmanager
def cleaned(client: docker.DockerClient, gateway_id: str) -> Iterator[str]:
    """A gateway id whose containers and services are removed afterwards, whatever happens."""
    remove_everything(client, gateway_id)
    try:
        yield gateway_id
    finally:
        remove_everything(client, gateway_id)


def spec(gateway_id: str, **changes: Any) -> WorkerSpec:
    """Workers with the test procedures (Busy) mounted in."""
    return dataclasses.replace(
        WorkerSpec(IMAGE, gateway_id, memory=512 * 2**20, cpus=1.0, pids=128),
        services=(BUSY_SERVICE,),
        **changes,
    )


def container_config(
    gateway_id: str,
    provider: str,
    *,
    workers: int = 1,
    max_workers: int | None = None,
    scale_down_after: float = 300.0,
    engines: tuple[str, ...] = (),
) -> GatewayConfig:
    """As tests/conftest.py's gateway_config, with workers in containers."""
    return GatewayConfig(
        listen=Endpoint("127.0.0.1", 0),
        id=gateway_id,
        allow=(*DEFAULT_ALLOW, "Busy"),
        pool=PoolConfig(
            provider=provider,
            workers=workers,
            min_workers=workers if max_workers is not None else None,
            max_workers=max_workers,
            scale_down_after=scale_down_after,
            memory=512 * 2**20,
        ),
        containers=ContainerConfig(
            image=IMAGE, engines=engines, cpus=1.0, pids=128, services=(BUSY_SERVICE,)
        ),
    )


async def call(gateway: Gateway, name: str, *args: object, **options: Any) -> Any:
    """One call on a session of its own, as an independent client makes it."""
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        return await client.call(name, *args, **options)


async def burst(gateway: Gateway, clients: int, seconds: int) -> list[Any]:
    """``clients`` concurrent clients, each keeping a worker busy for ``seconds``."""
    return await asyncio.gather(*(call(gateway, "Busy", seconds) for _ in range(clients)))
