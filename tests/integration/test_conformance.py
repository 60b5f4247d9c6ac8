"""The same SCSCP scenarios straight against a GAP server and through the gateway.

Every difference between the two is deliberate and asserted as such: the
gateway hides its workers' addresses, answers scscp2 for the whole service,
and filters what the operator has not allowed.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from fractions import Fraction

import pytest
import pytest_asyncio

from scscp.client import Client
from scscp.endpoint import Endpoint
from scscp.errors import ProcedureError, UnreadableReply
from scscp.gateway import Gateway
from scscp.gateway.providers.local import LocalProvider
from scscp.openmath import (
    OMApplication,
    OMInteger,
    OMReference,
    OMString,
    OMSymbol,
    from_python,
)
from scscp.openmath.values import (
    INFINITY,
    FiniteFieldElement,
    Matrix,
    Permutation,
    PermutationGroup,
)
from scscp.protocol import (
    TRANSIENT_CD,
    ProcedureCall,
    ProcedureCompleted,
    ProcedureTerminated,
    ReturnMode,
)
from tests.conftest import eventually, gateway_config

SCSCP2 = "scscp2"


# One GAP server and one gateway serve every scenario of this module.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["gap", "gateway"])
async def target(request: pytest.FixtureRequest, gap: str) -> AsyncIterator[tuple[str, Endpoint]]:
    """(kind, endpoint) of a plain GAP SCSCP server or of a gateway."""
    config = gateway_config(gap, workers=2)
    if request.param == "gap":
        provider = LocalProvider(gap, config.gap.scripts)
        worker = await provider.start()
        try:
            yield "gap", worker.endpoint
        finally:
            await provider.close()
    else:
        gateway = Gateway(config)
        await gateway.start()
        try:
            yield "gateway", Endpoint("127.0.0.1", gateway.port)
        finally:
            await gateway.close()


async def request(
    client: Client,
    name: str,
    *args: object,
    cd: str = TRANSIENT_CD,
    mode: ReturnMode = ReturnMode.OBJECT,
) -> ProcedureCompleted | ProcedureTerminated:
    call = ProcedureCall(
        client.new_call_id(), OMSymbol(cd, name), tuple(from_python(a) for a in args), mode
    )
    return await client.request(call)


async def completed(client: Client, name: str, *args: object, **kw: object) -> object:
    reply = await request(client, name, *args, **kw)  # type: ignore[arg-type]
    assert isinstance(reply, ProcedureCompleted), reply
    return reply.result


async def test_cookie_lifecycle(target: tuple[str, Endpoint]) -> None:
    _, endpoint = target
    async with await Client.connect(endpoint.host, endpoint.port) as client:
        ref = await completed(client, "WS_Factorial", 5, mode=ReturnMode.COOKIE)
        assert isinstance(ref, OMReference)
        # The reference names the server the client talks to, never a worker.
        assert ref.href.startswith(f"scscp://{endpoint}/")
        assert await completed(client, "retrieve", ref, cd=SCSCP2) == OMInteger(120)
        for _ in range(3):  # an OMR argument keeps reaching the object's worker
            assert await completed(client, "WS_Phi", ref) == OMInteger(32)
        assert await completed(client, "unbind", ref, cd=SCSCP2) == OMSymbol("logic1", "true")
        gone = await request(client, "retrieve", ref, cd=SCSCP2)
        assert isinstance(gone, ProcedureTerminated)
        assert "unbound" in gone.message and ref.href in gone.message


async def test_store_session_gives_a_usable_cookie(target: tuple[str, Endpoint]) -> None:
    _, endpoint = target
    async with await Client.connect(endpoint.host, endpoint.port) as client:
        ref = await completed(client, "store_session", [1, 2, 3], cd=SCSCP2, mode=ReturnMode.COOKIE)
        assert isinstance(ref, OMReference)
        assert await client.call("Length", ref) == 3
        assert await client.call("retrieve", ref, cd=SCSCP2) == [1, 2, 3]


async def test_return_nothing(target: tuple[str, Endpoint]) -> None:
    _, endpoint = target
    async with await Client.connect(endpoint.host, endpoint.port) as client:
        reply = await request(client, "Gnu", 1024, mode=ReturnMode.NOTHING)
        assert reply == ProcedureCompleted(reply.call_id)


async def test_scscp2_description_heads_and_signature(target: tuple[str, Endpoint]) -> None:
    kind, endpoint = target
    async with await Client.connect(endpoint.host, endpoint.port) as client:
        heads = await completed(client, "get_allowed_heads", cd=SCSCP2)
        assert isinstance(heads, OMApplication)
        assert heads.head == OMSymbol(SCSCP2, "symbol_set")
        names = {h.name for h in heads.args if isinstance(h, OMSymbol)}
        assert {"Gnu", "GnuExplained", "WS_Factors"} <= names
        # Deliberate: the gateway offers only what the operator allows.
        assert ("SCSCPStartTracing" in names) == (kind == "gap")
        gnu = OMSymbol(TRANSIENT_CD, "Gnu")
        assert await client.call("is_allowed_head", gnu, cd=SCSCP2) is True
        tracing = OMSymbol(TRANSIENT_CD, "SCSCPStartTracing")
        assert await client.call("is_allowed_head", tracing, cd=SCSCP2) is (kind == "gap")
        signature = await completed(client, "get_signature", gnu, cd=SCSCP2)
        assert isinstance(signature, OMApplication)
        assert signature.head == OMSymbol(SCSCP2, "signature") and signature.args[0] == gnu
        description = await completed(client, "get_service_description", cd=SCSCP2)
        assert isinstance(description, OMApplication)
        assert description.head == OMSymbol(SCSCP2, "service_description")
        assert len(description.args) == 3


async def test_store_session_always_answers_a_reference(gap: str) -> None:
    """Deliberate: GAP answers the object itself unless a cookie is asked for."""
    gw = Gateway(gateway_config(gap, workers=1))
    await gw.start()
    try:
        async with await Client.connect("127.0.0.1", gw.port) as client:
            ref = await completed(client, "store_persistent", 7, cd=SCSCP2)
            assert isinstance(ref, OMReference)
            assert await client.call("retrieve", ref, cd=SCSCP2) == 7
    finally:
        await gw.close()


@pytest.mark.asyncio(loop_scope="function")  # kills a worker: a gateway of its own
async def test_cookie_of_a_dead_worker_is_a_clear_error(gateway: Gateway) -> None:
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        ref = await completed(client, "store_session", 99, cd=SCSCP2)
        assert isinstance(ref, OMReference)
        holder_id = ref.href.rpartition("/")[2].partition(".")[0]
        holder = next(w for w in gateway.pool.workers if w.id == holder_id)
        os.kill(holder.handle.process.pid, signal.SIGKILL)  # type: ignore[attr-defined]
        await eventually(
            lambda: holder not in gateway.pool.workers,
            timeout=10,
            what="the pool noticed the death",
        )
        for name in ("retrieve", "Identity"):
            reply = await request(
                client, name, ref, cd=SCSCP2 if name == "retrieve" else TRANSIENT_CD
            )
            assert isinstance(reply, ProcedureTerminated)
            assert "gone" in reply.message and "lost" in reply.message
        # Other work goes on, and a foreign reference is refused, not fetched.
        assert await client.call("Gnu", 60) == 13
        foreign = await request(client, "Identity", OMReference("scscp://192.0.2.1:26133/x"))
        assert isinstance(foreign, ProcedureTerminated)
        assert "not an object stored by this gateway" in foreign.message


async def test_transient_cd(target: tuple[str, Endpoint]) -> None:
    """Deliberate: GAP answers raw <CD> XML; the gateway answers OpenMath (meta CD)."""
    kind, endpoint = target
    cd_name = OMApplication(OMSymbol("meta", "CDName"), (OMString(TRANSIENT_CD),))
    async with await Client.connect(endpoint.host, endpoint.port) as client:
        if kind == "gap":
            with pytest.raises(UnreadableReply) as caught:
                await request(client, "get_transient_cd", cd_name, cd=SCSCP2)
            assert b"<CDDefinition>" in caught.value.payload
            assert await client.call("Gnu", 8) == 5  # and the session goes on
            return
        cd = await completed(client, "get_transient_cd", cd_name, cd=SCSCP2)
    assert isinstance(cd, OMApplication) and cd.head == OMSymbol("meta", "CD")
    definitions = {
        d.args[0].args[0].value: d.args[1].args[0].value  # type: ignore[attr-defined]
        for d in cd.args
        if isinstance(d, OMApplication) and d.head == OMSymbol("meta", "CDDefinition")
    }
    assert definitions["Gnu"] == "the number of groups of order n, or false when it is unknown"
    assert "SCSCPStartTracing" not in definitions


async def test_debuglevel_brings_runtime_and_memory(target: tuple[str, Endpoint]) -> None:
    _, endpoint = target
    async with await Client.connect(endpoint.host, endpoint.port) as client:
        plain = await client.request(
            ProcedureCall(
                client.new_call_id(), OMSymbol(TRANSIENT_CD, "WS_Factorial"), (OMInteger(300),)
            )
        )
        detailed = await client.request(
            ProcedureCall(
                client.new_call_id(),
                OMSymbol(TRANSIENT_CD, "WS_Factorial"),
                (OMInteger(300),),
                debuglevel=2,
            )
        )
    assert isinstance(plain, ProcedureCompleted) and isinstance(detailed, ProcedureCompleted)
    assert plain.info_runtime is None and plain.info_memory is None
    assert detailed.info_runtime is not None and detailed.info_runtime >= 0
    assert detailed.info_memory is not None and detailed.info_memory > 0
    assert detailed.result == plain.result


async def test_binary_openmath_is_answered_in_binary(target: tuple[str, Endpoint]) -> None:
    _, endpoint = target
    async with await Client.connect(endpoint.host, endpoint.port, binary=True) as client:
        assert await client.call("Gnu", 1024) == 49487367289
        assert await client.call("GnuExplained", 2048) == [
            False,
            "unknown: no library on this server knows the number of groups of order 2048",
        ]
        assert await client.call("WS_Factorial", 30) == 265252859812191058636308480000000
        with pytest.raises(ProcedureError, match="positive integer"):
            await client.call("Gnu", 0)  # last: GAP itself ends the session after an error


ROUND_TRIP = [
    Fraction(-3, 4),
    [5, 1, 3],  # GAP answers with a list; a sorted one it writes as a set
    [1, 3, 5],
    range(1, 11),
    Matrix([[1, 2], [3, 4]]),
    Permutation((2, 3, 1)),
    {"order": 1024, "count": 49487367289},
    True,
    INFINITY,
    complex(1, -2),
    FiniteFieldElement(5, 2),
    FiniteFieldElement(8, 3),
    PermutationGroup((Permutation((2, 1, 3)), Permutation((2, 3, 1)))),
    "a string with <, & and \u00e9",
    2**200,
]


@pytest.mark.parametrize("value", ROUND_TRIP, ids=lambda v: type(v).__name__)
async def test_gap_values_round_trip(target: tuple[str, Endpoint], value: object) -> None:
    """Python value -> OpenMath -> GAP's Identity -> OpenMath -> an equal Python value."""
    _, endpoint = target
    async with await Client.connect(endpoint.host, endpoint.port) as client:
        assert await client.call("Identity", value) == value


