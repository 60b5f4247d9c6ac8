"""The flagship service through the real command-line tools and a real gateway."""

from __future__ import annotations

import subprocess
import sys
from math import gcd

import pytest

from scscp.client import Client
from scscp.endpoint import Endpoint
from scscp.errors import ProcedureError


def scscp_call(
    server: Endpoint, *args: str, command: str = "call"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scscp.cli", command, "--server", str(server), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["Gnu", "1024"], "49487367289"),
        (["Gnu", "1536"], "408641062"),
        (["Gnu", "2000"], "963"),
        (["Gnu", "62748517"], "1600573"),  # 13^7, by the p^7 formula
        (["NrSmallGroups", "24"], "15"),
    ],
)
def test_cli_prints_group_counts(gateway_process: Endpoint, args: list[str], expected: str) -> None:
    done = scscp_call(gateway_process, *args)
    assert (done.returncode, done.stdout.strip()) == (0, expected), done.stderr


def test_a_huge_order_is_answered_at_once_not_factorised(gateway_process: Endpoint) -> None:
    done = scscp_call(gateway_process, "GnuExplained", str(10**2000 - 1))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('[false, "unknown: this server does not factorise orders')
    huge_prime_seventh = (10**40 + 1) ** 7  # not a prime: p^7 needs p prime
    assert scscp_call(gateway_process, "Gnu", str(huge_prime_seventh)).stdout.strip() == "false"
    p = 1000003  # prime: the formula of Newman, O'Brien and Vaughan-Lee, far beyond 10^30
    g = [gcd(p - 1, k) for k in (3, 4, 5, 7, 8, 9)]
    expected = (
        3 * p**5 + 12 * p**4 + 44 * p**3 + 170 * p**2 + 707 * p + 2455
        + (4 * p**2 + 44 * p + 291) * g[0] + (p**2 + 19 * p + 135) * g[1]
        + (3 * p + 31) * g[2] + 4 * g[3] + 5 * g[4] + g[5]
    )  # fmt: skip
    assert scscp_call(gateway_process, "Gnu", str(p**7)).stdout.strip() == str(expected)


def test_cli_unknown_order_is_false_with_a_reason(gateway_process: Endpoint) -> None:
    done = scscp_call(gateway_process, "GnuExplained", "2048")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[false, ")
    assert "2048" in done.stdout and "unknown" in done.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["Gnu", "0"], "positive integer, got 0"),
        (["Gnu", "-6"], "positive integer, got -6"),
        (["Gnu", "x"], 'positive integer, got "x"'),
        (["Gnu", "[1, 2]"], "positive integer, got [ 1, 2 ]"),  # no control characters
        (["Gnu"], "one argument"),
        (["NrSmallGroups", "2048"], "does not know the groups of order 2048"),
    ],
)
def test_cli_bad_input_exits_1_with_a_message(
    gateway_process: Endpoint, args: list[str], says: str
) -> None:
    done = scscp_call(gateway_process, *args)
    assert done.returncode == 1
    assert says in done.stderr
    assert "127.0.0.1" not in done.stderr  # the worker's address is not the client's business


def test_cli_map_gives_a_line_per_order_and_keeps_going_past_errors(
    gateway_process: Endpoint,
) -> None:
    orders = [str(n) for n in range(1, 41)]
    done = scscp_call(
        gateway_process, "--concurrency", "4", "Gnu", *orders, "0", "1024", command="map"
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 1  # one call failed
    assert [line.split("\t")[0] for line in lines] == [*orders, "0", "1024"]  # in order
    assert lines[7] == "8\t5" and lines[23] == "24\t15"
    assert lines[-2].startswith("0\terror: the order must be a positive integer, got 0")
    assert lines[-1] == "1024\t49487367289"  # calls after the error were made


async def test_client_map_is_bounded_and_ordered(gateway_process: Endpoint) -> None:
    async with await Client.connect(gateway_process.host, gateway_process.port) as client:
        assert await client.map("Gnu", []) == []
        results = await client.map("Gnu", iter([8, 0, 16, 24]), concurrency=2)
    assert results[0] == 5 and results[2:] == [14, 15]
    assert isinstance(results[1], ProcedureError)


async def test_session_survives_errors(gateway_process: Endpoint) -> None:
    """GAP closes its session after every error; our client must not notice."""
    async with await Client.connect(gateway_process.host, gateway_process.port) as client:
        for _ in range(3):
            with pytest.raises(ProcedureError) as caught:
                await client.call("Gnu", 0)
            assert caught.value.symbol.name == "error_system_specific"
            assert await client.call("Gnu", 8) == 5
        assert await client.call("GnuExplained", 1024) == [
            49487367289,
            "Small Groups library (NumberSmallGroups)",
        ]
