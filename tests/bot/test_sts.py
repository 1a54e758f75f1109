"""STS in the bot, on a fake clock and scripted connections (tests/bot/fakes.py):

- a plain connection told ``port=P`` is dropped at once and the next attempt goes at
  once (no backoff, not a failure) to the same server with TLS on P, verified;
- a verified TLS connection's ``duration=N`` is stored for the config's host (in the
  data folder, read back by the next process), renewed at each connection,
  rescheduled when the connection ends, removed by ``duration=0``; one from a
  connection with ``verify: false`` is ignored; a pinned one counts as verified;
- while a policy holds, a ``tls: false`` server is connected with TLS on its port (said
  once, at warning, with the date), and a ``verify: false`` one verified; once it has
  expired, the config is followed again.
"""

from __future__ import annotations

import json
import logging
import ssl
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from logbot.bot.sts_store import STS_FILE, StsStore
from logbot.config.pins import CERTIFICATE, CertPin
from logbot.config.settings import ReconnectOptions, ServerConfig
from tests.bot.fakes import WALL0, Harness, network

HOST = "irc.example.org"
PLAIN = ServerConfig(HOST, 6667)
OTHER = ServerConfig("irc2.example.org", 6667)
BACKOFF = ReconnectOptions(initial_delay=4, max_delay=60, factor=2, jitter=0)


def harness(tmp_path: Path, *servers: ServerConfig) -> Harness:
    h = Harness(network(servers=servers or (PLAIN, OTHER), reconnect=BACKOFF))
    h.bot.sts.store = store(tmp_path, h)
    return h


def store(tmp_path: Path, h: Harness) -> StsStore:
    return StsStore(tmp_path / "data", lambda: WALL0 + h.reactor.seconds())


def context(h: Harness) -> ssl.SSLContext:
    """The TLS context of the last TLS attempt."""
    return h.reactor.sslClients[-1][3]


