"""The IRC server fixtures and the scripted peer, against the real servers.

Each scenario is a coroutine over Deferreds, run on the ``reactor`` fixture (every
backend).  Servers are shared across tests (session fixtures); nicks and channels are
unique per test so that the tests do not see each other.  A test that stops or pauses
a server uses a ``fresh_*`` fixture.
"""

from __future__ import annotations

import base64
import itertools
import ssl

import pytest

from logbot.reactor import error
from logbot.reactor.defer import Deferred
from tests.conftest import BACKENDS
from tests.ircd import fixtures, servers
from tests.ircd.peer import (
    ExpectTimeout,
    PeerDisconnected,
    RegistrationFailed,
    connect,
    connect_all,
    parse,
)

_ids = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


def run(run_until, coro, timeout: float = 20.0):
    return run_until(Deferred.fromCoroutine(coro), timeout)


def command_is(*commands: str):
    def check(line: str) -> bool:
        return parse(line).command in commands

    check.__name__ = f"command in {commands}"
    return check


# InspIRCd registers a client only in its housekeeping, about 1 s after the client's
# last line, so each InspIRCd test costs a second.  Every reactor backend is run
# against ngIRCd; against InspIRCd one backend is enough to test the fixtures.
ONE_BACKEND = [BACKENDS[0]]
one_backend = pytest.mark.parametrize("reactor", ONE_BACKEND, indirect=True)


def across(*names: str):
    """Parametrise a test over servers (fixture names) and backends, as said above."""
    combos = [
        (backend, name)
        for name in names
        for backend in (BACKENDS if name == "ngircd" else ONE_BACKEND)
    ]
    return pytest.mark.parametrize(
        ("reactor", "server_name"),
        combos,
        indirect=["reactor"],
        ids=[f"{b}-{n}" for b, n in combos],
    )


@pytest.fixture
def server(request, server_name):
    return request.getfixturevalue(server_name)


# -- chat between two peers -----------------------------------------------------------


@across("ngircd", "inspircd")
def test_two_peers_join_and_exchange_privmsg(reactor, run_until, server):
    channel = "#" + unique("chat")

    async def scenario():
        alice, bob = await connect_all(reactor, server, [unique("alice"), unique("bob")])
        alice.send(f"JOIN {channel}")
        await alice.expect(rf"^:{alice.nick}!\S+ JOIN :?{channel}$")
        bob.send(f"JOIN {channel}")
        await bob.expect(rf" JOIN :?{channel}$")
        await alice.expect(rf"^:{bob.nick}!\S+ JOIN :?{channel}$")
        alice.send(f"PRIVMSG {channel} :hello from alice \u00e9")
        line = await bob.expect(rf" PRIVMSG {channel} :")
        assert parse(line).params == [channel, "hello from alice \u00e9"]
        assert parse(line).source.startswith(alice.nick + "!")
        bob.send(f"PRIVMSG {alice.nick} :private reply")
        line = await alice.expect(r" PRIVMSG \S+ :private reply$")
        assert parse(line).params[0] == alice.nick
        await alice.quit()
        await bob.expect(rf"^:{alice.nick}!\S+ QUIT")
        await bob.quit()

    run(run_until, scenario())


def test_registration_refused_on_nick_in_use(reactor, run_until, ngircd):
    nick = unique("taken")

    async def scenario():
        first = await connect(reactor, ngircd, nick)
        with pytest.raises(RegistrationFailed, match=" 433 "):
            await connect(reactor, ngircd, nick)
        await first.quit()

    run(run_until, scenario())


def test_expect_sees_unread_lines_and_times_out_with_them(reactor, run_until, ngircd):
    async def scenario():
        peer = await connect(reactor, ngircd, unique("exp"))
        # The MOTD arrived right after 001: it is unread, so expect finds it at once.
        await peer.expect(command_is("376", "422"), timeout=5)
        with pytest.raises(ExpectTimeout, match="no line matched /never/ within 0.2 s"):
            await peer.expect("never", timeout=0.2)
        peer.send("PING :marker")
        assert parse(await peer.expect("marker")).command == "PONG"
        with pytest.raises(RuntimeError, match="still pending"):
            pending = peer.expect("never again", timeout=5)
            peer.expect("second")
        pending.cancel()
        await peer.quit()
        with pytest.raises(PeerDisconnected):
            await peer.expect("anything")

    run(run_until, scenario())


@across("ngircd", "inspircd", "inspircd_anope")
def test_oper_credentials(reactor, run_until, server):
    async def scenario():
        peer = await connect(reactor, server, unique("op"))
        peer.send("OPER {} {}".format(*server.oper))
        assert parse(await peer.expect(command_is("381", "491", "464"))).command == "381"
        await peer.quit()

    run(run_until, scenario())


# -- TLS --------------------------------------------------------------------------------


