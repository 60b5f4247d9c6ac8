"""Workers as local GAP processes, each on its own free loopback port.

The process reads the service files and then ``services/gap/worker.g``,
which listens where ``SCSCP_HOST``/``SCSCP_PORT`` say. A worker is started
when GAP prints that it accepts connections. Workers live in their own
session (a Ctrl-C meant for the gateway must not interrupt computations) and
are killed by the kernel if the gateway dies (``PR_SET_PDEATHSIG``), so a
``kill -9`` of the gateway leaves no orphan holding a port.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from scscp.endpoint import Endpoint
from scscp.gateway.providers.base import WorkerStartError

log = logging.getLogger(__name__)

READY_MARK = b"Ready to accept TCP/IP connections"
BIND_FAILED_MARK = b"failed to start SCSCP server"
PORT_ATTEMPTS = 3
LISTEN_POLL = 0.005
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the gateway process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LocalWorker:
    """A GAP process started by ``LocalProvider``."""

    def __init__(self, process: asyncio.subprocess.Process, endpoint: Endpoint) -> None:
        self.process = process
        self.endpoint = endpoint
        self.name = f"gap[{process.pid}]@{endpoint}"
        self._output = asyncio.create_task(self._log_output())

    async def wait(self) -> int | None:
        return await self.process.wait()

    async def interrupt(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)

    def memory(self) -> int | None:
        try:
            with open(f"/proc/{self.process.pid}/statm") as statm:
                return int(statm.read().split()[1]) * PAGE_SIZE
        except (OSError, ValueError, IndexError):
            return None

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
                self.process.send_signal(signal.SIGCONT)  # a stopped process wakes to die
            try:
                async with asyncio.timeout(5):
                    await self.process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        await asyncio.gather(self._output, return_exceptions=True)

    async def _log_output(self) -> None:
        """Keep GAP's pipe drained (a full pipe would block it) and log it."""
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            log.debug("%s: %s", self.name, line.decode(errors="replace").rstrip())


class LocalProvider:
    """Starts GAP worker processes on this machine.

    ``memory`` (bytes) becomes GAP's ``-o`` limit: a computation that needs
    more is stopped with an error, and the worker lives on.
    """

    def __init__(
        self,
        gap: str,
        scripts: Sequence[Path],
        *,
        host: str = "127.0.0.1",
        start_timeout: float = 60.0,
        memory: int | None = None,
    ) -> None:
        self.gap = gap
        self.memory = memory
        self.scripts = [str(s) for s in scripts]
        self.host = host
        self.start_timeout = start_timeout
        self._workers: set[LocalWorker] = set()

    async def start(self) -> LocalWorker:
        last_error = ""
        for _ in range(PORT_ATTEMPTS):
            port = _free_port(self.host)
            try:
                worker = await self._start_on(port)
            except _PortTaken as exc:
                last_error = str(exc)  # another process took the port first: try another
                continue
            self._workers = {w for w in self._workers if w.process.returncode is None}
            self._workers.add(worker)
            return worker
        raise WorkerStartError(last_error)

    async def close(self) -> None:
        await asyncio.gather(*(w.stop() for w in self._workers))
        self._workers.clear()

    async def _start_on(self, port: int) -> LocalWorker:
        env = {**os.environ, "SCSCP_HOST": self.host, "SCSCP_PORT": str(port)}
        try:
            limit = ["-o", f"{self.memory // 1024}k"] if self.memory else []
            process = await asyncio.create_subprocess_exec(
                self.gap,
                "-q",
                "-b",
                *limit,
                *self.scripts,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            raise WorkerStartError(f"cannot run GAP as {self.gap!r}: {exc}") from exc
        output: deque[bytes] = deque(maxlen=20)
        ready = False
        try:
            async with asyncio.timeout(self.start_timeout):
                assert process.stdout is not None
                async for line in process.stdout:
                    output.append(line)
                    if READY_MARK in line:
                        await until_listening(self.host, port)
                        ready = True
                        return LocalWorker(process, Endpoint(self.host, port))
                    if BIND_FAILED_MARK in line:
                        raise _PortTaken(f"GAP could not listen on {self.host}:{port}")
        except TimeoutError:
            pass
        finally:
            if not ready and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        said = b"".join(output).decode(errors="replace").strip()
        raise WorkerStartError(
            f"GAP did not become ready on {self.host}:{port} "
            f"(exit status {process.returncode}); it said: {said[-1500:] or 'nothing'}"
        )


async def until_listening(host: str, port: int) -> None:
    """GAP says it is ready a moment before it listens: wait for the listen.

    The probe connects and leaves at once; GAP takes that as a client that
    left before the handshake and goes back to accepting.
    """
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except ConnectionRefusedError:
            await asyncio.sleep(LISTEN_POLL)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


class _PortTaken(WorkerStartError):
    pass
