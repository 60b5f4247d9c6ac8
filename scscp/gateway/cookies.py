"""Cookies: references to objects that live in one worker, as clients see them.

A worker names its stored objects ``scscp://WORKER:PORT/NAME``. Clients must
not see (or reach) a worker's address, and a later call using the object
must go to the worker that holds it. So the gateway hands out
``scscp://GATEWAY:PORT/<worker id>.NAME`` and maps it back when the reference
comes in again. Worker ids carry a per-run nonce and are never reused: a
reference to a worker that is gone (or to an earlier run of the gateway) is
an error, never another worker's object. References to other servers are
refused too: GAP would go and fetch them itself, from inside the pool.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from scscp.endpoint import Endpoint
from scscp.gateway.worker import Worker
from scscp.openmath import OMAny, OMReference
from scscp.openmath.tree import map_references, references

SCHEME = "scscp://"
_HREF = re.compile(r"scscp://[^/\s]+/[^\s\"<>]*")


class CookieError(Exception):
    """A reference the gateway cannot honour; the message is for the client."""


def split_href(href: str) -> tuple[str, str]:
    """``scscp://HOST:PORT/NAME`` -> (``HOST:PORT``, ``NAME``)."""
    if not href.startswith(SCHEME) or "/" not in href[len(SCHEME) :]:
        raise CookieError(f"{href!r} is not an SCSCP reference (scscp://host:port/name)")
    address, _, name = href[len(SCHEME) :].partition("/")
    return address, name


class Cookies:
    """Translates references between the gateway's clients and its workers."""

    def __init__(self, public: Endpoint) -> None:
        self.public = public

    def export(self, obj: OMAny, workers: Iterable[Worker]) -> OMAny:
        """A worker's reply with its references renamed for the client."""
        by_address = {str(w.handle.endpoint): w for w in workers}

        def rename(ref: OMReference) -> OMReference:
            return OMReference(self._public_href(ref.href, by_address))

        return map_references(obj, rename)

    def export_text(self, text: str, workers: Iterable[Worker]) -> str:
        """An error text with the workers' references renamed (GAP quotes them)."""
        if SCHEME not in text:
            return text
        by_address = {str(w.handle.endpoint): w for w in workers}
        return _HREF.sub(lambda m: self._public_href(m.group(0), by_address), text)

    def _public_href(self, href: str, by_address: dict[str, Worker]) -> str:
        address, name = split_href(href)
        worker = by_address.get(address)
        if worker is None:
            return href  # not one of ours: pass it on as GAP wrote it
        return f"{SCHEME}{self.public}/{worker.id}.{name}"

    def route(
        self, args: tuple[OMAny, ...], workers: Iterable[Worker]
    ) -> tuple[Worker | None, tuple[OMAny, ...]]:
        """The worker that holds the objects ``args`` refer to, and args as it names them.

        None when the args hold no reference; CookieError when they refer to a
        worker that is gone, to several workers, or to another server.
        """
        refs = [ref for arg in args for ref in references(arg)]
        if not refs:
            return None, args
        by_id = {w.id: w for w in workers}
        holders: dict[str, Worker] = {}
        for ref in refs:
            holders[ref.href] = self._holder(ref.href, by_id)
        chosen = set(holders.values())
        if len(chosen) > 1:
            raise CookieError(
                "the call combines objects stored on different workers; retrieve them first"
            )
        worker = chosen.pop()

        def rename(ref: OMReference) -> OMReference:
            _, name = split_href(ref.href)
            return OMReference(f"{SCHEME}{worker.handle.endpoint}/{name.partition('.')[2]}")

        return worker, tuple(map_references(arg, rename) for arg in args)

    def _holder(self, href: str, by_id: dict[str, Worker]) -> Worker:
        _, name = split_href(href)
        worker_id, dot, _ = name.partition(".")
        worker = by_id.get(worker_id) if dot else None
        if worker is not None:
            return worker
        if dot and worker_id.startswith(Worker.id_prefix()):
            raise CookieError(
                f"the object {href} was stored on worker {worker_id}, which is gone; "
                "the object is lost"
            )
        raise CookieError(f"{href} is not an object stored by this gateway")
