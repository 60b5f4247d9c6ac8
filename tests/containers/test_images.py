"""The images of containers/ with a real engine: what each answers, SIGINT, user, health.

Every worker container is started with the very options the gateway's docker
provider gives it (``WorkerSpec.run_options``: host networking on a free
loopback port, read-only root, tmpfs /tmp, no capabilities, docker's init,
GAP's -o limit), and carries the label ``scscp.gateway`` with this module's
own id, so ``cleaned`` removes it whatever happens. Without the engine or an
image the tests fail saying what to run; they never skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from scscp.client import Client
from scscp.endpoint import Endpoint
from scscp.errors import ProcedureError
from scscp.gateway.providers.containers import LABEL_GATEWAY, READY_MARK, WorkerSpec
from tests.conftest import eventually, until
from tests.containers.workers import GNU_1024, cleaned, remove_everything

MINIMAL = "scscp/gap-minimal"
FULL = "scscp/gap-full"
GATEWAY = "scscp/gateway"
TEST_ID = f"test-images-{os.getpid()}-{uuid.uuid4().hex[:6]}"
MiB = 2**20
START_TIMEOUT = 90.0  # seconds a container may take to serve (two cores, shared)
# The product of two 30-digit primes: FactInt needs minutes, so it is still
# computing whenever the test interrupts it.
SEMIPRIME = 112580160511326123008238383485608386927203987476281706748213
# Health checks as the images define them, only more often, so a test waits
# seconds, not the images' 10 s interval. The check command is the image's.
FAST_HEALTH = {"interval": 1_000_000_000, "timeout": 5_000_000_000, "retries": 3}


@dataclass
class Running:
    """A started container and where it serves."""

    container: Any
    endpoint: Endpoint


def engine_with(*images: str) -> docker.DockerClient:
    """The local engine holding ``images``, or a failed test that says what to run."""
    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(f"the Docker engine is not running ({exc}); start it with containers/engine")
    for image in images:
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            pytest.fail(f"the image {image} is missing; build it with containers/build")
    return client


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def worker_spec(image: str) -> WorkerSpec:
    """The docker provider's container, 768 MiB (GAP's -o limit somewhat below)."""
    return WorkerSpec(image, TEST_ID, memory=768 * MiB, cpus=1.0, pids=128)


def wait_ready(container: Any, endpoint: Endpoint) -> None:
    """Until GAP says it is ready and accepts a connection; fail with its output if not.

    Blocking (fixtures run outside the event loop). The probe connection leaves
    at once, which GAP takes as a client gone before the handshake.
    """

    def started() -> bool:
        container.reload()
        if container.status not in ("created", "running"):
            pytest.fail(f"{container.image.tags} exited: {container.logs().decode()[-2000:]}")
        return READY_MARK in container.logs()

    def listening() -> bool:
        try:
            socket.create_connection((endpoint.host, endpoint.port), timeout=5).close()
        except ConnectionRefusedError:
            return False
        return True

    if not until(started, timeout=START_TIMEOUT):
        pytest.fail(f"not ready within {START_TIMEOUT}s: {container.logs().decode()[-2000:]}")
    if not until(listening, timeout=START_TIMEOUT):
        pytest.fail(f"ready, but nothing listens on {endpoint}")


def start_worker(client: docker.DockerClient, image: str, **extra: Any) -> Running:
    """One worker container as the docker provider starts it, serving. Blocking."""
    port = free_port()
    spec = worker_spec(image)
    options = {**spec.run_options("127.0.0.1", port), **extra}
    name = f"scscp-{TEST_ID}-{uuid.uuid4().hex[:6]}"
    container = client.containers.run(image, name=name, detach=True, **options)
    endpoint = Endpoint("127.0.0.1", port)
    wait_ready(container, endpoint)
    return Running(container, endpoint)


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    """The engine, and at the end no container with this module's label left."""
    client = engine_with(MINIMAL, FULL, GATEWAY)
    with cleaned(client, TEST_ID):
        yield client


@pytest.fixture(scope="module")
def minimal(engine: docker.DockerClient) -> Running:
    return start_worker(engine, MINIMAL, healthcheck=FAST_HEALTH)


