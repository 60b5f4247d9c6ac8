"""SCSCP framing: processing instructions and transaction blocks, as bytes.

Writing follows GAP's line-based reader to the letter: every instruction
stands alone on its line, with single spaces and one space before ``?>``.
Reading is tolerant of spacing, of missing newlines and of chunking: a
``Deframer`` accepts bytes in any pieces and yields whole units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scscp.protocol.errors import ProtocolError

PI_OPEN = b"<?scscp"
PI_CLOSE = b"?>"
MAX_PI_SIZE = 4094  # SCSCP 1.3 §3: an instruction is at most 4094 bytes long

_TOKEN = re.compile(rb'\s*([A-Za-z_][\w.-]*)(?:\s*=\s*"([^"]*)")?')
_UNESCAPE = (("&quot;", '"'), ("&apos;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_ESCAPE = (("&", "&amp;"), ('"', "&quot;"), ("<", "&lt;"), (">", "&gt;"))


@dataclass(frozen=True, slots=True)
class Instruction:
    """A parsed ``<?scscp ... ?>``: an optional bare keyword and attributes."""

    keyword: str | None
    attrs: dict[str, str]


@dataclass(frozen=True, slots=True)
class Block:
    """The payload between ``<?scscp start ?>`` and ``<?scscp end ?>``."""

    payload: bytes


def format_pi(keyword: str | None = None, **attrs: str) -> bytes:
    """``<?scscp keyword a="v" ... ?>`` plus newline, attributes in given order."""
    parts = ["<?scscp"]
    if keyword:
        parts.append(keyword)
    for key, value in attrs.items():
        for raw, escaped in _ESCAPE:
            value = value.replace(raw, escaped)
        parts.append(f'{key}="{value}"')
    parts.append("?>\n")
    return " ".join(parts).encode()


START = format_pi("start")
END = format_pi("end")


def frame(payload: bytes) -> bytes:
    """One transaction block, as a single bytes object (one write, one segment)."""
    return b"".join((START, payload, b"\n", END))


def parse_pi(body: bytes) -> Instruction:
    """Parse the text between ``<?scscp`` and ``?>``."""
    keyword: str | None = None
    attrs: dict[str, str] = {}
    pos, size = 0, len(body)
    while pos < size:
        if body[pos:].strip() == b"":
            break
        match = _TOKEN.match(body, pos)
        if match is None:
            raise ProtocolError(f"malformed SCSCP instruction: {body[:80]!r}")
        name = match.group(1).decode()
        value = match.group(2)
        if value is None:
            if keyword is None and not attrs:
                keyword = name
            # A bare word after attributes is a peer's extension: ignore it.
        else:
            text = value.decode("utf-8", errors="replace")
            for escaped, raw in _UNESCAPE:
                text = text.replace(escaped, raw)
            attrs[name] = text
        pos = match.end()
    return Instruction(keyword, attrs)


def _check_pi_size(size: int) -> None:
    # A complete instruction must obey the limit too, not only one still being buffered,
    # or the outcome would depend on how the bytes happened to be segmented.
    if size > MAX_PI_SIZE:
        raise ProtocolError(f"an SCSCP instruction is longer than {MAX_PI_SIZE} bytes")


class Deframer:
    """Turns a byte stream into Instructions and Blocks.

    ``feed`` returns the units completed by the new bytes. Inside a block the
    scanned bytes move to the payload at once, so a large message delivered
    in small segments costs linear time. Non-blank bytes outside a block are
    a protocol error.
    """

    def __init__(self, max_block_size: int) -> None:
        self._buffer = bytearray()
        self._max_block = max_block_size
        self._in_block = False
        self._payload = bytearray()

    def feed(self, data: bytes) -> list[Instruction | Block]:
        self._buffer += data
        units: list[Instruction | Block] = []
        while True:
            unit = self._block_step() if self._in_block else self._outside_step()
            if unit is None:
                return units
            if isinstance(unit, (Instruction, Block)):
                units.append(unit)

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete unit."""
        return len(self._buffer) + len(self._payload)

    def _outside_step(self) -> Instruction | Block | bool | None:
        buf = self._buffer
        stripped = buf.lstrip()
        if len(stripped) != len(buf):
            del buf[: len(buf) - len(stripped)]
        if not buf:
            return None
        if not PI_OPEN.startswith(bytes(buf[: len(PI_OPEN)])):
            raise ProtocolError(f"expected an SCSCP instruction, got {bytes(buf[:40])!r}")
        close = buf.find(PI_CLOSE, len(PI_OPEN))
        if close < 0:
            if len(buf) > MAX_PI_SIZE:
                raise ProtocolError(f"an SCSCP instruction is longer than {MAX_PI_SIZE} bytes")
            return None
        _check_pi_size(close + len(PI_CLOSE))
        pi = parse_pi(bytes(buf[len(PI_OPEN) : close]))
        del buf[: close + len(PI_CLOSE)]
        if pi.keyword == "start":
            self._in_block = True
            return True
        if pi.keyword in ("end", "cancel"):
            return True  # stray end/cancel outside a block: nothing to end
        return pi

    def _block_step(self) -> Instruction | Block | bool | None:
        buf = self._buffer
        pos = buf.find(PI_OPEN)
        if pos < 0:
            # Keep a tail that may be the start of "<?scscp"; move the rest out.
            keep = len(PI_OPEN) - 1
            if len(buf) > keep:
                self._payload += buf[: len(buf) - keep]
                del buf[: len(buf) - keep]
            self._check_size()
            return None
        close = buf.find(PI_CLOSE, pos + len(PI_OPEN))
        if close < 0:
            self._payload += buf[:pos]
            del buf[:pos]
            self._check_size()
            if len(buf) > MAX_PI_SIZE:
                raise ProtocolError(f"an SCSCP instruction is longer than {MAX_PI_SIZE} bytes")
            return None
        _check_pi_size(close + len(PI_CLOSE) - pos)
        pi = parse_pi(bytes(buf[pos + len(PI_OPEN) : close]))
        self._payload += buf[:pos]
        del buf[: close + len(PI_CLOSE)]
        self._check_size()
        if pi.keyword == "end":
            block = Block(bytes(self._payload))
            self._end_block()
            return block
        if pi.keyword == "cancel":
            self._end_block()
            return True
        if pi.keyword == "quit":
            self._end_block()
            return pi
        return True  # other instructions inside a block (ack, info) are dropped

    def _end_block(self) -> None:
        self._in_block = False
        self._payload = bytearray()

    def _check_size(self) -> None:
        if len(self._payload) > self._max_block:
            raise ProtocolError(f"a message is larger than the limit of {self._max_block} bytes")
