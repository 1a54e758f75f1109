"""``logbot run`` with STS and certificate pins (issue 19, items 1 and 2), as a child
process against InspIRCd.

STS: a server configured ``tls: false`` advertises an upgrade; the bot reconnects with
TLS at once, registers, and keeps the policy in ``<data_dir>/sts.json``; the next run
connects with TLS from its first attempt and says so on stderr.  The test CA is made
the child's system CA with ``SSL_CERT_FILE`` (an upgrade verifies with the system's CAs).

Pins: the same InspIRCd's TLS port, its certificate pinned in the YAML config without
its CA: registered; with a wrong pin: refused, stderr naming the fingerprint to pin.
"""

from __future__ import annotations

import hashlib
import json
import ssl
from pathlib import Path
from typing import Any

import pytest

from logbot.config.pins import colon_hex
from logbot.reactor.backends import available
from tests.e2e.botproc import BotProcess, wait_for_log
from tests.integration.recording_bot import unique
from tests.ircd.servers import STS_HOST

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)


def _registered(bot: BotProcess, count: int = 1) -> Any:
    return lambda text: text.count(f"{bot.network}: registered as ") >= count


@ONE_REACTOR
def test_logbot_run_upgrades_keeps_the_policy_and_follows_it_after_a_restart(
    reactor: Any,
    run_until: Any,
    ircd_factory: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = ircd_factory("inspircd", sts_duration=3600)
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_path))
    plain = {"servers": [{"host": STS_HOST, "port": server.port, "tls": False}]}
    bot = BotProcess(tmp_path, server, unique("sts"), [], extra=plain)
    try:
        bot.start()
        run_until(wait_for_log(reactor, bot.stderr, _registered(bot), 15, "stderr"))
        assert bot.terminate() == 0
        first = bot.stderr()
        assert (
            f"{bot.network}: {STS_HOST}:{server.port} asks for TLS on port {server.tls_port}"
            f" (STS): reconnecting with TLS now (set tls: true and port: {server.tls_port}"
            " for this server)"
        ) in first
        assert f"{bot.network}: connected to {STS_HOST}:{server.tls_port} (tls)" in first
        saved = json.loads((tmp_path / "data" / "sts.json").read_text())
        policy = saved["policies"][STS_HOST]
        assert (policy["port"], policy["duration"]) == (server.tls_port, 3600)

        bot.start()  # the next run: TLS from the first attempt
        run_until(wait_for_log(reactor, bot.stderr, _registered(bot, 2), 15, "stderr"))
        assert bot.terminate() == 0
        second = bot.stderr()[len(first) :]
        connecting = [line for line in second.splitlines() if ": connecting to " in line]
        assert connecting[0].endswith(f"connecting to {STS_HOST}:{server.tls_port} (tls)")
        assert (
            f"WARNING logbot.bot.sts: {bot.network}: {STS_HOST} has an STS policy until "
        ) in second
        assert (
            f"connecting with TLS on port {server.tls_port} (the config says tls: false)" in second
        )
        assert "asks for TLS" not in second
    finally:
        bot.stop_quietly()


def _pin(server: Any) -> str:
    pem = (server.workdir / "tls" / "server.pem").read_text()
    end = pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    der = ssl.PEM_cert_to_DER_cert(pem[:end])
    return "sha256:" + colon_hex(hashlib.sha256(der).digest())


@ONE_REACTOR
def test_logbot_run_with_a_pinned_certificate_and_a_wrong_pin(
    reactor: Any, run_until: Any, inspircd: Any, tmp_path: Path
) -> None:
    pin = _pin(inspircd)
    wrong = "sha256:" + "00" * 32  # (messages show it as sha256:00:00:...)

    def pinned(fingerprint: Any) -> dict[str, Any]:
        server = {"host": "localhost", "port": inspircd.tls_port, "tls": True}
        return {"servers": [{**server, "fingerprint": fingerprint}]}

    good = BotProcess(tmp_path / "good", inspircd, unique("pin"), [], extra=pinned([wrong, pin]))
    bad = BotProcess(tmp_path / "bad", inspircd, unique("pin"), [], extra=pinned(wrong))
    try:
        good.start()
        bad.start()
        run_until(wait_for_log(reactor, good.stderr, _registered(good), 15, "stderr"))
        shown = "sha256:" + colon_hex(bytes(32))
        refused = f"the server's TLS certificate matches no pinned fingerprint (pinned: {shown})"
        run_until(wait_for_log(reactor, bad.stderr, lambda t: refused in t, 15, "stderr"))
        assert good.terminate() == 0 and bad.terminate() == 0
    finally:
        good.stop_quietly()
        bad.stop_quietly()
    said = bad.stderr()
    assert f"It has fingerprint: {pin} (its public key: fingerprint: spki-sha256:" in said
    assert "registered as" not in said
