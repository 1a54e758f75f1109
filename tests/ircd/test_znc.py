"""The ZNC bouncer fixture, against a real InspIRCd as the upstream.

Each test starts its own InspIRCd (``fresh_inspircd``) and ZNC (``znc_factory``): what
is checked is ZNC's per-user state (its channel buffers, whether a client is attached).
The clients are scripted peers (tests/ircd/peer.py) on one reactor backend: this tests
the bouncer, not the backends, and every test pays InspIRCd's 1 s registration.

Nothing sleeps to synchronise.  Lines said on the upstream while no client is attached
are known to be in ZNC's buffer once ZNC has answered a CTCP PING sent after them (it
answers that itself while detached, and reads the upstream in order); a playback is
known to be complete when the client's PING, sent after login, is answered.
"""

from __future__ import annotations

import itertools
import re
from types import SimpleNamespace

import pytest

from logbot.reactor.defer import Deferred, gatherResults
from tests.conftest import BACKENDS
from tests.ircd import znc, znc_fixtures
from tests.ircd.fixtures import SKIP_ENV
from tests.ircd.peer import Peer, connect, parse
from tests.ircd.test_servers import command_is, run

one_backend = pytest.mark.parametrize("reactor", [BACKENDS[0]], indirect=True)

CHANNEL = "#h"
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_ids = itertools.count(1)


def tags_of(line: str) -> dict[str, str]:
    tags = parse(line).tags or ""
    return dict(tag.partition("=")[::2] for tag in tags.split(";") if tag)


async def attach(reactor, bouncer, caps=("batch", "server-time")) -> Peer:
    """A client logged in to the bouncer (001 seen), with ``caps`` acknowledged."""
    client = await connect(reactor, bouncer, bouncer.nick, register=False)
    if caps:
        client.send("CAP REQ :" + " ".join(caps))
    client.send(f"PASS {bouncer.login}")
    client.send(f"NICK {bouncer.nick}")
    client.send(f"USER {bouncer.nick} 0 * :client behind the bouncer")
    if caps:
        ack = await client.expect(r" CAP \S+ (ACK|NAK) ")
        assert " ACK " in ack, ack
        client.send("CAP END")
    await client.expect(command_is("001"))
    return client


async def speaker_in(reactor, server, channel: str = CHANNEL) -> Peer:
    """A peer on the upstream server itself, in ``channel``."""
    speaker = await connect(reactor, server, "speaker")
    speaker.send(f"JOIN {channel}")
    await speaker.expect(command_is("366"))
    return speaker


async def znc_has_read(speaker: Peer, bouncer) -> None:
    """Wait until ZNC (with no client attached) has read all ``speaker`` sent so far."""
    token = f"barrier{next(_ids)}"
    speaker.send(f"PRIVMSG {bouncer.nick} :\x01PING {token}\x01")
    await speaker.expect(rf"^:{bouncer.nick}!\S+ NOTICE {speaker.nick} :\x01PING {token}\x01")


async def playback(client: Peer, channel: str = CHANNEL) -> list[str]:
    """The lines of the ``znc.in/playback`` batch for ``channel``, checked to be
    framed by ``BATCH +ref``/``BATCH -ref`` and each tagged with that batch and a
    ``time`` no later than the batch's own (they are replayed, with their old times)."""
    start = await client.expect(rf" BATCH \+(\S+) znc\.in/playback {re.escape(channel)}$")
    assert client.match is not None
    ref = client.match.group(1)
    end = await client.expect(rf" BATCH -{re.escape(ref)}$")
    lines = client.lines[client.lines.index(start) + 1 : client.lines.index(end)]
    opened = tags_of(start)["time"]
    times = []
    for line in lines:
        tags = tags_of(line)
        assert tags.get("batch") == ref, line
        assert TIME.fullmatch(tags.get("time", "")), line
        assert tags["time"] <= opened, (line, opened)
        times.append(tags["time"])
    assert times == sorted(times), lines
    return lines


