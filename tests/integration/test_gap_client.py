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


def test_gap_client_output_options_and_remote_objects(
    gap: str, gateway_process: Endpoint, tmp_path: Path
) -> None:
    host, port = gateway_process.host, gateway_process.port
    out = run_gap(
        gap,
        tmp_path,
        f"""
        r := EvaluateBySCSCP("WS_Factorial", [10], "{host}", {port} : output := "cookie");;
        Print("COOKIE ", IsRemoteObject(r.object), "\\n");
        Print("RETRIEVED ", RetrieveRemoteObject(r.object), "\\n");
        r := EvaluateBySCSCP("WS_Factorial", [10], "{host}", {port} : output := "nothing");;
        Print("NOTHING ", r.object, "\\n");
        s := StoreAsRemoteObject([1, 2, 3], "{host}", {port});;
        Print("STORED ", IsRemoteObject(s), " ", RetrieveRemoteObject(s), "\\n");
        Print("LENGTH ", EvaluateBySCSCP("Length", [s], "{host}", {port}).object, "\\n");
        Print("UNBIND ", UnbindRemoteObject(s), "\\n");""",
    )
    assert "COOKIE true" in out
    assert "RETRIEVED 3628800" in out
    assert "NOTHING " in out  # GAP prints its own placeholder for "no object"
    assert "STORED true [ 1, 2, 3 ]" in out
    assert "LENGTH 3" in out
    assert "UNBIND true" in out


def test_gap_new_process_and_terminate(gap: str, gateway_process: Endpoint, tmp_path: Path) -> None:
    """TerminateProcess closes GAP's session mid-call; the gateway stays well."""
    host, port = gateway_process.host, gateway_process.port
    semiprime = 112580160511326123008238383485608386927203987476281706748213
    out = run_gap(
        gap,
        tmp_path,
        f"""
        p := NewProcess("WS_Factors", [{semiprime}], "{host}", {port});;
        TerminateProcess(p);;
        q := NewProcess("Gnu", [1024], "{host}", {port});;
        Print("COMPLETED ", CompleteProcess(q).object, "\\n");""",
    )
    assert "COMPLETED 49487367289" in out


def test_par_list_over_the_gateway_twice(
    gap: str, gateway_process: Endpoint, tmp_path: Path
) -> None:
    host, port = gateway_process.host, gateway_process.port
    out = run_gap(
        gap,
        tmp_path,
        f"""
        SCSCPservers := [ [ "{host}", {port} ], [ "{host}", {port} ] ];;
        SetInfoLevel(InfoMasterWorker, 0);;
        r := ParListWithSCSCP(List([2..6], n -> SymmetricGroup(n)), "WS_IdGroup");;
        Print("IDS ", r, "\\n");""",
    )
    assert "IDS [ [ 2, 1 ], [ 6, 1 ], [ 24, 12 ], [ 120, 34 ], [ 720, 763 ] ]" in out


def test_gap_client_in_binary_mode(gap: str, gateway_process: Endpoint, tmp_path: Path) -> None:
    host, port = gateway_process.host, gateway_process.port
    out = run_gap(
        gap,
        tmp_path,
        f"""
        SwitchSCSCPmodeToBinary();;
        r := EvaluateBySCSCP("Gnu", [1024], "{host}", {port});;
        Print("BINARY ", r.object, "\\n");
        r := EvaluateBySCSCP("WS_IdGroup", [SymmetricGroup(4)], "{host}", {port});;
        Print("ID ", r.object, "\\n");""",
    )
    assert "BINARY 49487367289" in out
    assert "ID [ 24, 12 ]" in out
