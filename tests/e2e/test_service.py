"""``logbot run`` as a service: SIGHUP reload, several networks, SASL, kick and rejoin."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

import pytest

from logbot.reactor.backends import available
from tests.e2e.botproc import BotProcess, wait_for_log
from tests.integration.recording_bot import unique
from tests.ircd.peer import connect

pytestmark = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)


def test_sighup_reloads_joins_parts_and_reopens_without_reconnecting(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    chan1, chan2 = f"#h{unique('')}", f"#i{unique('')}"
    nick, alice = unique("lb"), unique("alice")
    bot = BotProcess(tmp_path, ngircd, nick, [chan1])
    peer = run_until(connect(reactor, ngircd, alice))
    try:
        peer.send(f"JOIN {chan2}")
        bot.start_seen_by(run_until, peer, [chan1])
        peer.send(f"PRIVMSG {chan1} :first")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan1), lambda t: "first" in t))
        # logrotate-style: the file is moved away, then SIGHUP
        (live,) = bot.files(chan1, ".log")
        moved = live.with_name("moved-away.txt")
        live.rename(moved)
        # a bad config first: refused, the bot keeps running as it was
        good = bot.config_path.read_text()
        bot.config_path.write_text(good + "bogus_key: 1\n")
        bot.signal(signal.SIGHUP)
        run_until(
            wait_for_log(reactor, bot.stderr, lambda t: "bogus_key" in t, what="the reload refusal")
        )
        # then the real change: chan2 in, chan1 out, a new quit message
        net = bot.config["networks"][0]
        net["channels"] = [chan2]
        net["quit_message"] = "reloaded bye"
        bot.write_config()
        bot.signal(signal.SIGHUP)
        run_until(peer.expect(rf":{nick}!\S+ PART {re.escape(chan1)}"))  # parts come first
        bot.seen_joining(run_until, peer, chan2)
        peer.send(f"PRIVMSG {chan2} :second")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan2), lambda t: "second" in t))
        assert bot.terminate(5) == 0
        quit_line = run_until(peer.expect(rf":{nick}!\S+ QUIT "))
        assert "reloaded bye" in quit_line
    finally:
        bot.stop_quietly()
        peer.abort()
    assert [line for line in peer.lines if f":{nick}!" in line and " QUIT " in line] == [
        quit_line
    ]  # one connection all along: no QUIT before the last
    assert "first" in moved.read_text()
    reopened = bot.raw(chan1)
    assert "first" not in reopened and f"{nick} <" in reopened and "has left" in reopened
    assert "reload: " in bot.stderr() and "keeping the running config" in bot.stderr()


def test_two_networks_in_one_process(
    ngircd: Any, inspircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    chan, nick = f"#n{unique('')}", unique("lb")
    alice, bob = unique("alice"), unique("bob")
    bot = BotProcess(tmp_path, ngircd, nick, [chan], network="one")
    second = dict(
        bot.config["networks"][0], name="two", servers=[f"{inspircd.host}:{inspircd.port}"]
    )
    bot.config["networks"].append(second)
    pa = run_until(connect(reactor, ngircd, alice))
    pb = run_until(connect(reactor, inspircd, bob))
    try:
        pb.send(f"JOIN {chan}")
        bot.start_seen_by(run_until, pa, [chan])
        bot.seen_joining(run_until, pb, chan)
        pa.send(f"PRIVMSG {chan} :on one")
        pb.send(f"PRIVMSG {chan} :on two")
        one = tmp_path / "logs" / "one" / chan.lower()
        two = tmp_path / "logs" / "two" / chan.lower()

        def both() -> str:
            return "".join(p.read_text() for d in (one, two) if d.is_dir() for p in d.glob("*.log"))

        run_until(wait_for_log(reactor, both, lambda t: "on one" in t and "on two" in t))
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        pa.abort()
        pb.abort()
    text_one = "".join(p.read_text() for p in one.glob("*.log"))
    text_two = "".join(p.read_text() for p in two.glob("*.log"))
    assert f"<{alice}> on one" in text_one and "on two" not in text_one
    assert f"<{bob}> on two" in text_two and "on one" not in text_two


def test_sasl_login_logs_accounts_and_never_the_password(
    inspircd_anope: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    server = inspircd_anope
    password = server.accounts["testbot"]
    chan, nick, alice = f"#s{unique('')}", unique("lb"), unique("alice")
    secret_file = tmp_path / "sasl.secret"
    secret_file.write_text(password + "\n")
    bot = BotProcess(
        tmp_path,
        server,
        nick,
        [chan],
        extra={
            "sasl": {
                "username": "testbot",
                "password_file": str(secret_file),
                "mechanisms": ["PLAIN"],
                "required": True,
            }
        },
    )
    peer = run_until(connect(reactor, server, alice))
    try:
        bot.start_seen_by(run_until, peer, [chan])
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    (join,) = [r for r in bot.jsonl(chan) if r["type"] == "join"]
    assert join["nick"] == nick and join["account"] == "testbot"  # extended-join
    for path in [bot.stderr_path, *tmp_path.joinpath("logs").rglob("*.*")]:
        assert password not in path.read_text(errors="replace"), path
    assert "SASL" in bot.stderr() or "sasl" in bot.stderr()


def test_kicked_bot_logs_the_kick_and_rejoins(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    chan, nick, alice = f"#k{unique('')}", unique("lb"), unique("alice")
    bot = BotProcess(tmp_path, ngircd, nick, [chan], extra={"rejoin_after_kick": 0.5})
    peer = run_until(connect(reactor, ngircd, alice))
    try:
        bot.start_seen_by(run_until, peer, [chan])  # alice first in: channel operator
        peer.send(f"KICK {chan} {nick} :go away")
        bot.seen_joining(run_until, peer, chan)  # back after half a second
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    lines = bot.text_lines(chan)
    kick = lines.index(f"*** {nick} was kicked by {alice} (go away)")
    assert lines[kick + 1].startswith("*** logbot: rejoined after a kick; events between ")
    assert f"*** {nick} <" in lines[kick + 2] and "has joined" in lines[kick + 2]


def test_hostile_channel_names_stay_under_the_log_root(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    tag = unique("")
    hostile = [f"#../../etc{tag}", f"#a/b{tag}", f"#.{tag}", f"#C{tag}\\x"]
    nick, alice = unique("lb"), unique("alice")
    bot = BotProcess(tmp_path, ngircd, nick, hostile, logging={"formats": ["text"]})
    peer = run_until(connect(reactor, ngircd, alice))
    try:
        bot.start_seen_by(run_until, peer, hostile)
        for chan in hostile:
            peer.send(f"PRIVMSG {chan} :in {chan}")
        run_until(
            wait_for_log(
                reactor,
                lambda: sorted((tmp_path / "logs").rglob("*.log")),
                lambda files: (
                    len(files) == len(hostile) and all("<" + alice in f.read_text() for f in files)
                ),
            )
        )
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    root = (tmp_path / "logs").resolve()
    files = sorted(root.rglob("*.log"))
    assert {f.parent.parent for f in files} == {root / "local"}  # one folder per channel
    texts = {f.read_text().split(f"<{alice}> in ", 1)[1].split("\n", 1)[0] for f in files}
    # (the text format doubles a backslash that would read as an escape: "\\x")
    assert texts == {chan.replace("\\x", "\\\\x") for chan in hostile}
    assert not (tmp_path / "etc").exists() and not any(tmp_path.glob("etc*"))


def test_tls_with_the_servers_own_ca(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    chan, nick, alice = f"#t{unique('')}", unique("lb"), unique("alice")
    bot = BotProcess(
        tmp_path,
        ngircd,
        nick,
        [chan],
        extra={
            "servers": [
                {
                    "host": ngircd.host,
                    "port": ngircd.tls_port,
                    "tls": True,
                    "ca_file": str(ngircd.ca_path),
                }
            ]
        },
    )
    peer = run_until(connect(reactor, ngircd, alice))
    try:
        bot.start_seen_by(run_until, peer, [chan])
        peer.send(f"PRIVMSG {chan} :over tls")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan), lambda t: "over tls" in t))
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    assert f"connected to {ngircd.host}:{ngircd.tls_port} as {nick}" in bot.raw(chan)


def test_an_untrusted_certificate_is_reported_and_retried(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    bot = BotProcess(
        tmp_path,
        ngircd,
        unique("lb"),
        ["#x"],
        extra={"servers": [{"host": ngircd.host, "port": ngircd.tls_port, "tls": True}]},
    )
    try:
        bot.start()
        run_until(
            wait_for_log(
                reactor,
                bot.stderr,
                lambda t: t.count("TLS certificate is not trusted") >= 2,
                what="two failed attempts on stderr",
            )
        )
        assert bot.proc is not None and bot.proc.poll() is None
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
    assert "Traceback" not in bot.stderr()
