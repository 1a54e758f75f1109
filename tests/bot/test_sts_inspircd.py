"""STS against InspIRCd's ``ircv3_sts`` (Debian's InspIRCd 3), the bot on a real reactor.

The server advertises ``sts=port=<TLS port>`` on its plain port and
``sts=duration=N`` on its TLS port to a client whose SNI is ``localhost``
(tests/ircd/servers.py).  Its certificate comes from a CA made for the test run, which
the tests make "the system's" through ``SSL_CERT_FILE`` (OpenSSL's default store), as
an upgrade verifies against the system's CAs (a ``tls: false`` server has no
``ca_file``).

Not here: ``duration=0``.  InspIRCd 3.15 takes a configured ``<sts duration>`` below 60
seconds as its default (5 minutes), so it cannot revoke a policy; the removal is tested
on the fake clock (tests/bot/test_sts.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from logbot.bot.sts_store import StsStore
from logbot.config.settings import ServerConfig
from logbot.reactor.backends import available
from tests.bot.live import LiveBot, network
from tests.integration.recording_bot import unique
from tests.ircd.servers import STS_HOST

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
DURATION = 300


def _run(reactor: Any, run_until: Any, store: StsStore, *servers: ServerConfig) -> LiveBot:
    """A bot registered (and stopped again) with ``store``'s policies."""
    bot = LiveBot(network(unique("sts"), *servers), reactor, sts=store)
    bot.start()
    run_until(bot.next("registered"), 20)
    run_until(bot.stop())
    return bot


def _events(bot: LiveBot) -> list[tuple[str, Any]]:
    """The reports, with the events reduced to their policy."""
    out = []
    for kind, value in bot.reports:
        if kind == "StsAdvertised":
            value = (value.port, value.duration)
        elif kind == "connected":
            value = (value.host, value.port, value.tls)
        elif kind == "registered":
            value = None
        out.append((kind, value))
    return out


@ONE_REACTOR
def test_upgrade_persist_enforce_and_unverified_against_inspircd(
    reactor: Any,
    run_until: Any,
    ircd_factory: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = ircd_factory("inspircd", sts_duration=DURATION)
    plain = ServerConfig(STS_HOST, server.port)  # tls: false, as a config may say
    store = StsStore(tmp_path / "data")

    # 1. The CA not trusted: the upgrade fails like any TLS connection, no plain fallback
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
    bot = LiveBot(network(unique("sts"), plain), reactor, sts=store)
    bot.start()
    why = run_until(bot.next("failed"), 20)
    run_until(bot.stop())
    assert "the server's TLS certificate is not trusted" in why
    assert _events(bot)[:3] == [
        ("connected", (STS_HOST, server.port, False)),
        ("StsAdvertised", (server.tls_port, None)),
        ("lost", f"STS upgrade: reconnecting with TLS on port {server.tls_port}"),
    ]
    assert store.policy(STS_HOST) is None

    # 2. Trusted: upgraded at once, registered over TLS, the policy stored
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_path))
    bot = _run(reactor, run_until, store, plain)
    assert _events(bot)[:6] == [
        ("connected", (STS_HOST, server.port, False)),
        ("StsAdvertised", (server.tls_port, None)),
        ("lost", f"STS upgrade: reconnecting with TLS on port {server.tls_port}"),
        ("connected", (STS_HOST, server.tls_port, True)),
        ("StsAdvertised", (None, DURATION)),
        ("registered", None),
    ]
    assert bot.retries == 0  # the upgrade was no failure
    policy = StsStore(tmp_path / "data").policy(STS_HOST)  # as the next process reads it
    assert policy is not None and (policy.port, policy.duration) == (server.tls_port, DURATION)

    # 3. The next process: TLS from the first attempt, and it says why
    caplog.clear()
    bot = _run(reactor, run_until, StsStore(tmp_path / "data"), plain)
    assert _events(bot)[0] == ("connected", (STS_HOST, server.tls_port, True))
    assert (
        f"live: {STS_HOST} has an STS policy until " in caplog.text
        and f"connecting with TLS on port {server.tls_port} (the config says tls: false)"
        in caplog.text
    )

    # 4. A connection that does not verify the certificate: its policy is ignored
    other = StsStore(tmp_path / "other")
    loose = ServerConfig(STS_HOST, server.tls_port, tls=True, verify=False)
    bot = _run(reactor, run_until, other, loose)
    assert ("StsAdvertised", (None, DURATION)) in _events(bot)
    assert other.policy(STS_HOST) is None
    assert not (tmp_path / "other").exists()
