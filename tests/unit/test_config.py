"""The configuration: the example file loads, flags override it, nonsense is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scscp.gateway.cli import build_parser, load_config
from scscp.gateway.config import GatewayConfig, PoolConfig

EXAMPLE = Path(__file__).parents[2] / "deploy" / "gateway.toml"


def test_the_example_file_loads() -> None:
    config = GatewayConfig.from_toml(EXAMPLE).validate()
    assert config.pool.health.probe_interval == 30.0
    assert all(path.is_file() for path in config.gap.scripts)


def test_flags_override_the_file() -> None:
    args = build_parser().parse_args(
        ["serve", "--config", str(EXAMPLE), "--provider", "docker", "--image", "x/y",
         "--min-workers", "0", "--max-workers", "4", "--scale-down-after", "5"]
    )  # fmt: skip
    config = load_config(args)
    assert config.pool.provider == "docker"
    assert config.containers.image == "x/y"
    assert config.pool.bounds == (0, 4) and config.pool.autoscaling
    assert config.pool.scale_down_after == 5.0


@pytest.mark.parametrize(
    ("pool", "bounds", "autoscaling"),
    [
        (PoolConfig(), (2, 2), False),
        (PoolConfig(workers=3), (3, 3), False),
        (PoolConfig(max_workers=4), (2, 4), True),
        (PoolConfig(min_workers=1, max_workers=4), (1, 4), True),
        (PoolConfig(max_workers=1), (1, 1), False),
        (PoolConfig(min_workers=0, max_workers=2), (0, 2), True),
    ],
)
def test_pool_bounds(pool: PoolConfig, bounds: tuple[int, int], autoscaling: bool) -> None:
    assert pool.bounds == bounds
    assert pool.autoscaling is autoscaling


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pool": {"provider": "kubernetes"}}, "pool.provider must be one of"),
        ({"pool": {"min_workers": 3, "max_workers": 2}}, "least <= most"),
        ({"pool": {"workers": 0}}, "least <= most"),
        ({"pool": {"worker": 2}}, "unknown setting(s) in pool: worker"),
        ({"containers": {"imag": "x"}}, "unknown setting(s) in containers: imag"),
    ],
)
def test_nonsense_is_refused_with_a_reason(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        GatewayConfig.from_dict(data).validate()
    assert message in str(excinfo.value)


def test_the_gateway_id_is_stable_and_overridable() -> None:
    assert GatewayConfig().gateway_id == GatewayConfig().gateway_id
    assert GatewayConfig(id="blue").gateway_id == "blue"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[pool]\nworkers = "two"', "pool: workers must be an integer, got 'two'"),
        ("listen = 5", 'listen must be a string "HOST:PORT", got 5'),
        ('max_runtime = "x"', "max_runtime must be a number, got 'x'"),
        ("pool = 3", "pool must be a table ([pool]), got 3"),
        ('allow = "Gnu"', "allow must be a list, got 'Gnu'"),  # not split into letters
        ('[gap]\nservices = "x.g"', "gap: services must be a list, got 'x.g'"),
        ("[pool]\nmemory = 1e9", "memory must be an integer, got 1000000000.0"),
        ("[pool.health]\nprobe_failures = true", "probe_failures must be an integer, got True"),
        ("listen = ", "is not valid TOML"),
        ("allow = [1, 2]", "allow must be a list of strings, got [1, 2]"),
    ],
)
def test_a_wrong_type_in_the_file_is_named_not_a_traceback(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(text + "\n")
    with pytest.raises(ValueError, match=re.escape(says)) as caught:
        GatewayConfig.from_toml(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("max_message_size = 0", "max_message_size must be at least 4096 bytes, got 0"),
        ("max_runtime = nan", "max_runtime must be positive, got nan"),
        ("[pool.health]\nprobe_interval = 0", "pool.health.probe_interval must be positive"),
        ("[pool]\nstart_timeout = -1", "pool.start_timeout must be positive"),
        ("[pool]\nworkers = 100000000000000000000", "at most 1024 workers per gateway"),
        ("[pool]\nmax_workers = 5000", "at most 1024 workers per gateway"),
    ],
)
def test_values_that_cannot_work_are_refused(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(text + "\n")
    with pytest.raises(ValueError, match=re.escape(says)):
        GatewayConfig.from_toml(path).validate()
