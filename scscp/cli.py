"""``scscp call``: call one procedure on an SCSCP server from the shell.

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
    call.add_argument("--server", default="127.0.0.1:26133", metavar="HOST:PORT")
    call.add_argument("--timeout", type=float, default=10.0, help="seconds to connect")
    call.add_argument(
        "--runtime",
        type=int,
        metavar="MS",
        help="ask the server to stop the computation after MS milliseconds",
    )
    call.add_argument("procedure")
    call.add_argument("args", nargs="*", metavar="ARG")
    args = parser.parse_args(argv)
    try:
        server = parse_endpoint(args.server)
        values = [from_python(parse_argument(a)) for a in args.args]
        for value in values:
            encode(value)  # refuse what cannot be sent before connecting
    except (ValueError, TypeError) as exc:  # OpenMathError is a ValueError
        print(f"scscp: {exc}", file=sys.stderr)
        return 2
    try:
        with BlockingClient(server.host, server.port, timeout=args.timeout) as client:
            result = client.call(args.procedure, *values, runtime_ms=args.runtime)
    except ProcedureError as exc:
        print(
            f"scscp: {args.procedure} failed: {exc.message} ({exc.symbol.cd}.{exc.symbol.name})",
            file=sys.stderr,
        )
        return 1
    except SCSCPError as exc:
        print(f"scscp: {exc}", file=sys.stderr)
        return 2
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
