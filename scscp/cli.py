"""``scscp call`` and ``scscp map``: call procedures on an SCSCP server from the shell.

``call`` makes one call with all the arguments; ``map`` makes one call per
argument, many at a time, and prints a line per argument (the number of
groups of every order in a range, say: ``scscp map Gnu $(seq 1 2000)``).

Arguments are read as integers, then JSON (lists, strings in quotes,
true/false), and otherwise taken as strings. The result is printed as JSON
when it is a plain value, else as its OpenMath form.
"""

from __future__ import annotations

import argparse
import json
import sys
from fractions import Fraction
from typing import Any

from scscp.client import BlockingClient
from scscp.endpoint import parse_endpoint
from scscp.errors import ProcedureError, SCSCPError
from scscp.openmath import encode, from_python


def parse_argument(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return json.loads(text)
    except ValueError:
        return text


def render(value: Any) -> str:
    if isinstance(value, (Fraction, bytes)):
        return str(value)
    try:
        return json.dumps(value, default=_not_json)
    except TypeError:
        return repr(value)


def _not_json(value: Any) -> Any:
    if isinstance(value, Fraction):
        return str(value)
    raise TypeError


def main(argv: list[str] | None = None) -> int:
    sys.set_int_max_str_digits(0)  # group orders and results may be huge integers
    parser = argparse.ArgumentParser(
        prog="scscp", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    call = commands.add_parser("call", help="call a procedure and print its result")
    each = commands.add_parser("map", help="call a procedure once per argument")
    each.add_argument(
        "--concurrency", type=int, default=16, metavar="N", help="calls in flight (default 16)"
    )
    for command in (call, each):
        command.add_argument("--server", default="127.0.0.1:26133", metavar="HOST:PORT")
        command.add_argument("--timeout", type=float, default=10.0, help="seconds to connect")
        command.add_argument(
            "--runtime",
            type=int,
            metavar="MS",
            help="ask the server to stop each computation after MS milliseconds",
        )
        command.add_argument("procedure")
        command.add_argument("args", nargs="*", metavar="ARG")
    args = parser.parse_args(argv)
    try:
        server = parse_endpoint(args.server)
        values = [from_python(parse_argument(a)) for a in args.args]
        for value in values:
            encode(value)  # refuse what cannot be sent before connecting
        if args.command == "map" and args.concurrency < 1:
            raise ValueError("--concurrency must be at least 1")
    except (ValueError, TypeError) as exc:  # OpenMathError is a ValueError
        print(f"scscp: {exc}", file=sys.stderr)
        return 2
    try:
        with BlockingClient(server.host, server.port, timeout=args.timeout) as client:
            if args.command == "map":
                results = client.map(
                    args.procedure, values, concurrency=args.concurrency, runtime_ms=args.runtime
                )
            else:
                results = [client.call(args.procedure, *values, runtime_ms=args.runtime)]
    except ProcedureError as exc:
        print(f"scscp: {args.procedure} failed: {_error(exc)}", file=sys.stderr)
        return 1
    except SCSCPError as exc:
        print(f"scscp: {exc}", file=sys.stderr)
        return 2
    if args.command == "call":
        print(render(results[0]))
        return 0
    for text, result in zip(args.args, results, strict=True):
        shown = f"error: {_error(result)}" if isinstance(result, ProcedureError) else render(result)
        print(f"{text}\t{shown}")
    return 1 if any(isinstance(r, ProcedureError) for r in results) else 0


def _error(exc: ProcedureError) -> str:
    return f"{exc.message} ({exc.symbol.cd}.{exc.symbol.name})"


if __name__ == "__main__":
    sys.exit(main())
