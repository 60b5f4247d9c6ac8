"""Unit tests for the sans-IO SCSCP protocol core: framing, messages, session order.

No sockets and no event loop: one Connection's ``send`` output is fed to the other's
``receive_data``, and GAP's real bytes are fed to a client in every chunking.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest

from scscp.openmath import (
    OMAny,
    OMApplication,
    OMAttribution,
    OMError,
    OMInteger,
    OMReference,
    OMString,
    OMSymbol,
    encode,
)
from scscp.protocol import (
    TRANSIENT_CD,
    BadMessage,
    Connection,
    ConnectionClosed,
    Event,
    Info,
    ProcedureCall,
    ProcedureCompleted,
    ProcedureTerminated,
    ProtocolError,
    Quit,
    ReturnMode,
    Role,
    State,
    Terminate,
    Undecoded,
    Version,
    Welcome,
)
from scscp.protocol.framing import MAX_PI_SIZE, frame

GAP_WELCOME = Welcome("GAP", "4.12.1", "localhost:26133:5835", ("1.0", "1.1", "1.2", "1.3"))
GAP_WELCOME_BYTES = (
    b'<?scscp service_name="GAP" service_version="4.12.1" '
    b'service_id="localhost:26133:5835" scscp_versions="1.0 1.1 1.2 1.3" ?>\n'
)
# The reply GAP 4.12.1 (scscp 2.4.0) really sends, pretty-printed with tabs and newlines.
GAP_REPLY = (
    b'<?scscp start ?>\n<OMOBJ xmlns="http://www.openmath.org/OpenMath" version="2.0">\n'
    b'\t<OMATTR>\n\t\t<OMATP>\n\t\t\t<OMS cd="scscp1" name="call_id"/>\n'
    b"\t\t\t<OMSTR>abc</OMSTR>\n\t\t</OMATP>\n\t\t<OMA>\n"
    b'\t\t\t<OMS cd="scscp1" name="procedure_completed"/>\n'
    b"\t\t\t<OMI>49487367289</OMI>\n\t\t</OMA>\n\t</OMATTR>\n</OMOBJ>\n<?scscp end ?>\n"
)
GAP_ERROR = (
    b'<?scscp start ?>\n<OMOBJ xmlns="http://www.openmath.org/OpenMath" version="2.0">\n'
    b'\t<OMATTR>\n\t\t<OMATP>\n\t\t\t<OMS cd="scscp1" name="call_id"/>\n'
    b"\t\t\t<OMSTR>def</OMSTR>\n\t\t</OMATP>\n\t\t<OMA>\n"
    b'\t\t\t<OMS cd="scscp1" name="procedure_terminated"/>\n\t\t\t<OME>\n'
    b'\t\t\t\t<OMS cd="scscp1" name="error_system_specific"/>\n'
    b"\t\t\t\t<OMSTR>user interrupt</OMSTR>\n\t\t\t</OME>\n\t\t</OMA>\n\t</OMATTR>\n"
    b"</OMOBJ>\n<?scscp end ?>\n"
)
GAP_COMPLETED = ProcedureCompleted("abc", OMInteger(49487367289))
GAP_TERMINATED = ProcedureTerminated.because("def", "user interrupt")
GOOD_CALL = ProcedureCall("ok", OMSymbol(TRANSIENT_CD, "Gnu"), (OMInteger(8),))
CALL_ID = OMSymbol("scscp1", "call_id")


def proc(name: str) -> OMSymbol:
    return OMSymbol(TRANSIENT_CD, name)


def handshake() -> tuple[Connection, Connection]:
    """A client and a server that agreed on version 1.3 by exchanging real bytes."""
    client, server = Connection(Role.CLIENT), Connection(Role.SERVER)
    assert client.receive_data(server.send(GAP_WELCOME)) == [GAP_WELCOME]
    version = client.choose_version()
    assert version == Version("1.3")
    assert server.receive_data(client.send(version)) == [version]
    assert server.accepts(version.version)
    assert client.receive_data(server.send(version)) == [version]
    assert client.state is State.READY and server.state is State.READY
    assert client.version == server.version == "1.3"
    return client, server


def ready_client() -> Connection:
    return handshake()[0]


def ready_server() -> Connection:
    return handshake()[1]


def block(obj: OMAny) -> bytes:
    return frame(encode(obj))


def chunkings(data: bytes, seed: int) -> Iterator[bytes]:
    """``data`` cut at random places (pieces of 1 to 40 bytes), reproducibly."""
    rng = random.Random(seed)
    pos = 0
    while pos < len(data):
        size = rng.randint(1, 40)
        yield data[pos : pos + size]
        pos += size


def feed(conn: Connection, pieces: Iterator[bytes] | list[bytes]) -> list[Event]:
    return [event for piece in pieces for event in conn.receive_data(piece)]


# --------------------------------------------------------------------------- exact bytes


@pytest.mark.parametrize(
    ("conn", "event", "expected"),
    [
        (lambda: Connection(Role.SERVER), GAP_WELCOME, GAP_WELCOME_BYTES),
        (lambda: Connection(Role.SERVER), Quit("not supported version"),
         b'<?scscp quit reason="not supported version" ?>\n'),
        (lambda: Connection(Role.SERVER), Quit(), b"<?scscp quit ?>\n"),
        (ready_client, Terminate("x"), b'<?scscp terminate call_id="x" ?>\n'),
        (ready_client, Info('say "hi" & <bye>'),
         b'<?scscp info="say &quot;hi&quot; &amp; &lt;bye&gt;" ?>\n'),
    ],
)  # fmt: skip
def test_control_bytes_are_exact(
    conn: Callable[[], Connection], event: Event, expected: bytes
) -> None:
    assert conn().send(event) == expected


def test_version_lines_are_exact() -> None:
    client, server = Connection(Role.CLIENT), Connection(Role.SERVER)
    client.receive_data(server.send(GAP_WELCOME))
    assert client.send(Version("1.3")) == b'<?scscp version="1.3" ?>\n'
    server.receive_data(b'<?scscp version="1.3" ?>\n')
    assert server.send(Version("1.3")) == b'<?scscp version="1.3" ?>\n'


@pytest.mark.parametrize(
    "call",
    [
        GOOD_CALL,
        ProcedureCall("c-1", proc("Nothing"), (), ReturnMode.NOTHING),
        ProcedureCall(
            'id with "quotes" & <angles>',
            proc("GnuExplained"),
            (OMInteger(2**70), OMString("a\tb"), OMReference("scscp://h:1/x")),
            ReturnMode.COOKIE,
            runtime_ms=1500,
            min_memory=1,
            max_memory=2**31,
            debuglevel=2,
            extra=((OMSymbol("mycd", "hint"), OMString("fast")),),
        ),
    ],
)
def test_call_is_one_omobj_line_and_round_trips(call: ProcedureCall) -> None:
    client, server = handshake()
    data = client.send(call)
    assert data.startswith(b"<?scscp start ?>\n")
    assert data.endswith(b"\n<?scscp end ?>\n")
    lines = data.split(b"\n")
    assert len(lines) == 4 and lines[3] == b""
    assert lines[1].startswith(b"<OMOBJ") and lines[1].endswith(b"</OMOBJ>")
    assert data.count(b"<OMOBJ") == 1
    assert server.receive_data(data) == [call]


def test_a_message_above_the_decode_limit_is_handed_out_undecoded_in_its_place() -> None:
    client, server = handshake()
    small = ProcedureCall("c1", OMSymbol(TRANSIENT_CD, "Gnu"), (OMInteger(8),))
    big = ProcedureCall("c2", OMSymbol(TRANSIENT_CD, "Length"), (OMString("x" * 5000),))
    server.decode_limit = 1000
    events = server.receive_data(client.send(small) + client.send(big) + b'<?scscp info="i" ?>\n')
    assert events[0] == small and events[2] == Info("i")  # the order is kept
    assert isinstance(events[1], Undecoded)
    assert server.decode(events[1].payload) == big
    assert isinstance(server.decode(b"<OMOBJ><OMI>x</OMI></OMOBJ>"), BadMessage)


# --------------------------------------------------------------------------- conversation


def test_full_conversation() -> None:
    client, server = handshake()
    call = ProcedureCall("c1", proc("Gnu"), (OMInteger(8),), runtime_ms=100)
    assert server.receive_data(client.send(call)) == [call]
    done = ProcedureCompleted("c1", OMInteger(5), info_runtime=3, info_message="fine")
    assert client.receive_data(server.send(done)) == [done]

    call2 = ProcedureCall("c2", proc("Gnu"), (OMInteger(2048),))
    assert server.receive_data(client.send(call2)) == [call2]
    assert server.receive_data(client.send(Terminate("c2"))) == [Terminate("c2")]
    failed = ProcedureTerminated.because("c2", "out of memory", "error_memory")
    (got,) = client.receive_data(server.send(failed))
    assert got == failed
    assert isinstance(got, ProcedureTerminated)
    assert got.error.symbol == OMSymbol("scscp1", "error_memory")
    assert got.message == "out of memory"

    call3 = ProcedureCall("c3", proc("Store"), (OMInteger(1),), ReturnMode.NOTHING)
    (got3,) = server.receive_data(client.send(call3))
    assert isinstance(got3, ProcedureCall) and got3.return_mode is ReturnMode.NOTHING
    (reply,) = client.receive_data(server.send(ProcedureCompleted("c3")))
    assert isinstance(reply, ProcedureCompleted) and reply.result is None

    assert server.receive_data(client.send(Quit("bye"))) == [Quit("bye")]
    assert client.state is State.CLOSED and server.state is State.CLOSED


def test_unsupported_version_is_refused() -> None:
    client = Connection(Role.CLIENT, versions=("2.0",))
    server = Connection(Role.SERVER)
    client.receive_data(server.send(GAP_WELCOME))
    assert client.choose_version() is None
    assert server.receive_data(client.send(Version("2.0"))) == [Version("2.0")]
    assert not server.accepts("2.0")
    with pytest.raises(ProtocolError):
        server.send(Version("2.0"))
    assert client.receive_data(server.send(Quit("not supported version"))) == [
        Quit("not supported version")
    ]
    assert client.state is State.CLOSED


def test_message_properties() -> None:
    assert GOOD_CALL.name == "Gnu"
    assert GAP_TERMINATED.error == OMError(
        OMSymbol("scscp1", "error_system_specific"), (OMString("user interrupt"),)
    )
    bare = ProcedureTerminated("x", OMError(OMSymbol("error", "unexpected_symbol"), (proc("F"),)))
    assert bare.message == f"{TRANSIENT_CD}.F"
    assert ProcedureTerminated("x", OMError(OMSymbol("scscp1", "error_runtime"))).message == (
        "error_runtime"
    )


# --------------------------------------------------------------------------- GAP's bytes


def gap_client() -> Connection:
    client = Connection(Role.CLIENT)
    assert client.receive_data(GAP_WELCOME_BYTES) == [GAP_WELCOME]
    client.send(client.choose_version() or Version("1.0"))
    client.receive_data(b'<?scscp version="1.3" ?>\n')
    assert client.state is State.READY
    return client


@pytest.mark.parametrize(
    ("data", "expected"), [(GAP_REPLY, GAP_COMPLETED), (GAP_ERROR, GAP_TERMINATED)]
)
@pytest.mark.parametrize("split", ["whole", "bytes", *[f"seed{s}" for s in range(8)]])
def test_gap_replies_in_any_chunking(data: bytes, expected: Event, split: str) -> None:
    if split == "whole":
        pieces = [data]
    elif split == "bytes":
        pieces = [data[i : i + 1] for i in range(len(data))]
    else:
        pieces = list(chunkings(data, int(split[4:])))
    client = gap_client()
    assert feed(client, pieces) == [expected]
    assert client.state is State.READY
    if isinstance(expected, ProcedureTerminated):
        assert expected.message == "user interrupt"


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_whole_gap_session_in_any_chunking(seed: int | None) -> None:
    data = (
        GAP_WELCOME_BYTES
        + b'<?scscp version="1.3" ?>\n'
        + GAP_REPLY
        + b'<?scscp info="working" ?>\n'
        + GAP_ERROR
        + GAP_REPLY
        + b'<?scscp quit reason="done" ?>\n'
        + GAP_REPLY  # after quit: ignored
    )
    client = Connection(Role.CLIENT)
    welcome_end = len(GAP_WELCOME_BYTES)
    assert client.receive_data(data[:welcome_end]) == [GAP_WELCOME]
    client.send(Version("1.3"))
    rest = data[welcome_end:]
    pieces = [rest] if seed is None else list(chunkings(rest, seed))
    assert feed(client, pieces) == [
        Version("1.3"),
        GAP_COMPLETED,
        Info("working"),
        GAP_TERMINATED,
        GAP_COMPLETED,
        Quit("done"),
    ]
    assert client.state is State.CLOSED
    assert client.receive_data(GAP_REPLY) == []


# --------------------------------------------------------------------------- tolerance

REPLY_OBJ = GAP_REPLY[len(b"<?scscp start ?>\n") : -len(b"<?scscp end ?>\n")]
IN_BLOCK_NOISE = b'<?scscp ack ?><?scscp info="x" ?>\n'  # dropped inside a block


@pytest.mark.parametrize(
    "data",
    [
        b"<?scscp   start?>" + REPLY_OBJ + b"<?scscp end?>",
        b"<?scscp start ?>" + REPLY_OBJ.strip() + b"<?scscp end ?>",
        b"\r\n  <?scscp\tstart \t?>\r\n" + REPLY_OBJ + b"\r\n<?scscp  end  ?>\r\n\r\n",
        b"<?scscp ack ?>" + GAP_REPLY + b"<?scscp ack ?>\n",
        b'<?scscp future="x" ?>\n<?scscp frobnicate a="1" b ?>\n' + GAP_REPLY,
        b"<?scscp end ?>\n<?scscp cancel ?>\n" + GAP_REPLY,  # stray end/cancel: nothing to end
        b"<?scscp start ?>\n<OMOBJ><broken<?scscp cancel ?>\n" + GAP_REPLY,
        b"<?scscp start ?>\n" + REPLY_OBJ + IN_BLOCK_NOISE + b"<?scscp end ?>\n",
        b'<?scscp terminate call_id="abc" ?>\n' + GAP_REPLY,  # not meant for a client
    ],
)
def test_client_tolerates(data: bytes) -> None:
    client = gap_client()
    assert client.receive_data(data) == [GAP_COMPLETED]
    assert client.state is State.READY


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'<?scscp version = "1.3"?>', Version("1.3")),
        (b'<?scscp version="1.3"?>', Version("1.3")),
        (b'<?scscp terminate call_id="c 7" ?>\n', Terminate("c 7")),
        (b'<?scscp info="a &quot;quoted&quot; &amp; &lt;b&gt; &apos;c&apos;" ?>\n',
         Info("a \"quoted\" & <b> 'c'")),
        (b'<?scscp info="&amp;quot;" ?>\n', Info("&quot;")),
        (b"<?scscp quit ?>\n", Quit()),
        (b"<?scscp quit?>", Quit()),
        (b'<?scscp quit reason="tired &quot;now&quot;" ?>\n', Quit('tired "now"')),
    ],
)  # fmt: skip
def test_server_reads_instruction_variants(data: bytes, expected: Event) -> None:
    server = Connection(Role.SERVER)
    server.send(GAP_WELCOME)
    assert server.receive_data(data) == [expected]


@pytest.mark.parametrize("text", ['"', "&quot;", "a ?> b", "<?scscp end ?>", "ünïcødé", ""])
def test_info_text_round_trips(text: str) -> None:
    client, server = handshake()
    assert server.receive_data(client.send(Info(text))) == [Info(text)]


def test_quit_inside_a_block_ends_the_session() -> None:
    client = gap_client()
    assert client.receive_data(b"<?scscp start ?>\n<OMOBJ>\n<?scscp quit ?>\n") == [Quit()]
    assert client.state is State.CLOSED


def test_eof() -> None:
    client = gap_client()
    assert client.receive_data(GAP_REPLY[:50]) == []
    assert client.receive_data(b"") == [ConnectionClosed()]
    assert client.state is State.CLOSED
    assert client.receive_data(GAP_REPLY) == []
    with pytest.raises(ProtocolError):
        client.send(GOOD_CALL)
    assert Connection(Role.SERVER).receive_data(b"") == [ConnectionClosed()]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "data",
    [
        b"hello\n",
        b"<OMOBJ/>",
        b"<?xml version='1.0' ?>",
        b"<?scscp ack ?>\nGARBAGE",
        b'<?scscp info="unterminated ?>',
        b"<?scscp 9lives ?>",
    ],
)
def test_garbage_outside_a_block(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        gap_client().receive_data(data)


@pytest.mark.parametrize("in_block", [False, True])
@pytest.mark.parametrize("whole", [True, False])
def test_instruction_size_limit(in_block: bool, whole: bool) -> None:
    prefix = b"<?scscp start ?>\n<OMOBJ/>\n" if in_block else b""
    pad = MAX_PI_SIZE - len(b'<?scscp info="" ?>')
    ok = b'<?scscp info="' + b"x" * pad + b'" ?>'
    assert len(ok) == MAX_PI_SIZE
    too_long = b'<?scscp info="' + b"x" * 5000 + b'" ?>\n'

    client = gap_client()
    assert client.receive_data(prefix + ok) == ([] if in_block else [Info("x" * pad)])
    client = gap_client()
    with pytest.raises(ProtocolError, match="4094"):
        feed(client, [prefix + too_long] if whole else list(chunkings(prefix + too_long, 7)))


@pytest.mark.parametrize("whole", [True, False])
def test_message_size_limit(whole: bool) -> None:
    small = Connection(Role.CLIENT, max_message_size=len(REPLY_OBJ))
    small.receive_data(GAP_WELCOME_BYTES)
    small.send(Version("1.3"))
    small.receive_data(b'<?scscp version="1.3" ?>\n')
    assert small.receive_data(b"<?scscp start ?>" + REPLY_OBJ + b"<?scscp end ?>") == [
        GAP_COMPLETED
    ]
    big = b"<?scscp start ?>\n" + b" " * 200 + REPLY_OBJ + b"<?scscp end ?>\n"
    with pytest.raises(ProtocolError, match="limit"):
        feed(small, [big] if whole else list(chunkings(big, 3)))


def test_message_before_version_agreement() -> None:
    client = Connection(Role.CLIENT)
    with pytest.raises(ProtocolError):
        client.receive_data(GAP_REPLY)  # before the welcome
    client = Connection(Role.CLIENT)
    client.receive_data(GAP_WELCOME_BYTES)
    client.send(Version("1.3"))
    with pytest.raises(ProtocolError):
        client.receive_data(GAP_REPLY)  # version asked, not confirmed
    server = Connection(Role.SERVER)
    server.send(GAP_WELCOME)
    assert server.receive_data(b'<?scscp version="1.3" ?>\n') == [Version("1.3")]
    with pytest.raises(ProtocolError):
        server.receive_data(ready_client().send(GOOD_CALL))  # not confirmed yet


@pytest.mark.parametrize(
    ("role", "steps"),
    [
        # client: the server confirms a version the client did not ask for
        (Role.CLIENT, [GAP_WELCOME_BYTES, Version("1.3"), b'<?scscp version="1.2" ?>\n']),
        # client: a version line before the client asked for one
        (Role.CLIENT, [GAP_WELCOME_BYTES, b'<?scscp version="1.3" ?>\n']),
        (Role.CLIENT, [b'<?scscp version="1.3" ?>\n']),
        # client: a second welcome after the client asked for a version
        (Role.CLIENT, [GAP_WELCOME_BYTES, Version("1.3"), GAP_WELCOME_BYTES]),
        # server: a welcome from the client, a version before the server's welcome
        (Role.SERVER, [GAP_WELCOME, GAP_WELCOME_BYTES]),
        (Role.SERVER, [b'<?scscp version="1.3" ?>\n']),
        (Role.SERVER, [GAP_WELCOME, b'<?scscp version="1.3" ?>\n', Version("1.3"),
                       b'<?scscp version="1.3" ?>\n']),
    ],
)  # fmt: skip
def test_receive_out_of_order(role: Role, steps: list[bytes | Event]) -> None:
    conn = Connection(role)
    *setup, last = steps
    for step in setup:
        if isinstance(step, bytes):
            conn.receive_data(step)
        else:
            conn.send(step)
    assert isinstance(last, bytes)
    with pytest.raises(ProtocolError):
        conn.receive_data(last)


def _server_after_welcome() -> Connection:
    server = Connection(Role.SERVER)
    server.send(GAP_WELCOME)
    return server


def _client_after_welcome() -> Connection:
    client = Connection(Role.CLIENT)
    client.receive_data(GAP_WELCOME_BYTES)
    return client


def _closed_client() -> Connection:
    client = ready_client()
    client.send(Quit())
    return client


@pytest.mark.parametrize(
    ("make", "event"),
    [
        (ready_server, GOOD_CALL),
        (ready_server, Terminate("x")),
        (ready_server, GAP_WELCOME),
        (ready_server, Version("1.3")),
        (ready_client, GAP_COMPLETED),
        (ready_client, GAP_TERMINATED),
        (ready_client, GAP_WELCOME),
        (lambda: Connection(Role.CLIENT), Version("1.3")),
        (lambda: Connection(Role.CLIENT), GOOD_CALL),
        (lambda: Connection(Role.CLIENT), Terminate("x")),
        (_client_after_welcome, GOOD_CALL),
        (lambda: Connection(Role.SERVER), Version("1.3")),
        (lambda: Connection(Role.SERVER), GAP_COMPLETED),
        (_server_after_welcome, GAP_COMPLETED),
        (_server_after_welcome, Version("9.9")),
        (_closed_client, GOOD_CALL),
        (_closed_client, Quit()),
        (ready_client, ConnectionClosed()),
        (ready_client, BadMessage("no")),
    ],
)
def test_send_out_of_order(make: Callable[[], Connection], event: Event) -> None:
    conn = make()
    before = conn.state
    with pytest.raises(ProtocolError):
        conn.send(event)
    assert conn.state is before


def call_with_pairs(*pairs: tuple[OMSymbol, OMAny]) -> OMAttribution:
    body = OMApplication(
        OMSymbol("scscp1", "procedure_call"), (OMApplication(proc("F"), (OMInteger(1),)),)
    )
    return OMAttribution(((CALL_ID, OMString("bad1")), *pairs), body)


RETURN_OBJECT = (OMSymbol("scscp1", "option_return_object"), OMString(""))
RETURN_NOTHING = (OMSymbol("scscp1", "option_return_nothing"), OMString(""))


@pytest.mark.parametrize(
    ("payload", "call_id"),
    [
        (b"<OMOBJ><OMI>1</OMI>", None),  # invalid XML
        (b"not xml at all", None),
        (b'<OMOBJ xmlns="http://www.openmath.org/OpenMath"><OMI>1</OMI></OMOBJ>', None),
        (encode(OMApplication(OMSymbol("scscp1", "procedure_call"), ())), None),
        (encode(OMAttribution(((CALL_ID, OMInteger(1)),), OMInteger(1))), None),
        (encode(OMAttribution(((CALL_ID, OMString("q")),), OMInteger(1))), "q"),
        (encode(call_with_pairs(RETURN_OBJECT, RETURN_NOTHING)), "bad1"),
        (encode(call_with_pairs((OMSymbol("scscp1", "option_runtime"), OMString("5")),)),
         "bad1"),
        (encode(call_with_pairs((OMSymbol("scscp1", "option_runtime"), OMInteger(-5)),)),
         "bad1"),
        (encode(OMAttribution(((CALL_ID, OMString("w")),),
                              OMApplication(OMSymbol("scscp1", "procedure_call"),
                                            (OMInteger(1),)))), "w"),
        (encode(OMAttribution(((CALL_ID, OMString("k")),),
                              OMApplication(OMSymbol("scscp2", "store_session"), ()))), "k"),
        (REPLY_OBJ, "abc"),  # GAP's procedure_completed, sent to a server
    ],
)  # fmt: skip
def test_bad_message_keeps_the_session(payload: bytes, call_id: str | None) -> None:
    server = ready_server()
    events = server.receive_data(frame(payload) + frame(encode(call_with_pairs(RETURN_OBJECT))))
    assert len(events) == 2
    bad, good = events
    assert isinstance(bad, BadMessage) and bad.reason
    assert bad.call_id == call_id
    assert good == ProcedureCall("bad1", proc("F"), (OMInteger(1),), ReturnMode.OBJECT)
    assert server.state is State.READY


def reply(head: str, *args: OMAny) -> OMAttribution:
    return OMAttribution(((CALL_ID, OMString("r")),), OMApplication(OMSymbol("scscp1", head), args))


@pytest.mark.parametrize(
    ("obj", "call_id"),
    [
        (reply("procedure_completed", OMInteger(1), OMInteger(2)), "r"),
        (reply("procedure_terminated", OMString("no OME")), "r"),
        (reply("procedure_terminated"), "r"),
        (call_with_pairs(RETURN_OBJECT), "bad1"),  # a call sent to a client
    ],
)
def test_client_bad_replies(obj: OMAny, call_id: str) -> None:
    client = ready_client()
    bad, ok = client.receive_data(block(obj) + GAP_REPLY)
    assert isinstance(bad, BadMessage) and bad.call_id == call_id
    assert ok == GAP_COMPLETED
