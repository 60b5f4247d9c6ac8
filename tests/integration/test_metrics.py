"""The HTTP side and its metrics, read by a real Prometheus from real gateways.

One Prometheus (the Debian package) runs for the module on a free loopback
port, scraping every second the gateways the tests register with it (file
service discovery) and evaluating a copy of deploy/prometheus/alerts.yml whose
``for:`` durations are cut to a second. Every wait is a condition with a
deadline; nothing asserts how fast anything is, except the p50 the issue asks
for, which has a wide margin (10 ms against about 1.5 ms).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from scscp.client import Client
from scscp.endpoint import Endpoint
from scscp.errors import ProcedureError, SCSCPConnectionError
from scscp.gateway import Gateway
from scscp.gateway.cli import build_parser, load_config
from scscp.gateway.health import HealthPolicy
from scscp.openmath import OMInteger, OMSymbol
from scscp.protocol import TRANSIENT_CD, ProcedureCall, ProcedureTerminated
from tests.conftest import eventually, gateway_config, until

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
GRAFANA_DIR = ROOT / "deploy" / "grafana"
JOB = "scscp-gateway"
INSTALL_HINT = "run `apt-get install prometheus` (`./run tests` installs it)"
# What a Grafana variable stands for when a dashboard's query is sent as it is.
GRAFANA_VALUES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "__range_s": "3600",
    "backend": "gap",
    "job": JOB,
    "instance": "127.0.0.1:8080",
}
GRAFANA_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]|\$(\w+)")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; {INSTALL_HINT}")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclasses.dataclass
class Prometheus:
    """A running Prometheus: its URL, and the targets file it watches."""

    url: str
    targets_file: Path
    targets: dict[str, str] = dataclasses.field(default_factory=dict)

    def scrape(self, gateway: Gateway) -> str:
        """Have Prometheus scrape ``gateway``'s /metrics; returns its instance label."""
        instance = f"127.0.0.1:{gateway.http_port}"
        self.targets[instance] = instance
        groups = [{"targets": [t], "labels": {}} for t in self.targets]
        tmp = self.targets_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(groups))
        tmp.replace(self.targets_file)  # atomically, so Prometheus never reads half a file
        return instance

    async def api(self, path: str, **params: str) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.url}{path}", params=params) as response,
        ):
            body = await response.json()
        return body  # type: ignore[no-any-return]

    async def query(self, expr: str) -> dict[str, Any]:
        return await self.api("/api/v1/query", query=expr)

    async def value(self, expr: str) -> float | None:
        """The value of a one-element instant vector, None if there is none (yet)."""
        body = await self.query(expr)
        assert body["status"] == "success", body
        result = body["data"]["result"]
        return float(result[0]["value"][1]) if result else None


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """A real Prometheus on a free loopback port, with the project's alert rules (fast)."""
    binary = _tool("prometheus")
    home = tmp_path_factory.mktemp("prometheus")
    rules = (PROMETHEUS_DIR / "alerts.yml").read_text()
    (home / "alerts.yml").write_text(re.sub(r"(?m)^(\s+for:).*$", r"\1 1s", rules))
    targets = home / "targets.json"
    targets.write_text("[]")
    (home / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 1s}\n"
        "rule_files: [alerts.yml]\n"
        "scrape_configs:\n"
        f"  - job_name: {JOB}\n"
        f"    file_sd_configs: [{{files: ['{targets}'], refresh_interval: 1s}}]\n"
    )
    log_path = home / "prometheus.log"
    for _ in range(3):  # the port may be taken between choosing and binding it
        port = _free_port()
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={home / 'prometheus.yml'}",
                    f"--storage.tsdb.path={home / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        if _started(proc, url):
            break
        proc.kill()
        proc.wait()
    else:
        pytest.fail("Prometheus did not start:\n" + log_path.read_text()[-3000:])
    try:
        yield Prometheus(url, targets)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _started(proc: subprocess.Popen[bytes], url: str) -> bool:
    """Whether Prometheus came up (blocking: the fixture runs outside the event loop)."""
    until(lambda: proc.poll() is not None or _answers_ready(url), timeout=60)
    return proc.poll() is None and _answers_ready(url)


def _answers_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError):
        return False


async def _get(gateway: Gateway, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{gateway.http_port}{path}") as response,
    ):
        return response.status, await response.text()


