"""The gateway as a running service: an SCSCP server whose calls go to a pool.

Before a call reaches a worker the gateway applies the operator's policy:
the allow-list (others are rejected as GAP rejects an unknown procedure) and
the runtime limit (``option_runtime`` and ``max_runtime``, whichever is
shorter), which GAP itself ignores. It answers the scscp2 special procedures
for the service as a whole, and routes cookies to the worker that holds them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fnmatch
import logging
import re
import socket

from scscp import __version__
from scscp.endpoint import Endpoint
from scscp.errors import UnreadableReply
from scscp.gateway.autoscaler import Autoscaler
from scscp.gateway.config import GatewayConfig
from scscp.gateway.cookies import CookieError, Cookies
from scscp.gateway.http import HttpSide
from scscp.gateway.metrics import GatewayMetrics
from scscp.gateway.pool import Pool, Refusal
from scscp.gateway.providers import make_provider
from scscp.gateway.transient_cd import descriptions
from scscp.openmath import (
    OMAny,
    OMApplication,
    OMBinding,
    OMError,
    OMReference,
    OMString,
    OMSymbol,
)
from scscp.openmath.convert import FALSE, TRUE
from scscp.openmath.tree import nodes, symbols
from scscp.protocol import (
    TRANSIENT_CD,
    ProcedureCall,
    ProcedureCompleted,
    ProcedureTerminated,
    ReturnMode,
)
from scscp.server import Server
from scscp.special import (
    SCSCP2,
    TRANSIENT_CD_NAME,
    UNEXPECTED_SYMBOL,
    completed,
    meta_cd,
    service_description,
    symbol_set,
    unexpected,
)

TRANSIENT_PREFIX = "scscp_transient"  # the CDs whose symbols name a server's procedures

log = logging.getLogger(__name__)

Reply = ProcedureCompleted | ProcedureTerminated
SERVICE_NAME = "scscp-gateway"
BACKEND = "gap"  # the one backend today (WorkerSpec.backend); metrics label it anyway
# The scscp2 procedures the gateway answers: each has its own metrics label.
SPECIAL_PROCEDURES = (
    "get_allowed_heads", "is_allowed_head", "get_service_description", "get_transient_cd",
    "get_signature", "store_session", "store_persistent", "retrieve", "unbind",
)  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class RuntimeExceeded(ProcedureTerminated):
    """The call was interrupted at its runtime limit (metrics: outcome timeout)."""


def _refused(reply: ProcedureTerminated) -> Refusal:
    """The same reply, marked as the gateway's refusal (metrics: outcome rejected)."""
    return Refusal(**{f.name: getattr(reply, f.name) for f in dataclasses.fields(reply)})


class GatewayError(Exception):
    """The gateway cannot start; the message says why."""