@across("ngircd", "inspircd", "inspircd_anope")
def test_tls_verified_against_the_test_ca(reactor, run_until, server):
    async def scenario():
        peer = await connect(reactor, server, unique("tls"), tls=True)
        cert = peer.transport.getPeerCertificate()
        assert ("IP Address", "127.0.0.1") in cert["subjectAltName"]
        peer.send("PING :over-tls")
        await peer.expect("over-tls")
        await peer.quit()

    run(run_until, scenario())


def test_tls_fails_without_the_test_ca(reactor, run_until, ngircd):
    # The system's trust store does not know the per-start CA: verification must fail.
    with pytest.raises(error.TLSError, match="certificate verify failed"):
        run(run_until, _connect_default_trust(reactor, ngircd))


async def _connect_default_trust(reactor, server):
    return await connect(
        reactor, server, unique("untrusted"), tls=True, context=ssl.create_default_context()
    )


# -- services: CAP, SASL ------------------------------------------------------------


async def _sasl(
    reactor, server, mechanism: str, payload: str | None, tls: bool = False, context=None
):
    """A raw SASL exchange; returns the numeric that ended it (903, 904, ...)."""
    peer = await connect(reactor, server, unique("sasl"), tls=tls, register=False, context=context)
    peer.send("CAP LS 302")
    ls = await peer.expect(r" CAP \S+ LS ")
    assert "sasl" in ls
    peer.send("CAP REQ :sasl")
    await peer.expect(r" CAP \S+ ACK :?sasl")
    peer.send(f"AUTHENTICATE {mechanism}")
    await peer.expect(r"^AUTHENTICATE :?\+$")
    peer.send("AUTHENTICATE " + (payload or "+"))
    end = await peer.expect(command_is("903", "904", "905", "906", "907", "908"))
    peer.send("CAP END")
    peer.send(f"NICK {peer.nick}")
    peer.send(f"USER {peer.nick} 0 * :sasl test")
    await peer.expect(command_is("001"))
    await peer.quit()
    return peer, end


def _plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


@one_backend
def test_cap_ls_offers_sasl_on_inspircd_anope(reactor, run_until, inspircd_anope):
    async def scenario():
        peer = await connect(reactor, inspircd_anope, unique("cap"), register=False)
        peer.send("CAP LS 302")
        line = await peer.expect(r" CAP \S+ LS ")
        caps = dict(c.partition("=")[::2] for c in parse(line).params[-1].split())
        assert "PLAIN" in caps["sasl"].split(","), caps
        assert "EXTERNAL" in caps["sasl"].split(","), caps
        await peer.quit()

    run(run_until, scenario())


@one_backend
def test_sasl_plain_success_and_failure(reactor, run_until, inspircd_anope):
    async def scenario():
        (good, ok), (_, bad) = await _gather(
            _sasl(
                reactor,
                inspircd_anope,
                "PLAIN",
                _plain("testbot", inspircd_anope.accounts["testbot"]),
            ),
            _sasl(reactor, inspircd_anope, "PLAIN", _plain("testbot", "wrongpass")),
        )
        assert parse(ok).command == "903", good.lines
        assert any(parse(x).command == "900" and "testbot" in x for x in good.lines)
        assert parse(bad).command == "904"

    run(run_until, scenario())


@one_backend
def test_sasl_external_with_client_certificate(reactor, run_until, inspircd_anope):
    async def scenario():
        peer, end = await _sasl(
            reactor,
            inspircd_anope,
            "EXTERNAL",
            None,
            tls=True,
            context=inspircd_anope.client_context("testbot"),
        )
        assert parse(end).command == "903", peer.lines

    run(run_until, scenario())


async def _gather(*coros):
    from logbot.reactor.defer import gatherResults

    return await gatherResults([Deferred.fromCoroutine(c) for c in coros], consumeErrors=True)


# -- flood settings ---------------------------------------------------------------------


def _burst(target: str, count: int) -> bytes:
    return b"".join(
        f"PRIVMSG {target} :flood line {i:04d} {'x' * 80}\r\n".encode() for i in range(count)
    )


@across("ngircd", "inspircd")
def test_flood_off_delivers_a_burst_intact(reactor, run_until, server):
    async def scenario():
        sender, receiver = await connect_all(reactor, server, [unique("fs"), unique("fr")])
        sender.send_raw(_burst(receiver.nick, 1000))  # about 100 KB at once
        await receiver.expect("flood line 0999", timeout=5)
        got = [x for x in receiver.lines if " :flood line " in x]
        assert len(got) == 1000
        await sender.quit()
        await receiver.quit()

    run(run_until, scenario())


