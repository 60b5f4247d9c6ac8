"""GAP's own SCSCP client, unchanged, against the gateway."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scscp.endpoint import Endpoint


def run_gap(gap: str, tmp_path: Path, program: str) -> str:
    script = tmp_path / "client.g"
    script.write_text(f'LoadPackage("scscp");;\n{program}\nQUIT;\n')
    done = subprocess.run(
        [gap, "-q", "-b", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_evaluate_by_scscp_gets_gnu_1024(
    gap: str, gateway_process: Endpoint, tmp_path: Path
) -> None:
    host, port = gateway_process.host, gateway_process.port
    out = run_gap(
        gap,
        tmp_path,
        f"""
        r := EvaluateBySCSCP("Gnu", [1024], "{host}", {port});;
        Print("RESULT=", r.object, "\\n");""",
    )
    assert "RESULT=49487367289" in out


def test_gap_client_on_a_persistent_connection(
    gap: str, gateway_process: Endpoint, tmp_path: Path
) -> None:
    """One GAP session, several calls, an explained unknown among them."""
    host, port = gateway_process.host, gateway_process.port
    out = run_gap(
        gap,
        tmp_path,
        f"""
        c := NewSCSCPconnection("{host}", {port});;
        for n in [1536, 2048, 60] do
          r := EvaluateBySCSCP("GnuExplained", [n], c);;
          Print("RESULT ", n, " ", r.object[1], "\\n");
        od;
        CloseSCSCPconnection(c);""",
    )
    assert "RESULT 1536 408641062" in out
    assert "RESULT 2048 false" in out
    assert "RESULT 60 13" in out