@pytest.fixture(scope="module")
def full(engine: docker.DockerClient) -> Running:
    return start_worker(engine, FULL, healthcheck=FAST_HEALTH)


@pytest.fixture(params=[MINIMAL, FULL])
def worker_image(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["minimal", "full"])
def serving(request: pytest.FixtureRequest) -> Running:
    """Each image's module-wide worker in turn (started outside the event loop)."""
    running: Running = request.getfixturevalue(request.param)
    return running


async def call(endpoint: Endpoint, name: str, *args: object) -> Any:
    """One call on a session of its own."""
    async with await Client.connect(endpoint.host, endpoint.port, timeout=30) as client:
        return await client.call(name, *args)


async def gap_in(container: Any, program: str) -> str:
    """Run a GAP program in the container (its own GAP, beside the server); its output."""
    command = ["sh", "-c", 'printf "%s\\n" "$1" | gap -q -b', "gap", program]
    code, output = await asyncio.to_thread(container.exec_run, command)
    text = output.decode(errors="replace").strip()
    assert code == 0, f"GAP in the container failed ({code}): {text}"
    return text


async def health(container: Any) -> dict[str, Any]:
    await asyncio.to_thread(container.reload)
    return dict(container.attrs["State"].get("Health") or {})


async def until_healthy(container: Any) -> None:
    state: dict[str, Any] = {}

    async def healthy() -> bool:
        state.update(await health(container))
        return state.get("Status") == "healthy"

    try:
        await eventually(healthy, timeout=START_TIMEOUT, what=f"{container.name} reports healthy")
    except pytest.fail.Exception:
        said = [entry.get("Output", "").strip() for entry in state.get("Log", [])]
        pytest.fail(f"{container.name} is {state.get('Status')}; its checks said: {said}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process on this machine, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def gap_pid(container: Any) -> int:
    """The host pid of GAP: the child of the container's init (docker-init)."""
    container.reload()
    init = container.attrs["State"]["Pid"]
    with open(f"/proc/{init}/task/{init}/children") as children:
        pids = [int(p) for p in children.read().split()]
    assert len(pids) == 1, f"docker-init should have one child, GAP; it has {pids}"
    return pids[0]


# --- what the workers answer ---------------------------------------------------------


async def test_gap_minimal_counts_the_groups_of_order_1024(minimal: Running) -> None:
    assert await call(minimal.endpoint, "Gnu", 1024) == GNU_1024
    # Debian's GAP has no SglPPow: the service's own table answers 3^8.
    assert await call(minimal.endpoint, "GnuExplained", 3**8) == [
        1396077,
        "published value (table of this service)",
    ]


async def test_gap_minimal_gets_the_memory_limit_it_is_given(minimal: Running) -> None:
    """GAP_MEMORY becomes GAP's -o: the provider's bound on a computation's memory."""
    expected = worker_spec(MINIMAL).environment("127.0.0.1")["GAP_MEMORY"]
    pid = await asyncio.to_thread(gap_pid, minimal.container)
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        argv = cmdline.read().decode().split("\0")
    assert argv[argv.index("-o") + 1] == expected


async def test_gap_full_counts_3_to_the_8_with_sglppow(full: Running) -> None:
    assert await call(full.endpoint, "Gnu", 3**8) == 1396077
    assert await call(full.endpoint, "GnuExplained", 3**8) == [
        1396077,
        "SglPPow package (NumberSmallGroups)",
    ]
    assert await call(full.endpoint, "Gnu", 13**7) == 1600573  # what the p^7 formula gives


async def test_gap_full_counts_cube_free_orders_beyond_50000(full: Running) -> None:
    # 50001 = 3 * 7 * 2381: square-free, so the Small Groups library knows it too.
    assert await call(full.endpoint, "Gnu", 50001) == 3
    # 51660 = 2^2 * 3^2 * 5 * 7 * 41: cube-free and beyond every library but CubeFree.
    in_container = await gap_in(
        full.container, 'LoadPackage("cubefree");; Print(NumberCFGroups(51660), "\\n");'
    )
    count, source = await call(full.endpoint, "GnuExplained", 51660)
    assert (count, source) == (int(in_container), "CubeFree package (NumberCFGroups)")
    assert count > 1


async def test_gap_full_sources_agree_where_they_overlap(full: Running) -> None:
    """So that a count never depends on which image answered, only its source's name."""
    program = """
        Read("/opt/scscp/services/gnu.g");;
        Print(ForAll(GNU_PUBLISHED, e -> NumberSmallGroups(e[1]) = e[2]), "\\n");
        Print(ForAll(Filtered([13 .. 300], IsPrimeInt),
                     p -> GnuPrimeSeventh(p^7) = NumberSmallGroups(p^7)), "\\n");
        Print(ForAll(Filtered([1 .. 2000], n -> IsCubeFreeInt(n)),
                     n -> NumberCFGroups(n) = NumberSmallGroups(n)), "\\n");
    """
    assert (await gap_in(full.container, program)).split() == ["true", "true", "true"]


async def test_gnu_g_without_the_packages_still_answers_p7_and_3_8_on_gap_minimal(
    minimal: Running,
) -> None:
    assert await call(minimal.endpoint, "GnuExplained", 13**7) == [
        1600573,
        "formula of Newman, O'Brien and Vaughan-Lee for p^7",
    ]
    count, source = await call(minimal.endpoint, "GnuExplained", 51660)
    assert count is False and "unknown" in source


# --- SIGINT: how the gateway stops a computation -------------------------------------


async def test_worker_survives_sigint_during_a_long_computation(
    engine: docker.DockerClient, worker_image: str
) -> None:
    running = await asyncio.to_thread(start_worker, engine, worker_image)
    container, endpoint = running.container, running.endpoint
    pid = await asyncio.to_thread(gap_pid, container)
    async with await Client.connect(endpoint.host, endpoint.port, timeout=30) as client:
        factoring = asyncio.ensure_future(client.call("WS_Factors", SEMIPRIME))
        before = cpu_seconds(pid)
        await eventually(
            lambda: cpu_seconds(pid) > before + 0.5 or factoring.done(),
            timeout=60,
            what="GAP computing the factorisation",
        )
        assert not factoring.done(), "the factorisation ended before it could be interrupted"
        # As the gateway does it: SIGINT to the container, which docker's init passes on.
        await asyncio.to_thread(container.kill, signal="SIGINT")
        with pytest.raises(ProcedureError) as caught:
            await asyncio.wait_for(factoring, 60)
    assert "interrupt" in caught.value.message
    assert await call(endpoint, "Gnu", 1024) == GNU_1024  # the same GAP serves on
    await asyncio.to_thread(container.reload)
    assert container.status == "running"
    assert await asyncio.to_thread(gap_pid, container) == pid


# --- non-root, health ----------------------------------------------------------------


@pytest.mark.parametrize("image", [MINIMAL, FULL, GATEWAY])
async def test_image_runs_as_a_non_root_user_with_a_healthcheck(
    engine: docker.DockerClient, image: str
) -> None:
    config = (await asyncio.to_thread(engine.images.get, image)).attrs["Config"]
    assert config.get("User") not in (None, "", "root", "0", "0:0"), f"{image} runs as root"
    assert (config.get("Healthcheck") or {}).get("Test"), f"{image} has no HEALTHCHECK"
    uid = await asyncio.to_thread(
        engine.containers.run,
        image,
        entrypoint=["id", "-u"],
        remove=True,
        network_mode="none",
        labels={LABEL_GATEWAY: TEST_ID},
    )
    assert int(uid) != 0


async def test_worker_reports_healthy_and_the_check_never_takes_gap_s_one_connection(
    serving: Running,
) -> None:
    """The gateway holds GAP's only connection; a check that connected would hang."""
    running = serving
    await until_healthy(running.container)
    async with await Client.connect(running.endpoint.host, running.endpoint.port) as held:
        seen = {entry["Start"] for entry in (await health(running.container)).get("Log", [])}

        async def two_checks_passed_while_held() -> bool:
            log = (await health(running.container)).get("Log", [])
            new = [entry for entry in log if entry["Start"] not in seen]
            assert all(entry["ExitCode"] == 0 for entry in new), new
            return len(new) >= 2

        await eventually(two_checks_passed_while_held, timeout=60, what="two health checks")
        assert await held.call("Gnu", 8) == 5


async def test_worker_health_check_fails_when_gap_does_not_listen(minimal: Running) -> None:
    """The check is not always true: a GAP that listens elsewhere is not healthy."""
    running = minimal
    other = str(running.endpoint.port + 1)
    code, output = await asyncio.to_thread(
        running.container.exec_run, ["/opt/scscp/bin/healthy"], environment={"SCSCP_PORT": other}
    )
    assert code == 1 and b"does not listen" in output
    code, output = await asyncio.to_thread(running.container.exec_run, ["/opt/scscp/bin/healthy"])
    assert code == 0, output


@contextlib.asynccontextmanager
async def removed_afterwards(client: docker.DockerClient, label: str) -> AsyncIterator[str]:
    """As ``cleaned``, with the engine calls in a thread."""
    await asyncio.to_thread(remove_everything, client, label)
    try:
        yield label
    finally:
        await asyncio.to_thread(remove_everything, client, label)


async def test_gateway_image_serves_through_worker_containers_and_reports_healthy(
    engine: docker.DockerClient,
) -> None:
    """The gateway in its container, workers from scscp/gap-minimal on the same engine.

    The gateway removes whatever carries its own id when it starts, so its
    container is labelled with another id than the workers it makes.
    """
    port = free_port()
    socket_path = "/var/run/docker.sock"
    async with (
        removed_afterwards(engine, f"{TEST_ID}-gateway") as gateway_label,
        removed_afterwards(engine, f"{TEST_ID}-workers") as workers_id,
    ):
        with tempfile.TemporaryDirectory() as folder:
            config = Path(folder, "gateway.toml")
            config.write_text(
                f'listen = "127.0.0.1:{port}"\nhttp = "127.0.0.1:{free_port()}"\n'
                f'id = "{workers_id}"\n'
                f'[pool]\nprovider = "docker"\nworkers = 1\nmemory = {512 * MiB}\n'
                f'[containers]\nimage = "{MINIMAL}"\n'
            )
            config.chmod(0o644)
            Path(folder).chmod(0o755)
            gateway = await asyncio.to_thread(
                engine.containers.run,
                GATEWAY,
                ["--config", "/etc/scscp/gateway.toml"],
                name=f"scscp-{gateway_label}",
                detach=True,
                labels={LABEL_GATEWAY: gateway_label},
                network_mode="host",
                init=True,
                read_only=True,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges:true"],
                group_add=[str(os.stat(socket_path).st_gid)],
                volumes={
                    socket_path: {"bind": socket_path, "mode": "rw"},
                    folder: {"bind": "/etc/scscp", "mode": "ro"},
                },
                healthcheck=FAST_HEALTH,
            )

            async def ready() -> bool:
                await asyncio.to_thread(gateway.reload)
                logs = await asyncio.to_thread(gateway.logs)
                assert gateway.status in ("created", "running"), logs.decode()[-3000:]
                return b"scscp-gateway ready" in logs

            await eventually(ready, timeout=START_TIMEOUT, what="the gateway container ready")
            assert await call(Endpoint("127.0.0.1", port), "Gnu", 1024) == GNU_1024
            await until_healthy(gateway)
            workers = await asyncio.to_thread(
                engine.containers.list, filters={"label": f"{LABEL_GATEWAY}={workers_id}"}
            )
            assert [w.image.tags for w in workers] == [[f"{MINIMAL}:latest"]]
            await asyncio.to_thread(gateway.stop, timeout=30)

            # Stopped, the gateway removes its workers.
            async def no_workers() -> bool:
                left = await asyncio.to_thread(
                    engine.containers.list,
                    all=True,
                    filters={"label": f"{LABEL_GATEWAY}={workers_id}"},
                )
                return not left

            await eventually(
                no_workers,
                timeout=30,
                what="the gateway's workers removed when it stops",
            )
