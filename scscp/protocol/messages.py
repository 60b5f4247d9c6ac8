"""SCSCP messages as OpenMath trees (SCSCP 1.3 §5), both ways.

``to_openmath`` writes the shapes GAP writes and reads; ``from_openmath`` is
tolerant of what other peers send, and says precisely what is wrong otherwise.
"""

from __future__ import annotations

from scscp.openmath import (
    OMAny,
    OMApplication,
    OMAttribution,
    OMError,
    OMInteger,
    OMString,
    OMSymbol,
)
from scscp.protocol.events import (
    Attributes,
    BadMessage,
    Message,
    ProcedureCall,
    ProcedureCompleted,
    ProcedureTerminated,
    ReturnMode,
)

SCSCP1 = "scscp1"
PROCEDURE_CALL = OMSymbol(SCSCP1, "procedure_call")
PROCEDURE_COMPLETED = OMSymbol(SCSCP1, "procedure_completed")
PROCEDURE_TERMINATED = OMSymbol(SCSCP1, "procedure_terminated")
CALL_ID = OMSymbol(SCSCP1, "call_id")
EMPTY = OMString("")

_RETURN_MODES = {mode.value: mode for mode in ReturnMode}
_CALL_INTS = {
    "option_runtime": "runtime_ms",
    "option_min_memory": "min_memory",
    "option_max_memory": "max_memory",
    "option_debuglevel": "debuglevel",
}
_REPLY_INFO = {"info_runtime": int, "info_memory": int, "info_message": str}


def to_openmath(message: Message) -> OMAttribution:
    """The OpenMath tree of ``message``."""
    pairs: list[tuple[OMSymbol, OMAny]] = [(CALL_ID, OMString(message.call_id))]
    if isinstance(message, ProcedureCall):
        pairs.append((OMSymbol(SCSCP1, message.return_mode.value), EMPTY))
        for option, attr in _CALL_INTS.items():
            value = getattr(message, attr)
            if value is not None:
                pairs.append((OMSymbol(SCSCP1, option), OMInteger(value)))
        body: OMAny = OMApplication(
            PROCEDURE_CALL, (OMApplication(message.procedure, message.args),)
        )
    else:
        if message.info_runtime is not None:
            pairs.append((OMSymbol(SCSCP1, "info_runtime"), OMInteger(message.info_runtime)))
        if message.info_memory is not None:
            pairs.append((OMSymbol(SCSCP1, "info_memory"), OMInteger(message.info_memory)))
        if message.info_message is not None:
            pairs.append((OMSymbol(SCSCP1, "info_message"), OMString(message.info_message)))
        if isinstance(message, ProcedureCompleted):
            args = () if message.result is None else (message.result,)
            body = OMApplication(PROCEDURE_COMPLETED, args)
        else:
            body = OMApplication(PROCEDURE_TERMINATED, (message.error,))
    pairs.extend(message.extra)
    return OMAttribution(tuple(pairs), body)


def from_openmath(obj: OMAny) -> Message | BadMessage:
    """The message ``obj`` carries, or a BadMessage saying what is wrong."""
    if not isinstance(obj, OMAttribution):
        return BadMessage("an SCSCP message must be an OMATTR carrying a call_id")
    call_id = obj.get(SCSCP1, "call_id")
    if not isinstance(call_id, OMString):
        return BadMessage("the message has no call_id string")
    cid = call_id.value
    body = obj.obj
    if not (isinstance(body, OMApplication) and isinstance(body.head, OMSymbol)):
        return BadMessage("the message body is not an scscp1 application", cid)
    head = body.head
    try:
        if head == PROCEDURE_CALL:
            return _call(cid, obj.pairs, body.args)
        if head == PROCEDURE_COMPLETED:
            return _completed(cid, obj.pairs, body.args)
        if head == PROCEDURE_TERMINATED:
            return _terminated(cid, obj.pairs, body.args)
    except ValueError as exc:
        return BadMessage(str(exc), cid)
    return BadMessage(f"unknown message kind {head.cd}.{head.name}", cid)


def _call(cid: str, pairs: Attributes, args: tuple[OMAny, ...]) -> ProcedureCall:
    if len(args) != 1 or not isinstance(args[0], OMApplication):
        raise ValueError("procedure_call must hold one application of a procedure")
    inner = args[0]
    if not isinstance(inner.head, OMSymbol):
        raise ValueError("the procedure of a procedure_call must be an OMS symbol")
    modes: list[ReturnMode] = []
    ints: dict[str, int] = {}
    extra: list[tuple[OMSymbol, OMAny]] = []
    for key, value in pairs:
        if key.cd != SCSCP1:
            extra.append((key, value))
        elif key.name == "call_id":
            continue
        elif key.name in _RETURN_MODES:
            modes.append(_RETURN_MODES[key.name])
        elif key.name in _CALL_INTS:
            if not isinstance(value, OMInteger) or value.value < 0:
                raise ValueError(f"{key.name} must be a non-negative integer")
            ints[_CALL_INTS[key.name]] = value.value
        else:
            extra.append((key, value))
    if len(set(modes)) > 1:
        raise ValueError("a call may ask for only one of return object, cookie or nothing")
    return ProcedureCall(
        cid,
        inner.head,
        inner.args,
        modes[0] if modes else ReturnMode.OBJECT,
        extra=tuple(extra),
        **ints,
    )


def _reply_info(pairs: Attributes) -> tuple[dict[str, object], Attributes]:
    info: dict[str, object] = {}
    extra: list[tuple[OMSymbol, OMAny]] = []
    for key, value in pairs:
        kind = _REPLY_INFO.get(key.name) if key.cd == SCSCP1 else None
        if key.cd == SCSCP1 and key.name == "call_id":
            continue
        if (kind is int and isinstance(value, OMInteger)) or (
            kind is str and isinstance(value, OMString)
        ):
            info[key.name] = value.value
        else:
            extra.append((key, value))
    return info, tuple(extra)


def _completed(cid: str, pairs: Attributes, args: tuple[OMAny, ...]) -> ProcedureCompleted:
    if len(args) > 1:
        raise ValueError("procedure_completed holds at most one result")
    info, extra = _reply_info(pairs)
    return ProcedureCompleted(cid, args[0] if args else None, extra=extra, **info)  # type: ignore[arg-type]


def _terminated(cid: str, pairs: Attributes, args: tuple[OMAny, ...]) -> ProcedureTerminated:
    if len(args) != 1 or not isinstance(args[0], OMError):
        raise ValueError("procedure_terminated must hold one OME error")
    info, extra = _reply_info(pairs)
    return ProcedureTerminated(cid, args[0], extra=extra, **info)  # type: ignore[arg-type]
