"""The dns provider against a real DNS server (dnsmasq) and real GAP workers.

dnsmasq answers one name from a hosts file with loopback addresses
(127.0.0.2, 127.0.0.3, ...); the test edits the file and sends SIGHUP, as a
cluster's DNS changes when pods come and go. A GAP worker listens on the
same port at each address, as pods behind a headless Service do.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scscp.client import Client
from scscp.endpoint import Endpoint
from scscp.gateway import Gateway
from scscp.gateway.config import DnsConfig, GapConfig
from scscp.gateway.providers.base import WorkerStartError
from scscp.gateway.providers.dns import DnsProvider, Lookup
from scscp.gateway.providers.local import READY_MARK, until_listening
from tests.conftest import eventually, gateway_config

NAME = "gap-workers.scscp.test"
ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
INTERVAL = 0.2  # seconds between the provider's lookups


class Dns:
    """A dnsmasq process answering NAME from a hosts file that the test rewrites."""

    def __init__(self, hosts: Path, port: int, process: subprocess.Popen[bytes]) -> None:
        self.hosts = hosts
        self.endpoint = Endpoint("127.0.0.1", port)
        self.process = process

    async def answer(self, *addresses: str) -> None:
        """Make NAME resolve to ``addresses``; return once dnsmasq says so."""
        self.hosts.write_text("".join(f"{a} {NAME}\n" for a in addresses))
        self.process.send_signal(signal.SIGHUP)  # dnsmasq rereads its hosts files
        lookup = Lookup(NAME, self.endpoint)
        await eventually(
            lambda: _is(lookup, set(addresses)),
            timeout=10,
            what=f"dnsmasq answering {NAME} with {sorted(addresses)}",
        )


async def _is(lookup: Lookup, expected: set[str]) -> bool:
    return await lookup() == expected


def _free_port(hosts: tuple[str, ...], kind: int = socket.SOCK_STREAM) -> int:
    """A port free on every one of ``hosts`` (and on 127.0.0.1 for UDP and TCP)."""
    while True:
        with socket.socket(socket.AF_INET, kind) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        try:
            for host in hosts:
                for k in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    with socket.socket(socket.AF_INET, k) as other:
                        other.bind((host, port))
        except OSError:
            continue
        return port


@pytest.fixture
async def dns(tmp_path: Path) -> AsyncIterator[Dns]:
    """A real DNS server on a loopback port, answering nothing for NAME at first."""
    dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.access(dnsmasq, os.X_OK):
        pytest.fail("dnsmasq is not installed: apt-get install dnsmasq-base")
    hosts = tmp_path / "hosts"
    hosts.write_text("")
    port = _free_port(("127.0.0.1",))
    process = subprocess.Popen(
        [
            dnsmasq,
            "--keep-in-foreground",
            "--conf-file=/dev/null",  # nothing from /etc/dnsmasq.conf
            f"--port={port}",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",  # never forward: nothing leaves loopback
            "--local=/scscp.test/",  # the zone is dnsmasq's own: no AAAA is NODATA, not REFUSED
            "--no-hosts",
            f"--addn-hosts={hosts}",
            "--local-ttl=0",
            "--user=root",  # keep reading the test's hosts file after SIGHUP
            "--pid-file=",
            "--log-facility=-",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = Dns(hosts, port, process)
    try:
        # Up once it answers (a SIGHUP before its handler is installed would end it).
        lookup = Lookup(NAME, server.endpoint)
        await eventually(
            lambda: process.poll() is not None or _is(lookup, set()),
            timeout=30,
            what="dnsmasq answering on its port",
        )
        if process.poll() is not None:
            pytest.fail(f"dnsmasq exited: {process.communicate()[1].decode(errors='replace')}")
        yield server
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
        if process.returncode not in (0, -signal.SIGTERM):
            print(err.decode(errors="replace"))


class GapWorker:
    """A GAP SCSCP server on ``host:port``, started as the local provider starts one."""

    def __init__(self, process: asyncio.subprocess.Process, endpoint: Endpoint) -> None:
        self.process = process
        self.endpoint = endpoint
        self._output: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, gap: str, host: str, port: int) -> GapWorker:
        env = {**os.environ, "SCSCP_HOST": host, "SCSCP_PORT": str(port)}
        process = await asyncio.create_subprocess_exec(
            gap,
            "-q",
            "-b",
            *(str(p) for p in GapConfig().scripts),
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        worker = cls(process, Endpoint(host, port))
        said = []
        assert process.stdout is not None
        async with asyncio.timeout(60):
            async for line in process.stdout:
                said.append(line)
                if READY_MARK in line:
                    await until_listening(host, port)
                    worker._output = asyncio.create_task(worker._drain())  # never a full pipe
                    return worker
        await worker.stop()
        pytest.fail(f"GAP did not start on {host}:{port}: {b''.join(said).decode()}")

    async def _drain(self) -> None:
        assert self.process.stdout is not None
        async for _ in self.process.stdout:
            pass

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()


@pytest.fixture
async def workers(gap: str) -> AsyncIterator[tuple[int, list[GapWorker]]]:
    """A GAP worker at each of ADDRESSES, all on one port."""
    port = _free_port(ADDRESSES)
    started = await asyncio.gather(
        *(GapWorker.start(gap, a, port) for a in ADDRESSES), return_exceptions=True
    )
    ok = [w for w in started if isinstance(w, GapWorker)]
    try:
        errors = [e for e in started if isinstance(e, BaseException)]
        if errors:
            raise errors[0]
        yield port, ok
    finally:
        await asyncio.gather(*(w.stop() for w in ok))


def endpoints(gw: Gateway) -> set[str]:
    return {w.handle.endpoint.host for w in gw.pool.workers}


async def test_the_pool_follows_the_addresses_behind_the_name(
    gap: str, dns: Dns, workers: tuple[int, list[GapWorker]]
) -> None:
    port, _ = workers
    await dns.answer("127.0.0.2", "127.0.0.3")
    config = gateway_config(gap, workers=1)
    config = dataclasses.replace(
        config,
        pool=dataclasses.replace(
            config.pool, provider="dns", min_workers=1, max_workers=4, start_timeout=20
        ),
        dns=DnsConfig(name=NAME, port=port, interval=INTERVAL, nameserver=dns.endpoint),
    )
    gw = Gateway(config)
    await gw.start()
    answers: list[tuple[int, object]] = []
    sent = 0
    stop = asyncio.Event()

    async def client(offset: int) -> None:
        """Calls in a row until told to stop; every call must get its own answer."""
        nonlocal sent
        async with await Client.connect("127.0.0.1", gw.port) as session:
            i = offset
            while not stop.is_set():
                sent += 1
                answers.append((i, await session.call("Identity", i)))
                i += 3

    try:
        await eventually(
            lambda: endpoints(gw) == {"127.0.0.2", "127.0.0.3"},
            timeout=30,
            what="the pool on both addresses DNS offers",
        )
        load = [asyncio.create_task(client(k)) for k in range(3)]

        await dns.answer("127.0.0.2", "127.0.0.3", "127.0.0.4")
        await eventually(
            lambda: endpoints(gw) == set(ADDRESSES),
            timeout=30,
            what="the pool grown onto 127.0.0.4, the address that appeared",
        )
        await eventually(
            lambda: any(
                w.calls_served > 0 for w in gw.pool.workers if w.handle.endpoint.host == "127.0.0.4"
            ),
            timeout=30,
            what="a call answered by the worker at 127.0.0.4",
        )

        await dns.answer("127.0.0.3", "127.0.0.4")
        await eventually(
            lambda: endpoints(gw) == {"127.0.0.3", "127.0.0.4"},
            timeout=30,
            what="the worker at 127.0.0.2 dropped once its address left DNS",
        )
        settled = len(answers)
        await eventually(
            lambda: len(answers) > settled + 20,
            timeout=30,
            what="calls still answered after the change",
        )
        assert gw.pool.ready == 2  # nothing was started in place of the departed worker
        stop.set()
        await asyncio.gather(*load)
    finally:
        stop.set()
        await gw.close()
    assert len(answers) == sent  # each call answered, once
    assert all(i == result for i, result in answers), [a for a in answers if a[0] != a[1]][:5]


async def test_a_start_passes_over_a_busy_gap_and_waits_for_an_address(
    gap: str, dns: Dns, workers: tuple[int, list[GapWorker]]
) -> None:
    port, _ = workers
    await dns.answer("127.0.0.2", "127.0.0.3")
    provider = DnsProvider(NAME, port, interval=INTERVAL, nameserver=dns.endpoint, start_timeout=30)
    # Another client holds the session of GAP at 127.0.0.2: it serves one at a time.
    other = await Client.connect("127.0.0.2", port)
    try:
        first = await provider.start()
        assert first.endpoint == Endpoint("127.0.0.3", port)
        waiting = asyncio.create_task(provider.start())  # nothing free: it waits
        await other.close()  # GAP at 127.0.0.2 greets again
        second = await asyncio.wait_for(waiting, 30)
        assert second.endpoint == Endpoint("127.0.0.2", port)
        gone = asyncio.create_task(second.wait())
        await dns.answer("127.0.0.3")
        await asyncio.wait_for(gone, 30)  # wait() returns once the address left DNS
        assert not first.stopped.is_set() and provider.offered == 1
    finally:
        with contextlib.suppress(Exception):
            await other.close()
        await provider.close()


async def test_a_start_fails_with_a_clear_error_when_dns_offers_nothing(dns: Dns) -> None:
    await dns.answer()
    provider = DnsProvider(NAME, 26133, interval=INTERVAL, nameserver=dns.endpoint, start_timeout=1)
    try:
        with pytest.raises(WorkerStartError, match=rf"no free worker behind {NAME}.*offers 0"):
            await provider.start()
    finally:
        await provider.close()


async def test_the_system_resolver_answers_from_the_system() -> None:
    """Without a nameserver, names resolve as every program here resolves them."""
    assert "127.0.0.1" in (await Lookup("localhost")() or set())
    assert await Lookup("no-such-name.invalid")() == frozenset()
