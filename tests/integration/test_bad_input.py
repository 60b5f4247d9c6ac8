"""Bad input gets a clear SCSCP error or a clean close; the gateway lives on."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from scscp.client import Client
from scscp.errors import ProcedureError
from scscp.gateway import Gateway
from tests.conftest import eventually, gateway_config

WELCOME_END = b"?>\n"


async def raw_session(
    port: int, version: bytes = b"1.3"
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readuntil(WELCOME_END)
    writer.write(b'<?scscp version="' + version + b'" ?>\n')
    answer = await reader.readuntil(WELCOME_END)
    return reader, writer, answer


async def still_serves(gateway: Gateway) -> None:
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        assert await client.call("Gnu", 24) == 15


async def test_unsupported_version_gets_quit(gateway: Gateway) -> None:
    reader, writer, answer = await raw_session(gateway.port, b"0.9")
    assert answer == b'<?scscp quit reason="not supported version" ?>\n'
    assert await reader.read() == b""  # and the gateway closes
    writer.close()
    await still_serves(gateway)


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", b"expected an SCSCP instruction"),
        (b"<?scscp " + b"x" * 5000, b"longer than 4094"),
    ],
)
async def test_garbage_gets_quit_with_reason_and_close(
    gateway: Gateway, garbage: bytes, reason: bytes
) -> None:
    reader, writer, _ = await raw_session(gateway.port)
    writer.write(garbage)
    said = await asyncio.wait_for(reader.read(), timeout=30)
    assert said.startswith(b"<?scscp quit reason=") and reason in said
    writer.close()
    await still_serves(gateway)


async def test_invalid_openmath_gets_procedure_terminated(gateway: Gateway) -> None:
    reader, writer, _ = await raw_session(gateway.port)
    writer.write(b"<?scscp start ?>\n<OMOBJ><OMI>12</OMSTR></OMOBJ>\n<?scscp end ?>\n")
    reply = await reader.readuntil(b"<?scscp end ?>\n")
    assert b"procedure_terminated" in reply and b"invalid OpenMath" in reply
    # The session goes on: a good call on the same connection is answered.
    writer.write(
        b'<?scscp start ?>\n<OMOBJ><OMATTR><OMATP><OMS cd="scscp1" name="call_id"/>'
        b'<OMSTR>ok</OMSTR></OMATP><OMA><OMS cd="scscp1" name="procedure_call"/>'
        b'<OMA><OMS cd="scscp_transient_1" name="Gnu"/><OMI>8</OMI></OMA></OMA>'
        b"</OMATTR></OMOBJ>\n<?scscp end ?>\n"
    )
    reply = await reader.readuntil(b"<?scscp end ?>\n")
    assert b"procedure_completed" in reply and b"<OMI>5</OMI>" in reply
    writer.close()


async def test_oversized_message_ends_the_session(gap: str) -> None:
    config = dataclasses.replace(gateway_config(gap, workers=1), max_message_size=5000)
    gw = Gateway(config)
    await gw.start()
    try:
        reader, writer, _ = await raw_session(gw.port)
        writer.write(b"<?scscp start ?>\n<OMOBJ><OMSTR>" + b"a" * 20000)
        said = await asyncio.wait_for(reader.read(), timeout=30)
        assert b"larger than the limit of 5000 bytes" in said
        writer.close()
        await still_serves(gw)
    finally:
        await gw.close()


async def test_client_leaving_mid_call_costs_nothing(gateway: Gateway) -> None:
    """The worker finishes, its answer is dropped, and it serves the next call."""
    client = await Client.connect("127.0.0.1", gateway.port)
    pending = asyncio.create_task(client.call("Busy", 1))
    await eventually(
        lambda: any(w.busy for w in gateway.pool.workers),
        timeout=10,
        what="the call reached a worker",
    )
    await client.close()
    with pytest.raises(Exception):  # noqa: B017 (the closed session's error)
        await pending
    await eventually(lambda: gateway.pool.idle == 2, timeout=30, what="both workers idle again")
    await still_serves(gateway)


async def test_result_gap_cannot_encode(gateway: Gateway) -> None:
    async with await Client.connect("127.0.0.1", gateway.port) as client:
        with pytest.raises(ProcedureError) as caught:
            await client.call("ReturnFail", 1)
        assert "without a complete answer to ReturnFail" in caught.value.message
        assert await client.call("Gnu", 24) == 15
    assert gateway.pool.ready == 2


async def test_shutdown_answers_calls_in_flight_and_says_quit(gap: str) -> None:
    gw = Gateway(gateway_config(gap, workers=1, busy=True))
    await gw.start()
    closed = False
    try:
        reader, writer, _ = await raw_session(gw.port)
        writer.write(
            b'<?scscp start ?>\n<OMOBJ><OMATTR><OMATP><OMS cd="scscp1" name="call_id"/>'
            b'<OMSTR>slow</OMSTR></OMATP><OMA><OMS cd="scscp1" name="procedure_call"/>'
            b'<OMA><OMS cd="scscp_transient_1" name="Busy"/><OMI>600</OMI></OMA></OMA>'
            b"</OMATTR></OMOBJ>\n<?scscp end ?>\n"
        )
        await eventually(
            lambda: any(w.busy for w in gw.pool.workers),
            timeout=10,
            what="the call reached the worker",
        )
        await gw.close()
        closed = True
        said = await asyncio.wait_for(reader.read(), timeout=30)
        assert b"procedure_terminated" in said and b"<OMSTR>slow</OMSTR>" in said
        assert b"shutting down" in said
        assert said.endswith(b'<?scscp quit reason="the server is shutting down" ?>\n')
        writer.close()
    finally:
        if not closed:
            await gw.close()


async def test_terminate_in_the_same_segment_as_its_call(gateway: Gateway) -> None:
    """The call is stopped before it starts; it still gets exactly one answer."""
    reader, writer, _ = await raw_session(gateway.port)
    writer.write(
        b'<?scscp start ?>\n<OMOBJ><OMATTR><OMATP><OMS cd="scscp1" name="call_id"/>'
        b'<OMSTR>t1</OMSTR></OMATP><OMA><OMS cd="scscp1" name="procedure_call"/>'
        b'<OMA><OMS cd="scscp_transient_1" name="Gnu"/><OMI>8</OMI></OMA></OMA>'
        b'</OMATTR></OMOBJ>\n<?scscp end ?>\n<?scscp terminate call_id="t1" ?>\n'
    )
    reply = await asyncio.wait_for(reader.readuntil(b"<?scscp end ?>\n"), timeout=30)
    assert b"<OMSTR>t1</OMSTR>" in reply
    assert b"procedure_terminated" in reply or b"<OMI>5</OMI>" in reply
    writer.close()
    await still_serves(gateway)


async def test_a_huge_message_does_not_stop_the_other_sessions(gateway: Gateway) -> None:
    """Decoding a million integers of XML takes seconds: not on the gateway's event loop.

    The huge call is refused as soon as it is decoded (its procedure is not
    allowed); a small call sent once the gateway has read the huge one is
    answered first, by GAP, only if the decoding left the loop free.
    """
    stats = gateway.server.stats
    async with (
        await Client.connect("127.0.0.1", gateway.port) as flooder,
        await Client.connect("127.0.0.1", gateway.port) as other,
    ):
        before = stats.received
        huge = asyncio.ensure_future(flooder.call("NotOffered", list(range(10**6))))
        await eventually(
            lambda: stats.received - before > 12 * 10**6,  # each <OMI>n</OMI> >= 12 bytes
            timeout=60,
            what="the gateway read the huge message",
        )
        small = asyncio.ensure_future(other.call("Gnu", 8))
        done, _ = await asyncio.wait({huge, small}, return_when=asyncio.FIRST_COMPLETED)
        assert small in done and not huge.done()
        assert small.result() == 5
        with pytest.raises(ProcedureError) as refused:
            await huge
        assert refused.value.symbol.name == "unexpected_symbol"