class Gateway:
    """Start with ``start()``, stop with ``close()``; ``port`` is where it listens."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config.validate()
        low, high = config.pool.bounds
        autoscaler = (
            Autoscaler(
                low,
                high,
                scale_down_after=config.pool.scale_down_after,
                target_per_worker=config.pool.target_per_worker,
            )
            if config.pool.autoscaling
            else None
        )
        self.metrics = GatewayMetrics(BACKEND)
        self.pool = Pool(
            make_provider(config),
            max(low, 1),  # one at least, to learn what the workers offer
            autoscaler=autoscaler,
            max_queue=config.pool.max_queue,
            max_queue_wait=config.pool.max_queue_wait,
            health=config.pool.health,
            events=self.metrics.events(),
        )
        self.server = Server(
            self.handle,
            service_name=SERVICE_NAME,
            service_version=__version__,
            max_message_size=config.max_message_size,
        )
        self.metrics.watch(self.pool, self.server.stats)
        self.http = (
            HttpSide(config.http, self.metrics, self.pools) if config.http is not None else None
        )
        self._allowed = re.compile(
            "|".join(fnmatch.translate(pattern) for pattern in config.allow) or "(?!)"
        )
        self.heads: tuple[OMSymbol, ...] = ()  # what the workers offer and the operator allows
        self.descriptions: dict[str, str] = {}
        self.cookies = Cookies(config.listen)  # its port is known once listening

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def pools(self) -> dict[str, Pool]:
        """The pools by backend name (one today)."""
        return {BACKEND: self.pool}

    async def start(self) -> None:
        """Take the address, start the workers, learn what they offer, then accept."""
        listen = self.config.listen
        try:
            await self.server.start(listen.host, listen.port, accept=False)
        except OSError as exc:
            raise GatewayError(f"cannot listen on {listen}: {exc.strerror or exc}") from exc
        try:
            self.metrics.start()
            if self.http is not None:  # up before the workers: /readyz says 503 meanwhile
                try:
                    await self.http.start()
                except OSError as exc:
                    raise GatewayError(
                        f"cannot listen for HTTP on {self.config.http}: {exc.strerror or exc}"
                    ) from exc
            await self.pool.start()
            self.heads = await self._worker_heads()
            self.descriptions = await self._worker_descriptions()
            self.metrics.offer(
                [(h.cd, h.name) for h in self.heads] + [(SCSCP2, n) for n in SPECIAL_PROCEDURES]
            )
            self.cookies = Cookies(Endpoint(_public_host(listen.host), self.port))
            await self.server.accept()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        await self.server.close()
        await self.pool.close()
        if self.http is not None:
            await self.http.close()
        await self.metrics.close()

    def allows(self, procedure: OMSymbol) -> bool:
        return procedure.cd == TRANSIENT_CD and self._allowed.fullmatch(procedure.name) is not None

    @property
    def http_port(self) -> int | None:
        """Where the HTTP side listens (once started), or None without one."""
        return self.http.port if self.http is not None else None

    async def handle(self, call: ProcedureCall) -> Reply:
        """A client's call, answered and counted (the gateway's own questions are not)."""
        clock = asyncio.get_running_loop().time
        came = clock()
        outcome = "cancelled"  # unless a reply comes: terminate, the client left, shutdown
        try:
            reply = await self._answer(call)
            outcome = _outcome(reply)
            return reply
        finally:
            procedure = call.procedure
            self.metrics.call_done(procedure.cd, procedure.name, outcome, clock() - came)

    async def _answer(self, call: ProcedureCall) -> Reply:
        if call.procedure.cd == SCSCP2:
            return await self._special(call)
        if not self.allows(call.procedure):
            return _refused(unexpected(call))
        hidden = self._disallowed_inside(call.args)
        if hidden is not None:
            # GAP evaluates a procedure symbol wherever it stands, arguments included.
            return Refusal(call.call_id, OMError(UNEXPECTED_SYMBOL, (hidden,)))
        unsafe = _unsafe_binding(call.args)
        if unsafe is not None:
            return Refusal.because(call.call_id, unsafe)
        return await self._forward(call)

    def _disallowed_inside(self, args: tuple[OMAny, ...]) -> OMSymbol | None:
        """A procedure symbol in the arguments that the allow-list does not let through."""
        for symbol in symbols(args):
            if symbol.cd.startswith(TRANSIENT_PREFIX) and not self.allows(symbol):
                return symbol
        return None

    def runtime_limit(self, call: ProcedureCall) -> float | None:
        """Seconds the call may take: the client's option_runtime, capped by the operator's."""
        limits = [self.config.max_runtime]
        if call.runtime_ms is not None:
            limits.append(call.runtime_ms / 1000)
        return min((t for t in limits if t is not None), default=None)

    async def _forward(self, call: ProcedureCall) -> Reply:
        """Run ``call`` on a worker (the one its cookies name), under its runtime limit."""
        memory = self.config.pool.memory
        if call.min_memory is not None and memory is not None and call.min_memory > memory:
            return Refusal.because(
                call.call_id,
                f"{call.name} asks for at least {call.min_memory} bytes; "
                f"workers here are limited to {memory}",
                "error_memory",
            )
        try:
            worker, args = self.cookies.route(call.args, self.pool.workers)
        except CookieError as exc:
            return Refusal.because(call.call_id, str(exc))
        if args is not call.args or call.extra:
            # Attributes GAP does not know are dropped: it would evaluate them
            # (and fetch any reference in them from wherever it points).
            call = dataclasses.replace(call, args=args, extra=())
        limit = self.runtime_limit(call)
        try:
            reply = await self.pool.call(call, on=worker, runtime=limit)
        except TimeoutError:
            assert limit is not None
            return RuntimeExceeded.because(
                call.call_id,
                f"{call.name} exceeded its runtime limit of {round(limit * 1000)} ms "
                "and was interrupted",
                "error_runtime",
            )
        return self._export(reply)

    def _export(self, reply: Reply) -> Reply:
        """The reply with worker references renamed as the client must see them."""
        workers = self.pool.workers
        if isinstance(reply, ProcedureCompleted):
            if reply.result is None:
                return reply
            result = self.cookies.export(reply.result, workers)
            return reply if result is reply.result else dataclasses.replace(reply, result=result)
        args = tuple(
            OMString(self.cookies.export_text(a.value, workers)) if isinstance(a, OMString) else a
            for a in reply.error.args
        )
        if args == reply.error.args:
            return reply
        return dataclasses.replace(reply, error=OMError(reply.error.symbol, args))

    async def _special(self, call: ProcedureCall) -> Reply:
        """scscp2: answered for the whole service, or forwarded where an object lives."""
        name = call.procedure.name
        if name == "get_allowed_heads":
            return completed(call, symbol_set(self.heads))
        if name == "is_allowed_head":
            head = call.args[0] if len(call.args) == 1 else None
            return completed(call, TRUE if head in self.heads else FALSE)
        if name == "get_service_description":
            return completed(call, self._description())
        if name == "get_transient_cd":
            if call.args != (TRANSIENT_CD_NAME,):
                return ProcedureTerminated.because(
                    call.call_id, f"get_transient_cd knows only meta.CDName({TRANSIENT_CD!r})"
                )
            return completed(call, meta_cd(self.heads, self.descriptions))
        if name == "get_signature":
            if len(call.args) != 1 or call.args[0] not in self.heads:
                return ProcedureTerminated.because(
                    call.call_id, "get_signature takes one allowed procedure symbol"
                )
            return await self._forward(call)
        if name in ("store_session", "store_persistent"):
            if len(call.args) != 1:
                return ProcedureTerminated.because(call.call_id, f"{name} takes one object")
            # SCSCP 1.3: these answer a reference, whatever return option came with them.
            return await self._forward(dataclasses.replace(call, return_mode=ReturnMode.COOKIE))
        if name in ("retrieve", "unbind"):
            if len(call.args) != 1 or not isinstance(call.args[0], OMReference):
                return ProcedureTerminated.because(
                    call.call_id, f"{name} takes one reference (OMR) to a stored object"
                )
            return await self._forward(call)
        return _refused(unexpected(call))

    def _description(self) -> OMApplication:
        return service_description(
            SERVICE_NAME,
            __version__,
            f"SCSCP gateway to a pool of {self.pool.size} GAP workers; "
            f"{len(self.heads)} procedures allowed",
        )

    async def _worker_heads(self) -> tuple[OMSymbol, ...]:
        """Ask a worker what it offers; keep what the allow-list lets through."""
        ask = ProcedureCall("gateway-heads", OMSymbol(SCSCP2, "get_allowed_heads"))
        reply = await self.pool.ask(ask)
        offered = (
            reply.result.args
            if isinstance(reply, ProcedureCompleted) and isinstance(reply.result, OMApplication)
            else ()
        )
        heads = tuple(h for h in offered if isinstance(h, OMSymbol) and self.allows(h))
        log.info("procedures allowed: %s", " ".join(h.name for h in heads) or "none")
        return heads

    async def _worker_descriptions(self) -> dict[str, str]:
        """The procedures' descriptions, from GAP's transient CD (raw XML, not OpenMath)."""
        ask = ProcedureCall(
            "gateway-cd", OMSymbol(SCSCP2, "get_transient_cd"), (TRANSIENT_CD_NAME,)
        )
        try:
            await self.pool.ask(ask)
        except UnreadableReply as exc:
            return descriptions(exc.payload)
        return {}  # a worker that answers OpenMath: nothing to learn from XML


def _outcome(reply: Reply) -> str:
    """The metrics outcome of a reply: the reply's type says who ended the call."""
    if isinstance(reply, ProcedureCompleted):
        return "completed"
    if isinstance(reply, Refusal):
        return "rejected"
    if isinstance(reply, RuntimeExceeded):
        return "timeout"
    return "error"


def _public_host(host: str) -> str:
    """How clients name this host in references: as GAP does when bound to all interfaces."""
    return socket.getfqdn() if host in ("0.0.0.0", "::", "") else host


# GAP's OpenMath reader turns an OMBIND into GAP source text, pasting the bound
# variables' names in as they come, and evaluates it: only plain names may pass.
_GAP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_GAP_KEYWORDS = frozenset((
    "and", "atomic", "break", "continue", "do", "elif", "else", "end", "false", "fi", "for",
    "function", "if", "in", "local", "mod", "not", "od", "or", "readonly", "readwrite", "rec",
    "repeat", "return", "then", "true", "until", "while", "quit", "QUIT",
))  # fmt: skip


def _unsafe_binding(args: tuple[OMAny, ...]) -> str | None:
    """Why an argument cannot go to GAP as it is, or None."""
    for arg in args:
        for node in nodes(arg):
            if isinstance(node, OMBinding):
                for variable in node.variables:
                    name = variable.name
                    if not _GAP_NAME.fullmatch(name) or name in _GAP_KEYWORDS:
                        return (
                            f"bound variable name {name[:40]!r} is not accepted: "
                            "use letters, digits and _ (GAP compiles bindings as source)"
                        )
    return None
