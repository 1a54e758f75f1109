"""SASL ECDSA-NIST256P-CHALLENGE end to end: ``logbot run`` and ``logbot check --connect``,
real child processes, against the test IRC server given the account's public key.

Anope, the services of the other SASL tests, has no such mechanism in Debian's build
(see :mod:`logbot.testing.ircd_sasl`), so the server side is our test server's, which
verifies the signature with ``cryptography`` over the raw challenge as Atheme does (and
takes ecdsatool's own signature: tests/testing/test_ircd_sasl.py).  What is checked:
the login (the server says who logged in, and the bot's log of its own join carries
the account, from extended-join), the report of ``check --connect``, a key the server
does not know and a challenge of the wrong size (failures with their reason, the bot
still registered), and that no piece of the private key reaches any output or file.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml

from logbot.reactor.backends import available
from logbot.testing.ircd import TestIRCServer
from tests.cli.logbot_child import Child, run_logbot
from tests.e2e.botproc import BotProcess, wait_for_log
from tests.irc.ecdsa_keys import formats, new_key, public_base64, secret_pieces

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)
ECDSA = "ECDSA-NIST256P-CHALLENGE"
ACCOUNT = "LogAcct"
KEY = new_key()


@pytest.fixture
def server(reactor: Any, run_until: Any) -> Any:
    server = TestIRCServer(reactor, network="keys", sasl_keys={ACCOUNT: public_base64(KEY)})
    server.start()
    yield server
    run_until(server.stop())


def _key_file(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bot.key"
    path.write_text(text)
    path.chmod(0o600)
    return path


def _assert_nowhere(key_text: str, *places: Path) -> None:
    pieces = secret_pieces(key_text)
    for place in places:
        files = [place] if place.is_file() else [p for p in place.rglob("*") if p.is_file()]
        for path in files:
            if path.name == "bot.key":
                continue
            text = path.read_text(errors="replace")
            leaked = [piece for piece in pieces if piece in text]
            assert not leaked, f"{path} shows the key"


@ONE_REACTOR
def test_logbot_run_logs_in_with_the_key_and_never_shows_it(
    reactor: Any, run_until: Any, server: Any, tmp_path: Path
) -> None:
    key_text = formats(KEY)["pem-ecparam"]
    key = _key_file(tmp_path / "secrets", key_text)
    chan = "#keys"
    bot = BotProcess(
        tmp_path / "bot",
        server,
        "keybot",
        [chan],
        network="keys",
        extra={
            "sasl": {
                "username": ACCOUNT,
                "key_file": str(key),
                "mechanisms": [ECDSA],
                "required": True,
            }
        },
    )
    try:
        bot.start()  # at --log-level debug: every line of the traffic is in its stderr
        run_until(
            wait_for_log(
                reactor,
                lambda: (
                    [r["type"] for r in bot.jsonl(chan)] if bot.channel_dir(chan).is_dir() else []
                ),
                lambda kinds: "join" in kinds,
                what="the bot's own join in its log",
            )
        )
        user = server.find_user("keybot")
        assert user is not None and user.account == ACCOUNT
        bot.signal(signal.SIGTERM)  # the reactor serves the bot's QUIT while it exits
        exited = wait_for_log(reactor, bot.proc.poll, lambda rc: rc is not None, 10, "exit")
        assert run_until(exited) == 0
    finally:
        bot.stop_quietly()
    (join,) = [r for r in bot.jsonl(chan) if r["type"] == "join"]
    assert join["nick"] == "keybot" and join["account"] == ACCOUNT  # extended-join
    said = [line for way, nick, line in server.log if way == "in" and nick in ("*", "keybot")]
    auth = [line for line in said if line.startswith("AUTHENTICATE")]
    assert auth[0] == f"AUTHENTICATE {ECDSA}" and len(auth) == 3  # name, account, signature
    err = bot.stderr()
    assert f"keys >> AUTHENTICATE {ECDSA}" in err
    assert err.count("keys >> AUTHENTICATE ***") == 2  # the account and the signature
    assert "keys << @time=" in err and " :irc.demo.test AUTHENTICATE :***\n" in err  # challenge
    assert "no answer to QUIT" not in err
    assert "Traceback" not in err
    _assert_nowhere(key_text, bot.stderr_path, bot.root, bot.config_path)


def _check(reactor: Any, run_until: Any, server: Any, tmp_path: Path, key_text: str) -> Child:
    key = _key_file(tmp_path / "secrets", key_text)
    network = {
        "name": "keys",
        "nick": "checker",
        "servers": [f"127.0.0.1:{server.port}"],
        "sasl": {"username": ACCOUNT, "key_file": str(key), "mechanisms": [ECDSA]},
    }
    config = tmp_path / "bot.yaml"
    document = {"logging": {"root": str(tmp_path / "logs")}, "networks": [network]}
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    child = run_logbot(
        reactor,
        run_until,
        tmp_path / "c",
        ["check", "--connect", str(config), "--log-level", "debug"],
        timeout=30,
    )
    _assert_nowhere(key_text, child.out_path, child.err_path)
    assert "Traceback" not in child.err
    return child


def _sasl_step(child: Child) -> str:
    (line,) = [line.strip() for line in child.out.splitlines() if line.strip().startswith("SASL")]
    return re.sub(r" +", " ", re.sub(r" \d+(\.\d+)? (ms|s) ", " T ", line))


@ONE_REACTOR
def test_check_connect_reports_the_ecdsa_login(
    reactor: Any, run_until: Any, server: Any, tmp_path: Path
) -> None:
    child = _check(reactor, run_until, server, tmp_path, formats(KEY)["base64-raw"])
    assert child.proc.returncode == 0, child.out + child.err
    assert _sasl_step(child) == f"SASL OK T {ECDSA} login as {ACCOUNT}"
    assert f"keys >> AUTHENTICATE {ECDSA}" in child.err


@ONE_REACTOR
def test_check_connect_reports_a_key_the_services_do_not_know(
    reactor: Any, run_until: Any, server: Any, tmp_path: Path
) -> None:
    child = _check(reactor, run_until, server, tmp_path, formats(new_key())["pem-pkcs8"])
    assert child.proc.returncode == 1, child.out + child.err
    assert _sasl_step(child) == (
        f"SASL FAILED T {ECDSA}: 904 SASL authentication failed "
        "(sasl.required is false: the bot would log without it)"
    )
    assert "registration OK" in child.out


@ONE_REACTOR
def test_a_challenge_of_the_wrong_size_fails_the_login_not_the_bot(
    reactor: Any, run_until: Any, server: Any, tmp_path: Path
) -> None:
    server.sasl.challenge = lambda: b"c" * 31
    child = _check(reactor, run_until, server, tmp_path, formats(KEY)["pem-sec1"])
    assert child.proc.returncode == 1, child.out + child.err
    assert _sasl_step(child) == (
        f"SASL FAILED T {ECDSA}: the server's challenge is 31 bytes, not the 32 of {ECDSA} "
        "(sasl.required is false: the bot would log without it)"
    )
    assert "registration OK" in child.out
    assert "keys >> AUTHENTICATE *" in child.err  # the login was aborted, politely
