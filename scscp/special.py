"""The scscp2 special procedures: their names and the OpenMath of their answers.

Shared by ``scscp.service`` (Python procedures) and the gateway (GAP
workers), so that both describe themselves to clients in the same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from scscp.openmath import OMApplication, OMError, OMInteger, OMString, OMSymbol
from scscp.protocol import TRANSIENT_CD, ProcedureCall, ProcedureCompleted, ProcedureTerminated
from scscp.protocol.events import ReturnMode

SCSCP2 = "scscp2"
META = "meta"
UNEXPECTED_SYMBOL = OMSymbol("error", "unexpected_symbol")
TRANSIENT_CD_NAME = OMApplication(OMSymbol(META, "CDName"), (OMString(TRANSIENT_CD),))


def symbol_set(heads: Iterable[OMSymbol]) -> OMApplication:
    """The answer of ``get_allowed_heads``."""
    return OMApplication(OMSymbol(SCSCP2, "symbol_set"), tuple(heads))


def signature(head: OMSymbol, min_args: int, max_args: int | None) -> OMApplication:
    """The answer of ``get_signature``: arity, any argument type."""
    most = OMSymbol("nums1", "infinity") if max_args is None else OMInteger(max_args)
    return OMApplication(
        OMSymbol(SCSCP2, "signature"),
        (head, OMInteger(min_args), most, OMSymbol(SCSCP2, "symbol_set_all")),
    )


def service_description(name: str, version: str, text: str) -> OMApplication:
    """The answer of ``get_service_description``."""
    return OMApplication(
        OMSymbol(SCSCP2, "service_description"),
        (OMString(name), OMString(version), OMString(text)),
    )


def meta_cd(heads: Iterable[OMSymbol], descriptions: Mapping[str, str]) -> OMApplication:
    """The answer of ``get_transient_cd``: ``meta.CD(CDName, ..., CDDefinition...)``."""

    def element(tag: str, *content: OMApplication | OMString) -> OMApplication:
        return OMApplication(OMSymbol(META, tag), content)

    definitions = [
        element(
            "CDDefinition",
            element("Name", OMString(head.name)),
            element("Description", OMString(descriptions.get(head.name, ""))),
        )
        for head in heads
        if head.cd == TRANSIENT_CD
    ]
    return element(
        "CD",
        element("CDName", OMString(TRANSIENT_CD)),
        element("CDStatus", OMString("private")),
        element("Description", OMString("Procedures offered by this SCSCP service")),
        *definitions,
    )


def completed(call: ProcedureCall, result: object) -> ProcedureCompleted:
    """A reply carrying ``result``, or nothing when the call asked for nothing."""
    if call.return_mode is ReturnMode.NOTHING:
        return ProcedureCompleted(call.call_id)
    return ProcedureCompleted(call.call_id, result)  # type: ignore[arg-type]


def unexpected(call: ProcedureCall) -> ProcedureTerminated:
    """The error GAP gives for a procedure it does not know."""
    return ProcedureTerminated(call.call_id, OMError(UNEXPECTED_SYMBOL, (call.procedure,)))