def test_a_plain_connection_told_to_upgrade_reconnects_at_once_with_tls(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.start()
    h.connect()
    h.sent()
    h.feed(f":{HOST} CAP * LS :sasl sts=port=6697,duration=300 server-time")
    assert h.transport is not None and h.transport.disconnecting  # dropped at once
    h.lose()
    assert h.bot.retries == 0 and h.bot.delay == BACKOFF.initial_delay / BACKOFF.factor
    assert h.reactor.sslClients == []
    h.reactor.advance(0)  # at once: no backoff delay
    assert [c[:2] for c in h.reactor.sslClients] == [(HOST, 6697)]  # the same server
    ctx = context(h)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    # a plain connection's duration is not a policy: nothing stored
    assert not (tmp_path / "data" / STS_FILE).exists()
    assert h.bot.sts.store.policy(HOST) is None
    assert h.bot.stats.log_failures == 0


def test_the_upgrade_sends_nothing_more_after_the_listing(tmp_path: Path) -> None:
    h = harness(tmp_path)
    h.start()
    h.connect()
    h.sent()
    h.feed(f":{HOST} CAP * LS :sts=port=6697")
    assert h.sent() == []  # no CAP REQ, no CAP END: nothing was asked for


def test_a_failed_upgrade_counts_as_a_failure_and_never_falls_back_at_once(
    tmp_path: Path,
) -> None:
    from logbot.reactor.error import TLSError
    from logbot.reactor.failure import Failure

    h = harness(tmp_path)
    h.start()
    h.connect()
    h.feed(f":{HOST} CAP * LS :sts=port=6697")
    h.lose()
    h.reactor.advance(0)
    h.bot.clientConnectionFailed(h.reactor.connectors[-1], Failure(TLSError(None, "bad cert")))
    assert h.bot.retries == 1 and h.bot.delay == BACKOFF.initial_delay  # the backoff
    h.reactor.advance(BACKOFF.initial_delay)
    assert h.reactor.tcpClients[-1][:2] == ("irc2.example.org", 6667)  # the next server


def test_a_verified_tls_policy_is_stored_renewed_rescheduled_and_read_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tls = ServerConfig(HOST, 6697, tls=True)
    h = harness(tmp_path, tls)
    h.start()
    h.connect()
    h.feed(f":{HOST} CAP * LS :sts=port=1234,duration=300,preload")
    h.register()
    policy = h.bot.sts.store.policy(HOST)
    assert policy is not None and policy.port == 6697 and policy.duration == 300
    assert policy.expires == WALL0 + h.reactor.seconds() + 300
    saved = json.loads((tmp_path / "data" / STS_FILE).read_text())
    assert saved["policies"][HOST]["port"] == 6697
    assert "has an STS policy: TLS only, on port 6697, until" in caplog.text
    # 200 s later the connection ends: the policy runs 300 s from then (the spec)
    h.reactor.advance(200)
    h.lose()
    policy = store(tmp_path, h).policy(HOST)  # a new store: what the next process reads
    assert policy is not None and policy.expires == WALL0 + h.reactor.seconds() + 300


def test_a_host_with_a_policy_is_connected_with_tls_even_if_the_config_says_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = harness(tmp_path)
    first.bot.sts.store.put(HOST.upper(), 6697, 3600)  # (the config's case does not matter)
    caplog.set_level(logging.WARNING)
    h = harness(tmp_path, PLAIN, OTHER)  # a new process: the policy is read from the file
    h.start()
    assert [c[:2] for c in h.reactor.sslClients] == [(HOST, 6697)]
    assert h.reactor.tcpClients == []
    until = datetime.fromtimestamp(WALL0 + first.reactor.seconds() + 3600, UTC)
    said = (
        f"testnet: {HOST} has an STS policy until {until:%Y-%m-%d %H:%M} UTC: connecting"
        " with TLS on port 6697 (the config says tls: false)"
    )
    assert said in caplog.text
    assert context(h).verify_mode == ssl.CERT_REQUIRED
    # the other server has no policy: plain, as configured; then back to the first
    h.bot.clientConnectionFailed(h.reactor.connectors[-1], _refused())
    h.reactor.advance(h.bot.delay)
    assert h.reactor.tcpClients[-1][:2] == ("irc2.example.org", 6667)
    h.bot.clientConnectionFailed(h.reactor.connectors[-1], _refused())
    h.reactor.advance(h.bot.delay)
    assert [c[:2] for c in h.reactor.sslClients] == [(HOST, 6697)] * 2
    assert caplog.text.count("has an STS policy until") == 1  # said once


def test_once_the_policy_expired_the_config_is_followed(tmp_path: Path) -> None:
    h = harness(tmp_path, PLAIN)
    h.bot.sts.store.put(HOST, 6697, 60)
    h.reactor.advance(61)
    h.start()
    assert h.reactor.sslClients == [] and h.reactor.tcpClients[-1][:2] == (HOST, 6667)


def test_a_policy_forces_verification_on_a_tls_server_that_turned_it_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loose = ServerConfig(HOST, 7000, tls=True, verify=False)
    h = harness(tmp_path, loose)
    h.bot.sts.store.put(HOST, 6697, 3600)
    h.start()
    assert [c[:2] for c in h.reactor.sslClients] == [(HOST, 7000)]  # its own TLS port
    assert context(h).verify_mode == ssl.CERT_REQUIRED
    assert "verifying its certificate (the config says verify: false)" in caplog.text


def test_duration_zero_removes_the_policy(tmp_path: Path) -> None:
    h = harness(tmp_path, ServerConfig(HOST, 6697, tls=True))
    h.bot.sts.store.put(HOST, 6697, 3600)
    h.start()
    h.connect()
    h.feed(f":{HOST} CAP * LS :sts=duration=0")
    assert h.bot.sts.store.policy(HOST) is None
    assert json.loads((tmp_path / "data" / STS_FILE).read_text())["policies"] == {}
    h.register()
    h.lose()
    assert store(tmp_path, h).policy(HOST) is None  # the disconnect brings nothing back


def test_an_unverified_connection_s_policy_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness(tmp_path, ServerConfig(HOST, 6697, tls=True, verify=False))
    h.start()
    h.connect()
    h.feed(f":{HOST} CAP * LS :sts=duration=300")
    assert h.bot.sts.store.policy(HOST) is None
    assert not (tmp_path / "data" / STS_FILE).exists()
    assert "ignoring the STS policy of irc.example.org:6697 (tls)" in caplog.text
    assert not h.transport.disconnecting  # type: ignore[union-attr]


def test_a_pinned_connection_s_policy_is_stored(tmp_path: Path) -> None:
    pin = CertPin(CERTIFICATE, bytes(32))
    h = harness(tmp_path, ServerConfig(HOST, 6697, tls=True, fingerprints=(pin,)))
    h.start()
    h.connect()
    h.feed(f":{HOST} CAP * LS :sts=duration=300")
    assert h.bot.sts.store.policy(HOST) is not None


def test_cap_new_upgrades_a_registered_plain_connection(tmp_path: Path) -> None:
    h = harness(tmp_path, PLAIN)
    h.start()
    h.connect()
    h.register()
    h.feed(f":{HOST} CAP bot NEW :sts=port=6697")
    assert h.transport is not None and h.transport.disconnecting
    h.lose()
    h.reactor.advance(0)
    assert [c[:2] for c in h.reactor.sslClients] == [(HOST, 6697)]


@pytest.mark.parametrize(
    ("server", "value"),
    [
        (PLAIN, "duration=300"),  # a plain connection without a port
        (PLAIN, "port=70000"),  # not a port
        (replace(PLAIN, tls=True, port=6697), "port=7000"),  # TLS already: ignored
    ],
)
def test_what_is_no_policy_changes_nothing(
    tmp_path: Path, server: ServerConfig, value: str
) -> None:
    h = harness(tmp_path, server)
    h.start()
    h.connect()
    h.feed(f":{HOST} CAP * LS :sts={value}")
    h.register()
    assert h.transport is not None and not h.transport.disconnecting
    assert h.bot.sts.store.policy(HOST) is None and not h.bot.sts.upgrading


def _refused():  # type: ignore[no-untyped-def]
    from logbot.reactor.error import ConnectionRefusedError
    from logbot.reactor.failure import Failure

    return Failure(ConnectionRefusedError("refused"))