async def test_size_of_a_group_sent_by_generators(target: tuple[str, Endpoint]) -> None:
    _, endpoint = target
    s4 = PermutationGroup((Permutation((2, 3, 4, 1)), Permutation((2, 1, 3, 4))))
    async with await Client.connect(endpoint.host, endpoint.port) as client:
        assert await client.call("Size", s4) == 24
        assert await client.call("WS_IdGroup", s4) == [24, 12]


@pytest.mark.asyncio(loop_scope="function")
async def test_what_gap_would_choke_on_is_normalised(gateway: Gateway) -> None:
    """Odd spacing, no newlines, no xmlns, a hex integer, one byte per segment."""
    message = (
        b'<?scscp   version="1.3"?>'
        b"<?scscp start?><OMOBJ><OMATTR><OMATP>"
        b'<OMS cd="scscp1" name="call_id" cdbase="http://www.openmath.org/cd"/>'
        b"<OMSTR>odd</OMSTR></OMATP><OMA><OMS cd='scscp1' name='procedure_call'/>"
        b'<OMA><OMS cd="scscp_transient_1" name="Gnu"/><OMI> x400 </OMI></OMA></OMA>'
        b"</OMATTR></OMOBJ><?scscp end?>"
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    await reader.readuntil(b"?>\n")
    for byte in message:
        writer.write(bytes([byte]))
        await writer.drain()
    await reader.readuntil(b"?>\n")  # the version confirmed
    reply = await asyncio.wait_for(reader.readuntil(b"<?scscp end ?>\n"), timeout=30)
    assert b"<OMI>49487367289</OMI>" in reply and b"<OMSTR>odd</OMSTR>" in reply
    writer.close()
