"""The deployment files: valid for the real tools, and consistent with the project.

Compose: `docker-compose config` (Debian's docker-compose) and the compose-spec
JSON schema (vendored in check-jsonschema). Swarm: `docker stack config` (the
docker CLI, 25 or later). Kubernetes: the Kubernetes JSON schemas offline
(kubernetes-validate, strict: unknown fields fail); KEDA's ScaledObject has
no schema there, so its structure is checked here. Then what the files say
is checked against the project: images, ports, metric names, the gateway's
configuration as the gateway itself reads it.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from scscp.endpoint import DEFAULT_PORT
from scscp.gateway.config import DEFAULT_HTTP, GatewayConfig

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
STACK = DEPLOY / "swarm" / "stack.yaml"
KUBERNETES = DEPLOY / "kubernetes"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "scscp-gateway.json"
IMAGES = {"scscp/gateway", "scscp/gap-minimal", "scscp/gap-full"}
WORKER_IMAGES = {"scscp/gap-minimal", "scscp/gap-full"}
METRICS = {
    "scscp_calls_total", "scscp_call_duration_seconds", "scscp_queue_wait_seconds",
    "scscp_queue_length", "scscp_inflight_calls", "scscp_workers", "scscp_worker_starts_total",
    "scscp_worker_exits_total", "scscp_health_probes_total",
    "scscp_autoscaler_desired_replicas", "scscp_autoscaler_current_replicas",
    "scscp_autoscaler_max_replicas", "scscp_autoscaler_min_replicas",
    "scscp_client_connections", "scscp_client_connections_accepted_total",
    "scscp_client_received_bytes_total", "scscp_client_sent_bytes_total",
    "scscp_event_loop_lag_seconds",
}  # fmt: skip
HISTOGRAMS = {"scscp_call_duration_seconds", "scscp_queue_wait_seconds"}


def tool(name: str, install: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: {install}")
    return path


def run(*command: str, cwd: Path = DEPLOY) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def manifests() -> list[dict[str, Any]]:
    documents = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return documents


def kind(name: str) -> list[dict[str, Any]]:
    return [d for d in manifests() if d["kind"] == name]


def named(kind_name: str, name: str) -> dict[str, Any]:
    found = [d for d in kind(kind_name) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind_name} {name}, found {len(found)}"
    return found[0]


def metric_names(text: str) -> set[str]:
    """Every scscp_* metric a text refers to, histogram series under their family name."""
    names = set()
    for name in re.findall(r"\bscscp_[a-z_]+\b", text):
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        names.add(family if family in HISTOGRAMS else name)
    return names


# --- Compose -----------------------------------------------------------------


def test_compose_file_is_valid_for_docker_compose() -> None:
    compose = tool("docker-compose", "apt-get install docker-compose")
    run(compose, "-f", str(COMPOSE), "config", "-q")


def test_compose_file_is_valid_for_the_compose_specification() -> None:
    import jsonschema

    vendored = importlib.resources.files("check_jsonschema") / "builtin_schemas/vendor"
    schema = json.loads((vendored / "compose-spec.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(load(COMPOSE))]
    assert not errors, errors


def test_compose_runs_everything_on_loopback_with_the_projects_images() -> None:
    services = load(COMPOSE)["services"]
    assert all(s.get("network_mode") == "host" for s in services.values())
    gateway = services["gateway"]
    assert gateway["image"] in IMAGES
    flags = dict(zip(gateway["command"][::2], gateway["command"][1::2], strict=True))
    assert flags["--provider"] == "docker" and flags["--image"] in WORKER_IMAGES
    assert flags["--listen"] == f"127.0.0.1:{DEFAULT_PORT}"
    assert flags["--http"] == str(DEFAULT_HTTP)
    assert "/var/run/docker.sock:/var/run/docker.sock" in gateway["volumes"]
    assert "http://127.0.0.1:8080/healthz" in " ".join(gateway["healthcheck"]["test"])
    assert "--web.listen-address=127.0.0.1:9090" in services["prometheus"]["command"]
    assert services["grafana"]["environment"]["GF_SERVER_HTTP_ADDR"] == "127.0.0.1"
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"compose mounts {source}, which is missing"


# --- Swarm -------------------------------------------------------------------


def test_stack_file_is_valid_for_docker_stack() -> None:
    docker = tool("docker", "the docker CLI 25 or later (`docker stack config`)")
    probe = subprocess.run([docker, "stack", "config", "--help"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.fail(f"{docker} has no `docker stack config`: it needs the docker CLI 25 or later")
    out = run(docker, "stack", "config", "-c", str(STACK))
    resolved = yaml.safe_load(out)
    for service in resolved["services"].values():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind" and not volume["source"].startswith("/var/run"):
                assert Path(volume["source"]).exists(), f"stack mounts {volume['source']}, missing"


def test_stack_uses_host_networking_and_the_swarm_provider() -> None:
    stack = load(STACK)
    assert stack["networks"]["hostnet"] == {"external": True, "name": "host"}
    services = stack["services"]
    assert all(s["networks"] == ["hostnet"] for s in services.values())
    gateway = services["gateway"]
    flags = dict(zip(gateway["command"][::2], gateway["command"][1::2], strict=True))
    assert gateway["image"] in IMAGES and flags["--image"] in WORKER_IMAGES
    assert flags["--provider"] == "swarm"
    assert flags["--listen"] == f"127.0.0.1:{DEFAULT_PORT}" and flags["--http"] == str(DEFAULT_HTTP)
    assert "node.role == manager" in gateway["deploy"]["placement"]["constraints"]


# --- Kubernetes --------------------------------------------------------------


def test_kubernetes_manifests_are_valid_against_the_kubernetes_schemas() -> None:
    import kubernetes_validate
    import kubernetes_validate.utils

    version = kubernetes_validate.utils.latest_version()  # the newest schemas it ships
    checked = 0
    for document in manifests():
        if document["apiVersion"].startswith("keda.sh/"):
            continue  # a CRD: checked below
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{document['kind']} {document['metadata']['name']}: {exc.message}")
        checked += 1
    assert checked >= 8


def test_the_gateway_reads_its_configmap_and_finds_the_workers_service() -> None:
    toml = named("ConfigMap", "scscp-gateway")["data"]["gateway.toml"]
    import tomllib

    config = GatewayConfig.from_dict(tomllib.loads(toml)).validate()
    assert config.pool.provider == "dns"
    service = named("Service", "gap-workers")
    assert service["spec"]["clusterIP"] == "None"  # headless: DNS names every pod
    namespace = service["metadata"]["namespace"]
    assert config.dns.name == f"gap-workers.{namespace}.svc.cluster.local"
    assert config.dns.port == DEFAULT_PORT == service["spec"]["ports"][0]["port"]
    assert config.http is not None and config.http.port == DEFAULT_HTTP.port
    assert config.listen.port == DEFAULT_PORT
    scaled = named("ScaledObject", "gap-workers")["spec"]
    low, high = config.pool.bounds
    assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == (low, high)


def test_workers_run_the_worker_image_with_limits_and_probes_that_never_connect() -> None:
    deployment = named("Deployment", "gap-workers")
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["image"] in WORKER_IMAGES
    env = {e["name"]: e for e in container["env"]}
    assert env["SCSCP_PORT"]["value"] == str(DEFAULT_PORT)
    assert container["ports"][0]["containerPort"] == DEFAULT_PORT
    limits = container["resources"]["limits"]
    assert {"cpu", "memory"} <= limits.keys()
    assert limits["memory"] == "1Gi" and env["GAP_MEMORY"]["value"] == f"{(1024 - 160) * 1024}k"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"] == ["/opt/scscp/bin/healthy"], probe
        assert "tcpSocket" not in container[probe] and "httpGet" not in container[probe]
    service = named("Service", "gap-workers")
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()


def test_gateway_deployment_and_service_match_its_ports_and_probes() -> None:
    deployment = named("Deployment", "scscp-gateway")
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == (
        "Recreate"
    )
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["image"] == "scscp/gateway"
    assert container["args"] == ["--config", "/etc/scscp/gateway.toml"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"scscp": DEFAULT_PORT, "http": DEFAULT_HTTP.port}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(DEFAULT_HTTP.port)
    assert container["resources"]["limits"].keys() >= {"cpu", "memory"}
    service = named("Service", "scscp-gateway")
    assert {p["port"] for p in service["spec"]["ports"]} == {DEFAULT_PORT, DEFAULT_HTTP.port}
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()


def test_only_the_gateway_reaches_the_workers() -> None:
    policy = named("NetworkPolicy", "gap-workers")["spec"]
    workers = named("Deployment", "gap-workers")["spec"]["template"]["metadata"]["labels"]
    gateway = named("Deployment", "scscp-gateway")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= workers.items()
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"} and policy["egress"] == []
    (rule,) = policy["ingress"]
    (source,) = rule["from"]
    assert set(source) == {"podSelector"}  # no namespaceSelector: this namespace only
    assert source["podSelector"]["matchLabels"].items() <= gateway.items()
    assert not source["podSelector"]["matchLabels"].items() <= workers.items()
    assert rule["ports"] == [{"protocol": "TCP", "port": DEFAULT_PORT}]


def test_disruption_budget_covers_the_workers() -> None:
    budget = named("PodDisruptionBudget", "gap-workers")["spec"]
    workers = named("Deployment", "gap-workers")["spec"]["template"]["metadata"]["labels"]
    assert budget["selector"]["matchLabels"].items() <= workers.items()
    assert budget.get("maxUnavailable") == 1


def test_keda_scales_the_workers_on_the_gateways_desired_replicas() -> None:
    (scaled,) = kind("ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    spec = scaled["spec"]
    known = {"scaleTargetRef", "minReplicaCount", "maxReplicaCount", "pollingInterval",
             "cooldownPeriod", "fallback", "advanced", "triggers", "idleReplicaCount"}  # fmt: skip
    assert set(spec) <= known, set(spec) - known
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "gap-workers"
    }  # fmt: skip
    named("Deployment", spec["scaleTargetRef"]["name"])
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    assert all(isinstance(spec[k], int) for k in ("pollingInterval", "cooldownPeriod"))
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "prometheus" and trigger["metricType"] == "AverageValue"
    metadata = trigger["metadata"]
    assert all(isinstance(v, str) for v in metadata.values())  # KEDA's metadata is strings
    assert metric_names(metadata["query"]) == {"scscp_autoscaler_desired_replicas"}
    assert 'backend="gap"' in metadata["query"]
    assert metadata["threshold"] == "1"  # replicas = ceil(desired / 1)
    assert re.fullmatch(r"https?://[a-z0-9.-]+:\d+", metadata["serverAddress"])
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 0


# --- Grafana -----------------------------------------------------------------


def test_dashboard_uses_only_the_gateways_metrics_and_simple_variables() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [
        t["expr"] for p in dashboard["panels"] for t in p.get("targets", []) if "expr" in t
    ]
    assert len(expressions) >= 15
    used: set[str] = set()
    for expr in expressions:
        used |= metric_names(expr)
        variables = set(re.findall(r"\$\{?(\w+)", expr))
        assert variables <= {"__rate_interval", "backend"}, expr
    assert used <= METRICS, used - METRICS
    assert used == METRICS, f"metrics without a panel: {METRICS - used}"
    (variable,) = dashboard["templating"]["list"]
    assert variable["name"] == "backend" and metric_names(variable["definition"]) <= METRICS
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_grafana_provisioning_points_at_prometheus_and_the_dashboard_folder() -> None:
    datasources = load(DEPLOY / "grafana/provisioning/datasources/prometheus.yaml")["datasources"]
    (source,) = datasources
    dashboard = json.loads(DASHBOARD.read_text())
    uids = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p.get("targets", [])}
    assert uids == {source["uid"]} and source["type"] == "prometheus"
    assert source["url"] == "http://127.0.0.1:9090"  # compose's and the stack's Prometheus
    (provider,) = load(DEPLOY / "grafana/provisioning/dashboards/scscp.yaml")["providers"]
    mounts = load(COMPOSE)["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts


def test_prometheus_configuration_the_files_mount_is_there() -> None:
    """deploy/prometheus/ is mounted at /etc/prometheus by compose and the stack."""
    config = DEPLOY / "prometheus" / "prometheus.yml"
    assert config.is_file(), f"{config} is missing (compose and the stack load it)"
    assert "127.0.0.1:8080" in config.read_text(), "Prometheus must scrape the gateway's :8080"
