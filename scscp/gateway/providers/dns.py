"""Workers found in DNS: the addresses behind one name (a Kubernetes headless Service).

The cluster runs and sizes the workers; the gateway only finds them. Every
``interval`` seconds the name is looked up again: an address that appears is
a worker the pool may take, and a worker whose address has gone from the
answer is treated as gone (``wait`` returns). The gateway still computes the
worker count it would want (its autoscaler's, exported as
``scscp_autoscaler_desired_replicas``) for the cluster's autoscaler to act
on; the pool reads ``offered`` and so never waits for more workers than DNS
offers, and never stops one itself: workers go when the cluster removes them.

A GAP server serves one client at a time, so before an address is handed
out the provider checks that its GAP greets a new connection: an address
whose GAP is busy (with an abandoned computation, or with another client)
is passed over until it greets again.

What cannot be done across the network, and what happens instead:

- ``interrupt``: a remote pod cannot be signalled, so nothing is sent. The
  caller is answered at once by the gateway anyway; the pool then gives GAP
  its grace period to finish by itself (``worker.INTERRUPT_GRACE``) and, if
  it does not, gives the worker up. Its address is handed out again only once
  its GAP greets a new connection, that is once the abandoned computation
  has ended. Bound long computations with ``max_runtime``, as everywhere.
- ``memory``: unknown (None), so ``option_max_memory`` is not watched; the
  pod's memory limit and GAP's ``-o`` (``GAP_MEMORY``) bound the worker.

Lookups use the system's resolver (``getaddrinfo``) unless a ``nameserver``
is configured, which is asked directly with dnspython's asyncio resolver. A
lookup that fails (a time-out, no server answering) keeps the last answer:
a DNS hiccup must not drop every worker; a name that does not exist, or has
no addresses, is an empty answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import Any

from scscp.endpoint import Endpoint
from scscp.gateway.providers.base import WorkerStartError

log = logging.getLogger(__name__)

GREETING = b"<?scscp "  # how every SCSCP server's first line starts
GREETING_TIMEOUT = 2.0  # seconds a worker's GAP may take to greet a probe connection
LOOKUP_TIMEOUT = 5.0  # seconds one lookup may take


class Lookup:
    """Resolves the name to its set of addresses; None when the lookup itself failed."""

    def __init__(self, name: str, nameserver: Endpoint | None = None) -> None:
        self.name = name
        self.nameserver = nameserver
        self._resolver: Any = None
        if nameserver is not None:
            import dns.asyncresolver  # only needed for a configured nameserver

            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [nameserver.host]
            resolver.port = nameserver.port
            resolver.lifetime = LOOKUP_TIMEOUT
            resolver.cache = None  # every lookup asks: changes must be seen at once
            self._resolver = resolver

    async def __call__(self) -> frozenset[str] | None:
        if self._resolver is None:
            return await self._system()
        return await self._nameserver()

    async def _system(self) -> frozenset[str] | None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT):
                infos = await loop.getaddrinfo(self.name, None, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)):
                return frozenset()  # the name exists no more, or has no address now
            log.warning("looking up %s failed: %s", self.name, exc)
            return None
        except TimeoutError:
            log.warning("looking up %s took longer than %s s", self.name, LOOKUP_TIMEOUT)
            return None
        return frozenset(str(info[4][0]) for info in infos)

    async def _nameserver(self) -> frozenset[str] | None:
        import dns.exception
        import dns.resolver

        addresses: set[str] = set()
        for kind in ("A", "AAAA"):
            try:
                answer = await self._resolver.resolve(self.name, kind, search=False)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except dns.exception.DNSException as exc:
                log.warning("asking %s for %s failed: %s", self.nameserver, self.name, exc)
                return None
            addresses.update(record.address for record in answer)
        return frozenset(addresses)


class DnsWorker:
    """A worker at one address from DNS. ``wait`` returns when the address is gone."""

    def __init__(self, provider: DnsProvider, address: str, port: int) -> None:
        self.provider = provider
        self.address = address
        self.endpoint = Endpoint(address, port)
        self.name = f"dns:{provider.name}@{self.endpoint}"
        self.stopped = asyncio.Event()

    async def wait(self) -> int | None:
        """Return once the address has left DNS, or the worker was stopped."""
        await self.provider.until_gone(self)
        self.provider.release(self)
        return None

    async def interrupt(self) -> None:
        """Nothing can be sent to a remote pod; see the module's text for what follows."""
        log.info(
            "worker %s cannot be interrupted (a remote pod); its computation runs on", self.name
        )

    def memory(self) -> int | None:
        return None

    async def stop(self) -> None:
        """Give the address back: the next start may hand it out once its GAP greets."""
        self.stopped.set()
        self.provider.release(self)