async def _samples(gateway: Gateway) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The gateway's /metrics as {(sample name, labels): value}."""
    status, text = await _get(gateway, "/metrics")
    assert status == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _total(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


@pytest.fixture
async def probed_gateway(gap: str) -> AsyncIterator[Gateway]:
    """Two GAP workers, an HTTP side on a free port, idle workers probed every 0.2 s."""
    config = gateway_config(gap, workers=2)
    config = dataclasses.replace(
        config,
        http=Endpoint("127.0.0.1", 0),
        pool=dataclasses.replace(config.pool, health=HealthPolicy(probe_interval=0.2)),
    )
    gw = Gateway(config)
    await gw.start()
    try:
        yield gw
    finally:
        await gw.close()


async def test_prometheus_sees_calls_outcomes_latency_and_workers(
    probed_gateway: Gateway, prometheus: Prometheus
) -> None:
    gw = probed_gateway
    instance = prometheus.scrape(gw)
    async with await Client.connect("127.0.0.1", gw.port) as client:
        for n in range(1, 101):
            await client.call("Gnu", n)
        for _ in range(10):
            with pytest.raises(ProcedureError):
                await client.call("Gnu", 0)
        with pytest.raises(ProcedureError):
            await client.call("NotOffered", 1)  # refused by the allow-list: label "other"

    sel = f'instance="{instance}",procedure="Gnu"'
    for outcome, count in (("completed", 100), ("error", 10)):
        expr = f'scscp_calls_total{{{sel},outcome="{outcome}"}}'

        async def seen(expr: str = expr, count: int = count) -> bool:
            return await prometheus.value(expr) == count

        await eventually(seen, timeout=30, what=f"Prometheus reports {count} {outcome} Gnu calls")
    rejected = f'scscp_calls_total{{instance="{instance}",procedure="other",outcome="rejected"}}'
    await eventually(
        lambda: _equals(prometheus, rejected, 1), timeout=30, what="the refused call as other"
    )
    p50 = await prometheus.value(
        f"histogram_quantile(0.5, sum by (le) (scscp_call_duration_seconds_bucket{{{sel}}}))"
    )
    assert p50 is not None and p50 < 0.010, f"p50 of Gnu through the gateway: {p50} s"

    # The probes run (every 0.2 s) and are not client calls.
    probes = f'sum(scscp_health_probes_total{{instance="{instance}",result="ok"}})'
    await eventually(
        lambda: _above(prometheus, probes, 0), timeout=30, what="health probes counted"
    )
    calls = await prometheus.value(f'sum(scscp_calls_total{{instance="{instance}"}})')
    assert calls == 111, "the health probes must not be counted as calls"
    samples = await _samples(gw)
    assert _total(samples, "scscp_health_probes_total", result="ok") > 0
    assert _total(samples, "scscp_calls_total") == 111
    assert {dict(ls)["procedure"] for (n, ls) in samples if n == "scscp_calls_total"} >= {
        "Gnu",
        "other",
    }
    assert _total(samples, "scscp_client_connections_accepted_total") == 1
    assert _total(samples, "scscp_client_received_bytes_total") > 0
    assert _total(samples, "scscp_client_sent_bytes_total") > 0

    # Worker gauges match the pool: two up (idle, or busy with a probe), none else.
    up = f'sum(scscp_workers{{instance="{instance}",state=~"ready|busy"}})'
    await eventually(lambda: _equals(prometheus, up, gw.pool.ready), timeout=30, what="workers up")
    assert gw.pool.ready == 2
    for state in ("starting", "ejected"):
        assert (
            await prometheus.value(f'scscp_workers{{instance="{instance}",state="{state}"}}') == 0
        )
    assert (
        await prometheus.value(
            f'scscp_worker_starts_total{{instance="{instance}",reason="initial"}}'
        )
        == 2
    )
    assert (
        await prometheus.value(f'scscp_autoscaler_desired_replicas{{instance="{instance}"}}') == 2
    )
    assert await prometheus.value(f'scscp_queue_length{{instance="{instance}"}}') == 0

    status, body = await _get(gw, "/status")
    assert status == 200
    pool = json.loads(body)["backends"]["gap"]
    assert len(pool["workers"]) == 2
    assert sum(w["calls_served"] for w in pool["workers"]) >= 110
    assert {w["state"] for w in pool["workers"]} <= {"ready", "busy"}
    assert await _get(gw, "/healthz") == (200, "ok\n")


async def _equals(prometheus: Prometheus, expr: str, wanted: float) -> bool:
    return await prometheus.value(expr) == wanted


async def _above(prometheus: Prometheus, expr: str, floor: float) -> bool:
    value = await prometheus.value(expr)
    return value is not None and value > floor


async def test_readyz_and_the_no_ready_worker_alert(
    gap: str, tmp_path: Path, prometheus: Prometheus
) -> None:
    """GAP vanishes and the worker is killed: /readyz says 503 and the alert fires."""
    gap_link = tmp_path / "gap"
    gap_link.symlink_to(gap)
    config = dataclasses.replace(
        gateway_config(str(gap_link), workers=1), http=Endpoint("127.0.0.1", 0)
    )
    gw = Gateway(config)
    await gw.start()
    try:
        instance = prometheus.scrape(gw)
        assert (await _get(gw, "/readyz"))[0] == 200
        await eventually(
            lambda: _equals(prometheus, f'up{{instance="{instance}"}}', 1),
            timeout=30,
            what="Prometheus scrapes the gateway",
        )
        gap_link.unlink()  # no new worker can start
        _, body = await _get(gw, "/status")
        (worker,) = json.loads(body)["backends"]["gap"]["workers"]
        pid = int(re.fullmatch(r"gap\[(\d+)\]@.*", worker["name"]).group(1))  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)

        async def not_ready() -> bool:
            return (await _get(gw, "/readyz"))[0] == 503

        await eventually(not_ready, timeout=30, what="/readyz fails without a worker")
        async with await Client.connect("127.0.0.1", gw.port) as client:
            with pytest.raises(ProcedureError, match="no worker is available"):
                await client.call("Gnu", 8)  # refused once the starts keep failing
        samples = await _samples(gw)
        assert _total(samples, "scscp_calls_total", procedure="Gnu", outcome="rejected") == 1
        assert _total(samples, "scscp_worker_exits_total", reason="died") == 1
        assert _total(samples, "scscp_worker_start_failures_total") >= 3  # gave up after three

        firing = (
            f'ALERTS{{alertname="ScscpNoReadyWorker",alertstate="firing",instance="{instance}"}}'
        )
        await eventually(
            lambda: _equals(prometheus, firing, 1), timeout=60, what="ScscpNoReadyWorker fires"
        )
        alerts = (await prometheus.api("/api/v1/alerts"))["data"]["alerts"]
        assert any(
            a["labels"]["alertname"] == "ScscpNoReadyWorker"
            and a["labels"].get("instance") == instance
            and a["state"] == "firing"
            for a in alerts
        )

        gap_link.symlink_to(gap)  # GAP is back: the pool recovers, /readyz passes

        async def ready() -> bool:
            return (await _get(gw, "/readyz"))[0] == 200

        await eventually(ready, timeout=90, what="/readyz passes once a worker is back")
        samples = await _samples(gw)
        assert _total(samples, "scscp_worker_starts_total", reason="replace") == 1
    finally:
        await gw.close()


