"""``logbot run`` on ngircd in ``&`` and ``+`` channels: every line in its channel's log.

ngircd advertises ``CHANTYPES=#&+`` and ``PREFIX=(qaohv)~&@%+`` and no STATUSMSG, so
``&`` and ``+`` are both channel types and nick prefix symbols.  The bot once took the
prefix symbols for STATUSMSG prefixes: ``&local`` became "local", a nick, and every
line said there was a private message (dropped, or written to the speaker's private
log) and talk there that began with a command name ran that command.  Here a real
peer talks in both kinds of channel, and in private for contrast, with private logging
on, so a line that went to the wrong log is seen there rather than just missing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from logbot.reactor.backends import available
from tests.e2e.botproc import BotProcess, wait_for_log
from tests.integration.recording_bot import unique
from tests.ircd.peer import connect

pytestmark = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)


def test_lines_in_ampersand_and_plus_channels_reach_their_logs(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    tag = unique("ct")
    local, modeless = f"&local{tag}", f"+modeless{tag}"
    nick, alice = unique("lb"), unique("alice")
    bot = BotProcess(tmp_path, ngircd, nick, [local, modeless], logging={"private": True})
    bot.config["plugins"] = {"enabled": ["ping"], "user_rate": {"burst": 50, "per": 1}}
    bot.write_config()
    # The names must be quoted in YAML ('&' starts an anchor); they must read back as is.
    config_text = bot.config_path.read_text()
    assert f"'{local}'" in config_text or f'"{local}"' in config_text, config_text
    peer = run_until(connect(reactor, ngircd, alice))
    bot_says = rf":{re.escape(nick)}!\S+ PRIVMSG "
    try:
        bot.start_seen_by(run_until, peer, [local, modeless])
        assert "CHANTYPES=#&+" in " ".join(peer.lines)  # the server this test is about
        peer.send(f"PRIVMSG {local} :hello local")
        peer.send(f"PRIVMSG {local} :\x01ACTION waves locally\x01")
        peer.send(f"NOTICE {local} :a local notice")
        peer.send(f"PRIVMSG {modeless} :hello modeless")
        peer.send(f"PRIVMSG {modeless} :\x01ACTION waves without modes\x01")
        # Ordinary talk that starts with a command's name: a command only in private.
        peer.send(f"PRIVMSG {modeless} :ping is slow today")
        peer.send(f"PRIVMSG {local} :ping me later")
        # A prefixed command in a '&' channel is a channel command: answered there.
        peer.send(f"PRIVMSG {local} :!ping")
        # In private the same word is a command (the contrast: the plugin is there).
        peer.send(f"PRIVMSG {nick} :ping")
        run_until(peer.expect(bot_says + rf"{re.escape(alice)} :{re.escape(alice)}: pong"))
        peer.send(f"PRIVMSG {modeless} :last line")
        run_until(wait_for_log(reactor, lambda: bot.raw(modeless), lambda t: "last line" in t))
        run_until(wait_for_log(reactor, lambda: bot.raw(alice), lambda t: "pong" in t))
        assert bot.terminate(timeout=5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    stderr = bot.stderr()
    assert "Traceback" not in stderr, stderr
    assert [line for line in bot.text_lines(local) if not line.startswith("***")] == [
        f"<{alice}> hello local",
        f"* {alice} waves locally",
        f"-{alice}- a local notice",
        f"<{alice}> ping me later",
        f"<{alice}> !ping",
        f"<{nick}> {alice}: pong",
    ]
    assert [line for line in bot.text_lines(modeless) if not line.startswith("***")] == [
        f"<{alice}> hello modeless",
        f"* {alice} waves without modes",
        f"<{alice}> ping is slow today",
        f"<{alice}> last line",
    ]
    for chan in (local, modeless):
        records = [r for r in bot.jsonl(chan) if r["type"] in ("message", "action", "notice")]
        assert records and {r["channel"] for r in records} == {chan}
    # The private log holds the private exchange only; no log is named after the
    # channels' names without their '&' or '+'.
    assert bot.text_lines(alice) == [f"<{alice}> ping", f"<{nick}> {alice}: pong"]
    folders = sorted(p.name for p in (bot.root / bot.network).iterdir())
    assert folders == sorted([local.lower(), modeless.lower(), alice.lower()])
    # The bot answers in the order the lines came, so everything it said to alice is
    # here (its private answer came last): one answer in '&local', one in private.
    replies = [line.split(" ", 1)[1] for line in peer.lines if re.match(bot_says, line)]
    assert replies == [
        f"PRIVMSG {local} :{alice}: pong",
        f"PRIVMSG {alice} :{alice}: pong",
    ]


def test_statusmsg_lines_on_inspircd_go_to_their_channel_marked(
    inspircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    """InspIRCd sends ``STATUSMSG=@+``: ``@#chan`` reaches #chan's ops only.  Such a
    line belongs in #chan's log, its JSON ``target`` saying where it went, and a
    command sent that way is answered the same way."""
    chan, nick, alice = f"#s{unique('')}", unique("lb"), unique("alice")
    bot = BotProcess(tmp_path, inspircd, nick, [chan], logging={"private": True})
    bot.config["plugins"] = {"enabled": ["ping"], "user_rate": {"burst": 50, "per": 1}}
    peer = run_until(connect(reactor, inspircd, alice))
    try:
        bot.start_seen_by(run_until, peer, [chan])
        assert "STATUSMSG=@+" in " ".join(peer.lines)
        peer.send(f"MODE {chan} +o {nick}")  # only ops hear "@#chan"
        run_until(peer.expect(rf" MODE {re.escape(chan)} \+o :?{re.escape(nick)}"))
        peer.send(f"PRIVMSG @{chan} :ops only")
        peer.send(f"NOTICE +{chan} :voiced and up")
        peer.send(f"PRIVMSG @{chan} :!ping")
        run_until(peer.expect(rf":{re.escape(nick)}!\S+ PRIVMSG @{re.escape(chan)} :{alice}: pong"))
        peer.send(f"PRIVMSG {chan} :last line")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan), lambda t: "last line" in t))
        assert bot.terminate(timeout=5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    assert "Traceback" not in bot.stderr()
    spoken = [r for r in bot.jsonl(chan) if r["type"] in ("message", "notice")]
    assert [(r["nick"], r["text"], r["channel"], r.get("target")) for r in spoken] == [
        (alice, "ops only", chan, f"@{chan}"),
        (alice, "voiced and up", chan, f"+{chan}"),
        (alice, "!ping", chan, f"@{chan}"),
        (nick, f"{alice}: pong", chan, f"@{chan}"),
        (alice, "last line", chan, None),
    ]
    assert f"<{alice}> ops only" in bot.text_lines(chan)
    assert [p.name for p in (bot.root / bot.network).iterdir()] == [chan.lower()]