async def no_playback(client: Peer) -> None:
    """Assert that the attach brought no playback batch: a PING sent after login is
    answered only after whatever ZNC sends on attach."""
    client.send("PING :attach-done")
    await client.expect(r" PONG .*attach-done")
    assert not [line for line in client.lines if " BATCH " in line], client.lines


def said(lines: list[str]) -> list[tuple[str, str, str]]:
    """(nick, target, text) of each PRIVMSG."""
    out = []
    for line in lines:
        msg = parse(line)
        assert msg.command == "PRIVMSG", line
        out.append((msg.source.split("!")[0], msg.params[0], msg.params[1]))
    return out


# -- through the bouncer ----------------------------------------------------------


@one_backend
def test_a_client_through_znc_is_in_the_channel(reactor, run_until, fresh_inspircd, znc_factory):
    bouncer = znc_factory(fresh_inspircd)
    assert (bouncer.host, bouncer.login) == ("127.0.0.1", f"bot/test:{bouncer.password}")

    async def scenario():
        client, speaker = await gatherResults(
            [
                Deferred.fromCoroutine(attach(reactor, bouncer, caps=())),
                connect(reactor, fresh_inspircd, "speaker"),
            ],
            consumeErrors=True,
        )
        # ZNC joined at start: on attach it tells the client so, with the names.
        await client.expect(rf"^:{bouncer.nick}!\S+ JOIN :?{CHANNEL}")
        names = await client.expect(command_is("353"))
        assert bouncer.nick in parse(names).params[-1].replace("@", "").split()
        await client.expect(command_is("366"))
        speaker.send(f"JOIN {CHANNEL}")
        await client.expect(rf"^:speaker!\S+ JOIN :?{CHANNEL}")
        speaker.send(f"PRIVMSG {CHANNEL} :hello, bouncer")
        line = await client.expect(" PRIVMSG ")
        assert said([line]) == [("speaker", CHANNEL, "hello, bouncer")]
        assert "batch" not in tags_of(line)  # live, not a playback
        client.send(f"PRIVMSG {CHANNEL} :hello from behind it")
        line = await speaker.expect(" PRIVMSG ")
        assert said([line]) == [(bouncer.nick, CHANNEL, "hello from behind it")]
        await client.quit()
        await speaker.quit()

    run(run_until, scenario())


@one_backend
def test_lines_said_while_detached_are_played_back_once(
    reactor, run_until, fresh_inspircd, znc_factory
):
    """AutoClearChanBuffer (the default): ZNC buffers while no client is attached,
    plays that back on the next attach, then forgets it."""
    bouncer = znc_factory(fresh_inspircd)
    texts = ["first", "second, with a comma", "third: \u00e9t\u00e9"]

    async def scenario():
        speaker = await speaker_in(reactor, fresh_inspircd)
        for text in texts:
            speaker.send(f"PRIVMSG {CHANNEL} :{text}")
        await znc_has_read(speaker, bouncer)

        client = await attach(reactor, bouncer)
        replayed = await playback(client)
        assert said(replayed) == [("speaker", CHANNEL, t) for t in texts]
        speaker.send(f"PRIVMSG {CHANNEL} :said while attached")
        live = await client.expect("said while attached")
        assert "batch" not in tags_of(live)
        await client.quit()

        again = await attach(reactor, bouncer)  # the buffer was cleared: nothing to play
        await no_playback(again)
        await again.quit()
        await speaker.quit()

    run(run_until, scenario())