def _grafana_exprs() -> list[tuple[str, str]]:
    """Every "expr" in the JSON dashboards under deploy/grafana/, with where it is."""
    found: list[tuple[str, str]] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "expr" and isinstance(value, str) and value.strip():
                    found.append((where, value))
                else:
                    walk(value, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for path in sorted(GRAFANA_DIR.rglob("*.json")) if GRAFANA_DIR.is_dir() else ():
        walk(json.loads(path.read_text()), str(path.relative_to(ROOT)))
    return found


def _substitute(expr: str) -> str:
    """A dashboard query with its Grafana variables replaced by plausible values."""

    def value(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        return GRAFANA_VALUES.get(name, ".*")

    return GRAFANA_VARIABLE.sub(value, expr)


async def test_every_alert_and_dashboard_query_runs(prometheus: Prometheus) -> None:
    """Each PromQL expression we ship parses and evaluates in a real Prometheus."""
    groups = (await prometheus.api("/api/v1/rules"))["data"]["groups"]
    rules = [(f"alerts.yml {r['name']}", r["query"]) for g in groups for r in g["rules"]]
    shipped = len(re.findall(r"(?m)^\s+- alert:", (PROMETHEUS_DIR / "alerts.yml").read_text()))
    assert len(rules) == shipped >= 6, "Prometheus did not load every rule of alerts.yml"
    dashboards = _grafana_exprs()
    if GRAFANA_DIR.is_dir() and any(GRAFANA_DIR.rglob("*.json")):
        assert dashboards, f'no "expr" found in the dashboards under {GRAFANA_DIR}'
    failures = []
    for where, expr in [*rules, *dashboards]:
        body = await prometheus.query(_substitute(expr))
        if body.get("status") != "success":
            failures.append(f"{where}: {expr}\n  -> {body.get('error')}")
    assert not failures, "queries Prometheus refuses:\n" + "\n".join(failures)


@pytest.mark.parametrize(
    ("command", "file"),
    [("rules", "alerts.yml"), ("config", "prometheus.yml")],
)
def test_promtool_accepts_the_shipped_files(command: str, file: str) -> None:
    done = subprocess.run(
        [_tool("promtool"), "check", command, str(PROMETHEUS_DIR / file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_unknown_grafana_variables_still_make_a_query() -> None:
    assert _substitute('rate(x{backend="$backend"}[$__rate_interval])') == (
        'rate(x{backend="gap"}[1m])'
    )
    assert _substitute('x{a=~"${thing:regex}"}') == 'x{a=~".*"}'


async def test_timeouts_and_terminated_calls_have_their_outcomes(gap: str) -> None:
    """Runtime limit: timeout; terminate and a client that leaves: cancelled."""
    config = dataclasses.replace(
        gateway_config(gap, workers=1, busy=True), http=Endpoint("127.0.0.1", 0)
    )
    gw = Gateway(config)
    await gw.start()
    try:
        async with await Client.connect("127.0.0.1", gw.port) as client:
            with pytest.raises(ProcedureError) as caught:
                await client.call("Busy", 30, runtime_ms=100)
            assert caught.value.symbol.name == "error_runtime"
            await eventually(lambda: gw.pool.idle == 1, timeout=30, what="the worker back")
            call = ProcedureCall("spin", OMSymbol(TRANSIENT_CD, "Busy"), (OMInteger(30),))
            pending = asyncio.create_task(client.request(call))
            await eventually(lambda: gw.pool.running == 1, timeout=30, what="Busy on a worker")
            client.terminate("spin")
            assert isinstance(await pending, ProcedureTerminated)
        await eventually(lambda: gw.pool.idle == 1, timeout=30, what="the worker back")
        leaver = await Client.connect("127.0.0.1", gw.port)
        left = asyncio.create_task(leaver.call("Busy", 30))
        await eventually(lambda: gw.pool.running == 1, timeout=30, what="Busy on a worker")
        await leaver.close()
        with pytest.raises(SCSCPConnectionError):
            await left

        async def counted() -> bool:
            samples = await _samples(gw)
            return (
                _total(samples, "scscp_calls_total", procedure="Busy", outcome="timeout") == 1
                and _total(samples, "scscp_calls_total", procedure="Busy", outcome="cancelled") == 2
            )

        await eventually(counted, timeout=30, what="one timeout and two cancelled Busy calls")
        samples = await _samples(gw)
        assert _total(samples, "scscp_calls_total", outcome="completed") == 0
        assert _total(samples, "scscp_call_duration_seconds_count", procedure="Busy") == 3
    finally:
        await gw.close()


@pytest.mark.parametrize(
    ("flags", "toml", "wanted"),
    [
        ([], "", Endpoint("127.0.0.1", 8080)),
        (["--http", "127.0.0.1:9100"], "", Endpoint("127.0.0.1", 9100)),
        (["--http", "off"], "", None),
        ([], 'http = "0.0.0.0:9200"\n', Endpoint("0.0.0.0", 9200)),
        (["--http", ":0"], 'http = "0.0.0.0:9200"\n', Endpoint("127.0.0.1", 0)),
    ],
)
def test_serve_takes_the_http_address_from_flag_file_or_default(
    tmp_path: Path, flags: list[str], toml: str, wanted: Endpoint | None
) -> None:
    config_file = tmp_path / "gateway.toml"
    config_file.write_text(toml)
    args = build_parser().parse_args(["serve", "--config", str(config_file), *flags])
    assert load_config(args).http == wanted
