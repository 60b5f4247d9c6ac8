"""A Python SCSCP service built with scscp.service, called by our client and by GAP's."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from fractions import Fraction
from pathlib import Path

import pytest

from scscp.client import Client
from scscp.errors import ProcedureError
from scscp.openmath import OMApplication, OMInteger, OMReference, OMString, OMSymbol
from scscp.protocol import TRANSIENT_CD, ProcedureCall, ProcedureCompleted, ReturnMode
from scscp.service import ProcedureFailed, Service
from scscp.special import TRANSIENT_CD_NAME


def arithmetic() -> Service:
    service = Service("Arithmetic", "1.0", "integer arithmetic for tests")

    @service.procedure
    def add(a: int, b: int) -> int:
        """The sum of two integers."""
        return a + b

    @service.procedure(name="Total")
    def total(*values: int) -> int:
        """The sum of any number of values."""
        return sum(values)

    @service.procedure
    async def halve(x: int) -> Fraction:
        """x / 2, exactly."""
        return Fraction(x, 2)

    @service.procedure
    async def hang() -> None:
        """Never finishes: for runtime limits."""
        await asyncio.Event().wait()

    @service.procedure
    def fail(kind: str) -> None:
        """Fails on purpose."""
        if kind == "memory":
            raise ProcedureFailed("too big for this service", "error_memory")
        raise ValueError("asked to fail")

    return service


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    service = arithmetic()
    await service.start("127.0.0.1", 0)
    try:
        yield service
    finally:
        await service.close()


async def test_procedures_values_and_errors(service: Service) -> None:
    async with await Client.connect("127.0.0.1", service.server.port) as client:
        assert await client.call("add", 2, 3) == 5
        assert await client.call("Total", 1, 2, 3, 4) == 10
        assert await client.call("halve", 3) == Fraction(3, 2)
        with pytest.raises(ProcedureError, match="add takes 2 argument"):
            await client.call("add", 1)
        with pytest.raises(ProcedureError, match="ValueError: asked to fail"):
            await client.call("fail", "runtime")
        with pytest.raises(ProcedureError) as caught:
            await client.call("fail", "memory")
        assert caught.value.symbol.name == "error_memory"
        with pytest.raises(ProcedureError) as caught:
            await client.call("hang", runtime_ms=100)
        assert caught.value.symbol.name == "error_runtime"
        with pytest.raises(ProcedureError) as caught:
            await client.call("nosuch")
        assert caught.value.symbol == OMSymbol("error", "unexpected_symbol")


async def test_cookies_and_scscp2(service: Service) -> None:
    async with await Client.connect("127.0.0.1", service.server.port) as client:
        add = OMSymbol(TRANSIENT_CD, "add")
        cookie = await client.request(
            ProcedureCall("c1", add, (OMInteger(20), OMInteger(22)), ReturnMode.COOKIE)
        )
        assert isinstance(cookie, ProcedureCompleted)
        ref = cookie.result
        assert isinstance(ref, OMReference)
        assert await client.call("add", ref, 1) == 43
        assert await client.call("retrieve", ref, cd="scscp2") == 42
        stored = await client.call("store_session", [1, 2], cd="scscp2")
        assert isinstance(stored, OMReference)
        assert await client.call("retrieve", stored, cd="scscp2") == [1, 2]
        assert await client.call("unbind", ref, cd="scscp2") is True
        with pytest.raises(ProcedureError, match="not an object stored here"):
            await client.call("retrieve", ref, cd="scscp2")
        heads = await client.call("get_allowed_heads", cd="scscp2")
        assert isinstance(heads, OMApplication)
        assert set(heads.args) == {
            OMSymbol(TRANSIENT_CD, n) for n in ("add", "Total", "halve", "hang", "fail")
        }
        sig = await client.call("get_signature", OMSymbol(TRANSIENT_CD, "Total"), cd="scscp2")
        assert sig.args[1:3] == (OMInteger(0), OMSymbol("nums1", "infinity"))
        cd = await client.call("get_transient_cd", TRANSIENT_CD_NAME, cd="scscp2")
        assert OMString("The sum of two integers.") in [d.args[1].args[0] for d in cd.args[3:]]
        assert await client.call("is_allowed_head", add, cd="scscp2") is True


def test_gap_client_calls_a_python_service(gap: str, tmp_path: Path) -> None:
    """GAP's own client against a service written with scscp.service."""

    async def run() -> str:
        service = arithmetic()
        await service.start("127.0.0.1", 0)
        try:
            script = tmp_path / "client.g"
            script.write_text(
                'LoadPackage("scscp");;\n'
                f'r := EvaluateBySCSCP("add", [40, 2], "127.0.0.1", {service.server.port});;\n'
                'Print("SUM ", r.object, "\\n");\n'
                f'r := EvaluateBySCSCP("halve", [7], "127.0.0.1", {service.server.port});;\n'
                'Print("HALF ", r.object, "\\n");\nQUIT;\n'
            )
            proc = await asyncio.create_subprocess_exec(
                gap,
                "-q",
                "-b",
                str(script),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
            return out.decode()
        finally:
            await service.close()

    out = asyncio.run(run())
    assert "SUM 42" in out
    assert "HALF 7/2" in out