@one_backend
def test_default_flood_limits_kill_a_flooder(reactor, run_until, inspircd_flood):
    async def scenario():
        peer = await connect(reactor, inspircd_flood, unique("flooder"))
        peer.send_raw(_burst(peer.nick, 300))
        line = await peer.expect(r"^ERROR ", timeout=10)
        assert "RecvQ exceeded" in line or "Excess Flood" in line, line

    run(run_until, scenario())


def test_scaled_flood_is_the_default_with_a_faster_command_rate(
    inspircd_flood, inspircd_flood_scaled, tmp_path
):
    """Flood mode "scaled" changes InspIRCd's command rate and nothing else."""

    def flood_lines(server):
        text = (server.workdir / "inspircd.conf").read_text()
        connect = text[text.index("<connect ") :]
        connect = connect[: connect.index(">") + 1]
        performance = next(ln for ln in text.splitlines() if ln.startswith("<performance "))
        return connect, performance

    default, scaled = flood_lines(inspircd_flood), flood_lines(inspircd_flood_scaled)
    assert 'threshold="10" commandrate="1000" fakelag="yes"' in default[0]
    assert 'recvq="10K"' in default[0] and 'netbuffersize="10240"' in default[1]
    rate = f'commandrate="{1000 * servers.FLOOD_SPEEDUP}"'
    assert scaled == (default[0].replace('commandrate="1000"', rate), default[1])
    with pytest.raises(ValueError, match="scaled"):
        servers.IRCServer("ngircd", tmp_path, flood="scaled")


# -- stop, pause, restart -------------------------------------------------------------


def test_pause_and_resume(reactor, run_until, fresh_ngircd):
    async def scenario():
        peer = await connect(reactor, fresh_ngircd, unique("p"))
        fresh_ngircd.pause()
        peer.send("PING :while-paused")
        with pytest.raises(ExpectTimeout):
            await peer.expect("while-paused", timeout=0.3)
        fresh_ngircd.resume()
        await peer.expect("while-paused", timeout=5)
        await peer.quit()

    run(run_until, scenario())


def test_stop_closes_connections_and_restart_uses_the_same_ports(reactor, run_until, fresh_ngircd):
    ports = (fresh_ngircd.port, fresh_ngircd.tls_port)

    async def scenario():
        peer = await connect(reactor, fresh_ngircd, unique("s"))
        fresh_ngircd.stop()
        assert not fresh_ngircd.running
        await peer.closed
        fresh_ngircd.start()
        assert (fresh_ngircd.port, fresh_ngircd.tls_port) == ports
        again = await connect(reactor, fresh_ngircd, unique("s"), tls=True)
        fresh_ngircd.kill()
        await again.closed

    run(run_until, scenario())


def test_shared_servers_refuse_stop_and_pause(ngircd):
    with pytest.raises(RuntimeError, match="fresh_ngircd"):
        ngircd.stop()
    with pytest.raises(RuntimeError, match="fresh_ngircd"):
        ngircd.pause()
    assert ngircd.running


# -- the fixture machinery ----------------------------------------------------------


def test_missing_binary_fails_naming_the_package(monkeypatch, tmp_path_factory):
    monkeypatch.setattr(servers, "find_binary", lambda name: None)
    monkeypatch.setattr(fixtures, "missing_packages", servers.missing_packages)
    monkeypatch.delenv(fixtures.SKIP_ENV, raising=False)
    with pytest.raises(pytest.fail.Exception, match="apt-get install .*inspircd anope"):
        fixtures._start("inspircd-anope", tmp_path_factory)
    monkeypatch.setenv(fixtures.SKIP_ENV, "1")
    with pytest.raises(pytest.skip.Exception, match="ngircd"):
        fixtures._start("ngircd", tmp_path_factory)
    with pytest.raises(servers.ServerMissing, match="apt-get install"):
        servers.IRCServer("ngircd", tmp_path_factory.mktemp("missing")).start()


def test_start_failure_reports_the_log_tail(tmp_path, monkeypatch):
    server = servers.IRCServer("inspircd", tmp_path, start_timeout=10)
    real_render = servers._render

    def broken(template, values):
        text = real_render(template, values)
        return text + "\n<this is not valid config\n" if template == "inspircd.conf.in" else text

    monkeypatch.setattr(servers, "_render", broken)
    with pytest.raises(servers.ServerStartError, match=r"exited with status .*\n.*inspircd"):
        server.start()
    assert not server.running


def test_configs_listen_on_loopback_only(ngircd, inspircd_anope):
    for path in ngircd.workdir.glob("*.conf"):
        text = path.read_text()
        assert "0.0.0.0" not in text and "Listen = 127.0.0.1" in text
    text = (inspircd_anope.workdir / "inspircd.conf").read_text()
    binds = [line for line in text.splitlines() if line.startswith("<bind ")]
    assert len(binds) == 3 and all('address="127.0.0.1"' in b for b in binds)
