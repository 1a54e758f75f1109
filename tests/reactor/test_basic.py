"""LineReceiver: framing, limits, mode switches, and the seed's Chat server."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from logbot.reactor.basic import LineReceiver
from logbot.reactor.testing import StringTransport, StringTransportWithDisconnection
from tests.reactor.seed_chat import ChatFactory


class Recorder(LineReceiver):
    """Keeps every event; optional hooks let a test act from inside a callback."""

    def __init__(self, on_line=None, on_raw=None):
        self.lines: list[bytes] = []
        self.raw: list[bytes] = []
        self.too_long: list[bytes] = []
        self.on_line = on_line
        self.on_raw = on_raw

    def lineReceived(self, line):
        self.lines.append(line)
        if self.on_line:
            return self.on_line(self, line)

    def rawDataReceived(self, data):
        self.raw.append(data)
        if self.on_raw:
            return self.on_raw(self, data)

    def lineLengthExceeded(self, line):
        self.too_long.append(line)


def connected(proto, transport=None):
    transport = transport or StringTransport()
    proto.makeConnection(transport)
    return proto, transport


def chunks_of(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges) if b > a]


# -- framing ----------------------------------------------------------------------------


def test_many_lines_in_one_chunk_and_the_tail_is_kept():
    p, _ = connected(Recorder())
    p.dataReceived(b"a\r\nbb\r\n\r\nccc\r\npartial")
    assert p.lines == [b"a", b"bb", b"", b"ccc"]
    p.dataReceived(b" line\r\n")
    assert p.lines[-1] == b"partial line"


def test_a_line_fed_byte_by_byte():
    p, _ = connected(Recorder())
    for i in range(len(b"PING :x\r\nPONG\r\n")):
        p.dataReceived(b"PING :x\r\nPONG\r\n"[i : i + 1])
    assert p.lines == [b"PING :x", b"PONG"]


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=20).filter(lambda b: b"\r\n" not in b), max_size=15),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=20),
)
def test_any_chunking_gives_the_same_lines(lines, cuts):
    stream = b"".join(line + b"\r\n" for line in lines)
    p, _ = connected(Recorder())
    for chunk in chunks_of(stream, cuts):
        p.dataReceived(chunk)
    assert p.lines == lines
    assert p.clearLineBuffer() == b""


def test_custom_delimiter():
    class Newline(Recorder):
        delimiter = b"\n"

    p, t = connected(Newline())
    p.dataReceived(b"one\ntwo\r\nthr")
    p.dataReceived(b"ee\n")
    assert p.lines == [b"one", b"two\r", b"three"]
    p.sendLine(b"out")
    assert t.value() == b"out\n"


def test_send_line_is_one_write():
    writes = []

    class Counting(StringTransport):
        def write(self, data):
            writes.append(data)

    p, _ = connected(Recorder(), Counting())
    p.sendLine(b"PRIVMSG #c :hi")
    assert writes == [b"PRIVMSG #c :hi\r\n"]


# -- limits -----------------------------------------------------------------------------


def test_complete_overlong_line_goes_to_lineLengthExceeded_and_the_rest_is_delivered():
    class Short(Recorder):
        MAX_LENGTH = 8

    p, _ = connected(Short())
    p.dataReceived(b"ok\r\n" + b"x" * 9 + b"\r\nafter\r\n")
    assert p.too_long == [b"x" * 9]
    assert p.lines == [b"ok", b"after"]


def test_a_line_of_exactly_MAX_LENGTH_is_a_line():
    class Short(Recorder):
        MAX_LENGTH = 8

    p, _ = connected(Short())
    p.dataReceived(b"y" * 8 + b"\r")  # the delimiter is split across chunks
    p.dataReceived(b"\n")
    assert p.lines == [b"y" * 8] and p.too_long == []


def test_overlong_tail_without_delimiter_keeps_the_buffer_bounded():
    class Short(Recorder):
        MAX_LENGTH = 100

    p, _ = connected(Short())
    chunk = b"z" * 37
    for _ in range(1000):  # 37 KB with no delimiter at all
        p.dataReceived(chunk)
        assert len(p._buffer) <= Short.MAX_LENGTH + len(chunk)
    assert len(p.too_long) == 1  # reported once, the rest of the line is discarded
    assert p.lines == []
    p.dataReceived(b"zz\r\nnext\r\n")  # the overlong line ends; framing goes on
    assert p.lines == [b"next"]


def test_overlong_line_whose_delimiter_is_split_across_chunks():
    class Short(Recorder):
        MAX_LENGTH = 4

    p, _ = connected(Short())
    p.dataReceived(b"abcdefgh\r")
    p.dataReceived(b"\nnext\r\n")
    assert p.too_long == [b"abcdefgh\r"]
    assert p.lines == [b"next"]


def test_default_lineLengthExceeded_closes_and_stops_delivery():
    class Short(LineReceiver):
        MAX_LENGTH = 4

        def __init__(self):
            self.lines = []

        def lineReceived(self, line):
            self.lines.append(line)

    p, t = connected(Short())
    p.dataReceived(b"ok\r\ntoolong\r\nnever\r\n")
    assert t.disconnecting
    assert p.lines == [b"ok"]


# -- mode switches, disconnects, re-entrancy --------------------------------------------


def test_raw_mode_mid_chunk_then_back_with_extra():
    def on_line(p, line):
        if line == b"RAW":
            p.setRawMode()

    def on_raw(p, data):
        body, _, extra = data.partition(b"|")
        p.raw[-1] = body
        p.setLineMode(extra)

    p, _ = connected(Recorder(on_line, on_raw))
    p.dataReceived(b"a\r\nRAW\r\nbinary\r\nstuff|b\r\nc\r\n")
    assert p.raw == [b"binary\r\nstuff"]
    assert p.lines == [b"a", b"RAW", b"b", b"c"]


class Sized(LineReceiver):
    """Lines, except that ``BLOB <n>`` is followed by n raw bytes (like a DCC offer)."""

    def __init__(self):
        self.events: list[tuple[str, bytes]] = []
        self.remaining = 0
        self.blob = b""

    def lineReceived(self, line):
        self.events.append(("line", line))
        if line.startswith(b"BLOB "):
            self.remaining = int(line[5:])
            self.setRawMode()

    def rawDataReceived(self, data):
        take = data[: self.remaining]
        self.blob += take
        self.remaining -= len(take)
        if self.remaining == 0:
            self.events.append(("blob", self.blob))
            self.blob = b""
            self.setLineMode(data[len(take) :])


line_bytes = st.binary(max_size=12).filter(lambda b: b"\r\n" not in b and not b.startswith(b"BLOB"))
items = st.one_of(
    line_bytes.map(lambda b: ("line", b)),
    st.binary(min_size=1, max_size=30).map(lambda b: ("blob", b)),
)


@settings(max_examples=200, deadline=None)
@given(
    stream_items=st.lists(items, max_size=12),
    cuts=st.lists(st.integers(0, 10_000), max_size=25),
)
def test_mode_switches_mid_chunk_do_not_depend_on_chunking(stream_items, cuts):
    stream, expected = b"", []
    for kind, payload in stream_items:
        if kind == "line":
            stream += payload + b"\r\n"
            expected.append(("line", payload))
        else:
            header = b"BLOB %d" % len(payload)
            stream += header + b"\r\n" + payload
            expected += [("line", header), ("blob", payload)]
    p, _ = connected(Sized())
    for chunk in chunks_of(stream, cuts):
        p.dataReceived(chunk)
    assert p.events == expected


def test_raw_mode_gets_later_chunks_whole():
    p, _ = connected(Recorder(on_line=lambda p, line: p.setRawMode()))
    p.dataReceived(b"go\r\nx\r\n")
    p.dataReceived(b"y\r\nz")
    assert p.lines == [b"go"]
    assert p.raw == [b"x\r\n", b"y\r\nz"]


def test_disconnect_mid_chunk_stops_delivery():
    def on_line(p, line):
        if line == b"QUIT":
            p.transport.loseConnection()

    p, t = connected(Recorder(on_line))
    p.dataReceived(b"a\r\nQUIT\r\nb\r\nc\r\n")
    assert t.disconnecting
    assert p.lines == [b"a", b"QUIT"]
    p.dataReceived(b"d\r\n")
    assert p.lines == [b"a", b"QUIT"]


def test_true_return_value_stops_delivery_and_is_returned():
    p, _ = connected(Recorder(on_line=lambda p, line: "stop" if line == b"2" else None))
    assert p.dataReceived(b"1\r\n2\r\n3\r\n") == "stop"
    assert p.lines == [b"1", b"2"]
    assert p.clearLineBuffer() == b"3\r\n"


def test_clearLineBuffer_inside_lineReceived_takes_the_rest_of_the_chunk():
    taken = []

    def on_line(p, line):
        if line == b"STARTTLS":
            taken.append(p.clearLineBuffer())

    p, _ = connected(Recorder(on_line))
    p.dataReceived(b"a\r\nSTARTTLS\r\nb\r\nc\r\ntail")
    assert p.lines == [b"a", b"STARTTLS"]
    assert taken == [b"b\r\nc\r\ntail"]
    assert p.clearLineBuffer() == b""


def test_dataReceived_re_entered_from_lineReceived_keeps_order():
    def on_line(p, line):
        if line == b"inject":
            p.dataReceived(b"injected\r\npart")

    p, _ = connected(Recorder(on_line))
    p.dataReceived(b"inject\r\nafter\r\nx")
    p.dataReceived(b"y\r\n")
    # The injected bytes come after the bytes already received, tail included.
    assert p.lines == [b"inject", b"after", b"xinjected", b"party"]


# -- the seed's Chat server, ported to bytes, over StringTransports ----------------------


def join(factory):
    transport = StringTransportWithDisconnection()
    proto = factory.buildProtocol(transport.getPeer())
    transport.protocol = proto
    proto.makeConnection(transport)
    return proto, transport


def test_chat_two_users_a_taken_name_and_relay():
    factory = ChatFactory()
    alice, ta = join(factory)
    bob, tb = join(factory)
    assert ta.value() == tb.value() == b"What's your name?\r\n"
    ta.clear(), tb.clear()

    alice.dataReceived(b"alice\r\n")
    bob.dataReceived(b"alice\r\nbob\r\n")  # taken, then another
    assert ta.value() == b"Welcome, alice!\r\n"
    assert tb.value() == b"Name taken, please choose another.\r\nWelcome, bob!\r\n"
    assert set(factory.users) == {b"alice", b"bob"}
    ta.clear(), tb.clear()

    alice.dataReceived(b"hi bob\r\n")
    assert tb.value() == b"<alice> hi bob\r\n"
    assert ta.value() == b""  # nobody hears their own message

    tb.loseConnection()
    assert set(factory.users) == {b"alice"}
    alice.dataReceived(b"anyone?\r\n")
    assert tb.value() == b"<alice> hi bob\r\n"