@one_backend
def test_without_auto_clear_the_buffer_is_played_back_on_every_attach(
    reactor, run_until, fresh_inspircd, znc_factory
):
    """AutoClearChanBuffer off: ZNC keeps the last ChanBufferSize lines, also those
    said while a client was attached, and replays them on each attach."""
    bouncer = znc_factory(fresh_inspircd, auto_clear_chan_buffer=False, chan_buffer_size=3)
    texts = [f"line {i}" for i in range(1, 5)]

    async def scenario():
        client, speaker = await gatherResults(
            [
                Deferred.fromCoroutine(attach(reactor, bouncer)),
                Deferred.fromCoroutine(speaker_in(reactor, fresh_inspircd)),
            ],
            consumeErrors=True,
        )
        await no_playback(client)  # nothing was said before
        for text in texts:
            speaker.send(f"PRIVMSG {CHANNEL} :{text}")
        await client.expect(f"{texts[-1]}$")
        live = [line for line in client.lines if " PRIVMSG " in line]
        assert said(live) == [("speaker", CHANNEL, t) for t in texts]
        await client.quit()

        for _ in range(2):
            again = await attach(reactor, bouncer)
            replayed = await playback(again)
            assert said(replayed) == [("speaker", CHANNEL, t) for t in texts[-3:]]
            await again.quit()
        await speaker.quit()

    run(run_until, scenario())


# -- the bouncer's life -----------------------------------------------------------


@one_backend
def test_restart_keeps_port_and_login(reactor, run_until, fresh_inspircd, znc_factory):
    bouncer = znc_factory(fresh_inspircd)
    port, login, datadir = bouncer.port, bouncer.login, bouncer.datadir
    assert datadir is not None and (datadir / "configs" / "znc.conf").is_file()

    async def scenario():
        client = await attach(reactor, bouncer, caps=())
        bouncer.stop()
        await client.closed
        assert not bouncer.running and not datadir.exists()
        bouncer.start()
        assert (bouncer.port, bouncer.login) == (port, login)
        again = await attach(reactor, bouncer, caps=())
        await again.expect(rf"^:{bouncer.nick}!\S+ JOIN :?{CHANNEL}")
        bouncer.kill()
        await again.closed
        assert not bouncer.running and bouncer.datadir is None

    run(run_until, scenario())


def test_start_failure_reports_what_was_seen(tmp_path):
    """No upstream: ZNC accepts clients but never joins, and start() says so."""
    (closed_port,) = znc.free_ports(1)
    upstream = SimpleNamespace(host="127.0.0.1", port=closed_port)
    bouncer = znc.ZNCBouncer(upstream, tmp_path, start_timeout=1.0)
    with pytest.raises(znc.ZNCStartError) as failed:
        bouncer.start()
    message = str(failed.value)
    assert f"not in {CHANNEL} within 1 s" in message, message
    assert ":Welcome to ZNC" in message, message  # what the check client saw,
    assert re.search(r"Connection Refused.* \(x\d+\)", message), message  # repeats counted
    assert "Loading user [bot]" in message, message  # and ZNC's output
    assert not bouncer.running and bouncer.datadir is None
    assert bouncer.log.exists()


def test_config_listens_on_loopback_and_keeps_only_a_password_hash(tmp_path):
    upstream = SimpleNamespace(host="127.0.0.1", port=6667)
    bouncer = znc.ZNCBouncer(upstream, tmp_path, channels=("#a", "#b"), chan_buffer_size=900)
    text = bouncer.render_config()
    assert "Host = 127.0.0.1" in text and "IPv6 = false" in text
    assert bouncer.password not in text and "Method = SHA256" in text
    assert "<Chan #a>" in text and "<Chan #b>" in text
    assert "MaxBufferSize = 900" in text and "FloodRate = -1" in text
    assert "Server = 127.0.0.1 6667" in text


def test_missing_znc_fails_naming_the_package(monkeypatch, tmp_path_factory):
    monkeypatch.setattr(znc, "find_binary", lambda name: None)
    monkeypatch.delenv(SKIP_ENV, raising=False)
    upstream = SimpleNamespace(host="127.0.0.1", port=6667)
    with pytest.raises(pytest.fail.Exception, match="apt-get install .* znc'"):
        znc_fixtures._start(upstream, tmp_path_factory)
    monkeypatch.setenv(SKIP_ENV, "1")
    with pytest.raises(pytest.skip.Exception, match="znc"):
        znc_fixtures._start(upstream, tmp_path_factory)
    with pytest.raises(znc.ZNCMissing, match="apt-get install .* znc$"):
        znc.ZNCBouncer(upstream, tmp_path_factory.mktemp("missing")).start()
