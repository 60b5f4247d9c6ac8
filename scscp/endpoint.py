"""Network addresses as ``HOST:PORT``, shared by the client, CLI and gateway."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PORT = 26133  # IANA's port for SCSCP


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_endpoint(text: str, default_port: int = DEFAULT_PORT) -> Endpoint:
    """``HOST:PORT``, ``HOST`` or ``:PORT``; IPv6 hosts in brackets."""
    host, sep, port = text.rpartition(":")
    if not sep or "]" in port or (":" in host and not host.startswith("[")):
        host, port = text, ""
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port) if port else default_port
    except ValueError:
        raise ValueError(f"not a HOST:PORT address: {text!r}") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"port {number} is out of range in {text!r}")
    return Endpoint(host, number)