class DnsProvider:
    """Hands out the addresses behind ``name`` as workers listening on ``port``."""

    def __init__(
        self,
        name: str,
        port: int = 26133,
        *,
        interval: float = 5.0,
        nameserver: Endpoint | None = None,
        start_timeout: float = 60.0,
        max_workers: int | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.interval = interval
        self.start_timeout = start_timeout
        self.max_workers = max_workers
        self.lookup = Lookup(name, nameserver)
        self.addresses: frozenset[str] = frozenset()  # the last answer
        self._held: dict[str, DnsWorker] = {}
        # Set (and replaced) after every lookup and every address given back.
        self._changed = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    @property
    def offered(self) -> int:
        """Workers the cluster offers now: the addresses in DNS (within ``max_workers``).

        The pool reads it: it follows this count instead of starting workers
        of its own, and never stops a worker for a lower count.
        """
        count = len(self.addresses)
        return count if self.max_workers is None else min(count, self.max_workers)

    async def start(self) -> DnsWorker:
        """A worker at an address that is in DNS, not ours yet, and whose GAP greets."""
        self._watch()
        deadline = time.monotonic() + self.start_timeout
        passed_over: set[str] = set()
        while True:
            changed = self._changed
            for address in sorted(self.addresses - self._held.keys()):
                if self.max_workers is not None and len(self._held) >= self.max_workers:
                    break
                if await greets(address, self.port) and address not in self._held:
                    worker = DnsWorker(self, address, self.port)
                    self._held[address] = worker
                    return worker
                passed_over.add(address)
            left = deadline - time.monotonic()
            if left <= 0:
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await changed.wait()  # the next lookup, or an address given back
        busy = f" ({', '.join(sorted(passed_over))} did not greet)" if passed_over else ""
        raise WorkerStartError(
            f"no free worker behind {self.name} within {self.start_timeout} s: "
            f"DNS offers {len(self.addresses)}, {len(self._held)} in use{busy}"
        )

    async def until_gone(self, worker: DnsWorker) -> None:
        """Return when ``worker``'s address is no longer in DNS, or it was stopped."""
        while True:
            changed = self._changed
            if worker.stopped.is_set() or worker.address not in self.addresses:
                break
            await changed.wait()
        if not worker.stopped.is_set():
            log.warning("worker %s left DNS: it is gone", worker.name)

    def release(self, worker: DnsWorker) -> None:
        if self._held.get(worker.address) is worker:
            del self._held[worker.address]
        self._notify()

    async def close(self) -> None:
        """Stop looking; the workers themselves belong to the cluster."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for worker in list(self._held.values()):
            await worker.stop()

    def _watch(self) -> None:
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._keep_looking())

    async def _keep_looking(self) -> None:
        while True:
            answer = await self.lookup()
            if answer is not None and answer != self.addresses:
                log.info("%s: %d addresses (%s)", self.name, len(answer), ", ".join(sorted(answer)))
                self.addresses = answer
            self._notify()
            await asyncio.sleep(self.interval)

    def _notify(self) -> None:
        """Wake whoever waits for a change: starts, and workers watching their address."""
        self._changed.set()
        self._changed = asyncio.Event()


async def greets(host: str, port: int) -> bool:
    """Whether the SCSCP server at ``host:port`` accepts us now (GAP serves one at a time).

    A connection that reads the welcome line and leaves is harmless: GAP
    takes it as a client that left before the handshake and accepts the next.
    """
    try:
        async with asyncio.timeout(GREETING_TIMEOUT):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                line = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError):
        return False
    return line.startswith(GREETING)
