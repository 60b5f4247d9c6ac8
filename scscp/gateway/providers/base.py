"""What the pool needs of a provider: start a worker, and a handle to it.

A provider knows how to run a worker (a local process, later a container)
and where it listens; it knows nothing of SCSCP beyond that.
"""

from __future__ import annotations

from typing import Protocol

from scscp.endpoint import Endpoint


class WorkerHandle(Protocol):
    """A running worker, as its provider sees it."""

    endpoint: Endpoint
    name: str

    async def wait(self) -> int | None:
        """Return when the worker has exited (its exit status, if known)."""
        ...

    async def interrupt(self) -> None:
        """Ask the worker to abandon its current computation (SIGINT for GAP).

        Returns once the signal is sent: a signal still on its way (through a
        container engine) could otherwise hit the worker's next call.
        """
        ...

    def memory(self) -> int | None:
        """Bytes the worker holds now (resident), or None when unknown."""
        ...

    async def stop(self) -> None:
        """Stop the worker and release what it holds; safe to call twice."""
        ...


class Provider(Protocol):
    """Starts workers. ``start`` returns once the worker accepts connections."""

    async def start(self) -> WorkerHandle: ...

    async def close(self) -> None:
        """Stop what the provider still owns."""
        ...


class WorkerStartError(RuntimeError):
    """A worker could not be brought up; the message says why."""
