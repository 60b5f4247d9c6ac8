"""``scscp-gateway serve``: run the gateway until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import sys
from pathlib import Path

from scscp.endpoint import parse_endpoint
from scscp.gateway.config import DEFAULT_HTTP, PROVIDERS, GatewayConfig
from scscp.gateway.providers.base import WorkerStartError
from scscp.gateway.service import Gateway, GatewayError
from scscp.gateway.worker import WorkerLost

log = logging.getLogger("scscp.gateway")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scscp-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve SCSCP clients from a pool of GAP workers")
    serve.add_argument("--config", type=Path, help="TOML configuration file")
    serve.add_argument("--listen", metavar="HOST:PORT", help="default 127.0.0.1:26133")
    serve.add_argument(
        "--http",
        metavar="HOST:PORT",
        help=f"/metrics, /healthz, /readyz, /status (default {DEFAULT_HTTP}; 'off': none)",
    )
    serve.add_argument("--workers", type=int, metavar="N", help="GAP worker processes (default 2)")
    serve.add_argument("--gap", metavar="PATH", help="the GAP executable (default: gap)")
    serve.add_argument("--provider", choices=PROVIDERS, help="where workers run (default local)")
    serve.add_argument("--image", help="worker image for docker/swarm (scscp/gap-minimal)")
    serve.add_argument("--min-workers", type=int, metavar="N", help="autoscaling floor (0 ok)")
    serve.add_argument("--max-workers", type=int, metavar="N", help="autoscaling ceiling")
    serve.add_argument(
        "--scale-down-after", type=float, metavar="SECONDS", help="low load before a shrink"
    )
    serve.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    return parser


def load_config(args: argparse.Namespace) -> GatewayConfig:
    """The file's settings (or the defaults), then the flags on top."""
    config = GatewayConfig.from_toml(args.config) if args.config else GatewayConfig()
    if args.listen:
        config = dataclasses.replace(config, listen=parse_endpoint(args.listen))
    if args.http == "off":
        config = dataclasses.replace(config, http=None)
    elif args.http:
        config = dataclasses.replace(config, http=parse_endpoint(args.http, DEFAULT_HTTP.port))
    elif config.http is None:
        config = dataclasses.replace(config, http=DEFAULT_HTTP)
    pool = {
        name: value
        for name in ("provider", "workers", "min_workers", "max_workers", "scale_down_after")
        if (value := getattr(args, name)) is not None
    }
    config = dataclasses.replace(config, pool=dataclasses.replace(config.pool, **pool))
    if args.gap:
        config = dataclasses.replace(
            config, gap=dataclasses.replace(config.gap, executable=args.gap)
        )
    if args.image:
        config = dataclasses.replace(
            config, containers=dataclasses.replace(config.containers, image=args.image)
        )
    return config.validate()


async def serve(config: GatewayConfig) -> None:
    try:
        gateway = Gateway(config)
    except ValueError as exc:  # settings only the provider can judge (container memory)
        raise GatewayError(str(exc)) from exc
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    starting = asyncio.ensure_future(gateway.start())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():  # told to stop while workers start: start no more
        log.info("scscp-gateway stopping before it was ready")
        starting.cancel()  # start() closes what it had started
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        return
    stopped.cancel()
    starting.result()  # a failed start raises here
    low, high = config.pool.bounds
    log.info(
        "scscp-gateway ready on %s:%d with %d GAP workers (%s provider%s)",
        gateway.server.host,
        gateway.port,
        gateway.pool.ready,
        config.pool.provider,
        f", autoscaling {low}..{high}" if config.pool.autoscaling else "",
    )
    if gateway.http is not None:
        log.info(
            "metrics and probes on http://%s:%d (/metrics /healthz /readyz /status)",
            gateway.http.endpoint.host,
            gateway.http.port,
        )
    try:
        await stop.wait()
    finally:
        log.info("scscp-gateway stopping")
        await gateway.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load_config(args)
    except (ValueError, OSError) as exc:
        print(f"scscp-gateway: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(config))
    except (GatewayError, WorkerStartError, WorkerLost) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
