"""Write SCSCP services in Python: register procedures, then serve them.

    service = Service("Arithmetic", "1.0")

    @service.procedure
    def add(a: int, b: int) -> int:
        "The sum of two integers."
        return a + b

    await service.start("127.0.0.1", 26133)

Arguments arrive as Python values (``to_python``) and results go back with
``from_python``; a procedure's arity comes from its parameters and its
description from its docstring. Handled here, for every service: the scscp2
procedures, cookies (``option_return_cookie``, ``store_session``,
``store_persistent``, ``retrieve``, ``unbind`` and references passed as
arguments), ``option_runtime``, ``terminate`` (through ``scscp.server``) and
errors, each answered as ``procedure_terminated`` with a message.

Stored objects live until ``unbind`` or the end of the service. A procedure
that is a plain function runs in a thread so that the service keeps
answering; a runtime limit stops waiting for it, not the thread itself.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, overload

from scscp.openmath import OMAny, OMReference, OMSymbol, from_python, to_python
from scscp.openmath.convert import FALSE, TRUE
from scscp.openmath.tree import map_references
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
    completed,
    meta_cd,
    service_description,
    signature,
    symbol_set,
    unexpected,
)

Reply = ProcedureCompleted | ProcedureTerminated


@dataclass(frozen=True, slots=True)
class Procedure:
    """A registered procedure and what clients are told of it."""

    name: str
    func: Callable[..., Any]
    description: str
    min_args: int
    max_args: int | None  # None: any number (the function takes *args)

    @classmethod
    def of(cls, func: Callable[..., Any], name: str | None = None) -> Procedure:
        params = inspect.signature(func).parameters.values()
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = sum(1 for p in positional if p.default is p.empty)
        variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
        return cls(
            name or func.__name__,
            func,
            inspect.cleandoc(func.__doc__ or ""),
            required,
            None if variadic else len(positional),
        )

    def arity_error(self, given: int) -> str | None:
        if given >= self.min_args and (self.max_args is None or given <= self.max_args):
            return None
        if self.max_args == self.min_args:
            wanted = f"{self.min_args}"
        elif self.max_args is None:
            wanted = f"at least {self.min_args}"
        else:
            wanted = f"{self.min_args} to {self.max_args}"
        return f"{self.name} takes {wanted} argument(s), got {given}"


class ProcedureFailed(Exception):
    """Raise in a procedure to answer with a chosen scscp1 error symbol."""

    def __init__(self, message: str, kind: str = "error_system_specific") -> None:
        super().__init__(message)
        self.kind = kind


class Service:
    """A table of Python procedures served over SCSCP."""

    def __init__(self, name: str, version: str = "0", description: str = "") -> None:
        self.name = name
        self.version = version
        self.description = description
        self.procedures: dict[str, Procedure] = {}
        self._objects: dict[str, OMAny] = {}
        self._names = itertools.count(1)
        self.server = Server(self.handle, service_name=name, service_version=version)

    @overload
    def procedure(self, func: Callable[..., Any], /) -> Callable[..., Any]: ...

    @overload
    def procedure(
        self, *, name: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...

    def procedure(
        self, func: Callable[..., Any] | None = None, /, *, name: str | None = None
    ) -> Any:
        """Register ``func`` (as ``@service.procedure`` or ``@service.procedure(name=...)``)."""

        def register(f: Callable[..., Any]) -> Callable[..., Any]:
            entry = Procedure.of(f, name)
            self.procedures[entry.name] = entry
            return f

        return register(func) if func is not None else register

    @property
    def heads(self) -> tuple[OMSymbol, ...]:
        return tuple(OMSymbol(TRANSIENT_CD, name) for name in self.procedures)

    async def start(self, host: str = "127.0.0.1", port: int = 26133) -> None:
        await self.server.start(host, port)

    async def close(self) -> None:
        await self.server.close()

    async def handle(self, call: ProcedureCall) -> Reply:
        """Answer one call (the ``scscp.server.Server`` handler)."""
        try:
            if call.procedure.cd == SCSCP2:
                return self._special(call)
            procedure = self.procedures.get(call.name)
            if call.procedure.cd != TRANSIENT_CD or procedure is None:
                return unexpected(call)
            args = [to_python(self._resolve(arg)) for arg in call.args]
            problem = procedure.arity_error(len(args))
            if problem:
                return ProcedureTerminated.because(call.call_id, problem)
            result = await self._run(procedure, args, call.runtime_ms)
            return self._reply(call, from_python(result))
        except ProcedureFailed as exc:
            return ProcedureTerminated.because(call.call_id, str(exc), exc.kind)
        except TimeoutError:
            return ProcedureTerminated.because(
                call.call_id,
                f"{call.name} exceeded its runtime limit of {call.runtime_ms} ms",
                "error_runtime",
            )
        except MemoryError:
            return ProcedureTerminated.because(
                call.call_id, f"{call.name} ran out of memory", "error_memory"
            )
        except Exception as exc:  # a procedure's failure is the caller's answer
            return ProcedureTerminated.because(
                call.call_id, f"{call.name}: {type(exc).__name__}: {exc}"
            )

    async def _run(self, procedure: Procedure, args: list[Any], runtime_ms: int | None) -> Any:
        async with asyncio.timeout(None if runtime_ms is None else runtime_ms / 1000):
            if inspect.iscoroutinefunction(procedure.func):
                return await procedure.func(*args)
            return await asyncio.to_thread(procedure.func, *args)

    def _reply(self, call: ProcedureCall, result: OMAny) -> ProcedureCompleted:
        if call.return_mode is ReturnMode.COOKIE:
            return ProcedureCompleted(call.call_id, self._store(result))
        return completed(call, result)

    def _special(self, call: ProcedureCall) -> Reply:
        name, args = call.name, call.args
        if name == "get_allowed_heads":
            return completed(call, symbol_set(self.heads))
        if name == "is_allowed_head":
            return completed(call, TRUE if args and args[0] in self.heads else FALSE)
        if name == "get_service_description":
            return completed(call, service_description(self.name, self.version, self.description))
        if name == "get_signature" and len(args) == 1 and args[0] in self.heads:
            assert isinstance(args[0], OMSymbol)
            entry = self.procedures[args[0].name]
            return completed(call, signature(args[0], entry.min_args, entry.max_args))
        if name == "get_transient_cd" and args == (TRANSIENT_CD_NAME,):
            described = {n: p.description for n, p in self.procedures.items()}
            return completed(call, meta_cd(self.heads, described))
        if name in ("store_session", "store_persistent") and len(args) == 1:
            return ProcedureCompleted(call.call_id, self._store(self._resolve(args[0])))
        if name == "retrieve" and len(args) == 1:
            return completed(call, self._resolve(args[0]))
        if name == "unbind" and len(args) == 1 and isinstance(args[0], OMReference):
            self._resolve(args[0])  # an unknown reference is an error
            del self._objects[self._local_name(args[0])]
            return completed(call, TRUE)
        if name in _SPECIAL_ARGS:
            raise ProcedureFailed(f"{name} takes {_SPECIAL_ARGS[name]}")
        return unexpected(call)

    def _store(self, obj: OMAny) -> OMReference:
        name = f"obj{next(self._names)}"
        self._objects[name] = obj
        return OMReference(f"scscp://{self.server.host}:{self.server.port}/{name}")

    def _resolve(self, obj: OMAny) -> OMAny:
        """``obj`` with references to stored objects replaced by the objects."""

        def lookup(ref: OMReference) -> OMAny:
            stored = self._objects.get(self._local_name(ref))
            if stored is None:
                raise ProcedureFailed(f"{ref.href} is not an object stored here")
            return stored

        return map_references(obj, lookup)

    def _local_name(self, ref: OMReference) -> str:
        prefix = f"scscp://{self.server.host}:{self.server.port}/"
        return ref.href[len(prefix) :] if ref.href.startswith(prefix) else ""


_SPECIAL_ARGS = {
    "get_signature": "one procedure symbol of this service",
    "get_transient_cd": f"meta.CDName({TRANSIENT_CD!r})",
    "store_session": "one object",
    "store_persistent": "one object",
    "retrieve": "one reference",
    "unbind": "one reference",
}
