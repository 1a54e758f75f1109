"""Reply plugins in ``logbot run`` against a real server: reload on one connection,
an exec plugin in a real child, and the README's example plugin as written."""

from __future__ import annotations

import re
import signal
import textwrap
from pathlib import Path
from typing import Any

import pytest

from logbot.reactor.backends import available
from tests.e2e.botproc import REPO, BotProcess, wait_for_log
from tests.integration.recording_bot import unique
from tests.ircd.peer import connect

pytestmark = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)

ECHO = """
from logbot.plugin import command


@command("echo", help="says it back")
def echo(context):
    return f"{VERSION} {context.argtext}"
"""


def echo_plugin(folder: Path, version: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "echo.py").write_text(ECHO.replace("{VERSION}", version))


def replies(nick: str, chan: str) -> str:
    return rf":{re.escape(nick)}!\S+ PRIVMSG {re.escape(chan)} :"


def test_reload_by_command_and_sighup_on_one_connection(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    chan, nick, alice = f"#p{unique('')}", unique("lb"), unique("alice")
    mine = tmp_path / "my-plugins"
    echo_plugin(mine, "v1")
    bot = BotProcess(tmp_path, ngircd, nick, [chan])
    bot.config["plugins"] = {
        "enabled": ["echo", "admin", "hello", "roll"],
        "plugin_dirs": [str(mine)],
        "admins": [f"{alice}!*@*"],
        "user_rate": {"burst": 50, "per": 1},
    }
    peer = run_until(connect(reactor, ngircd, alice))
    said = replies(nick, chan)
    try:
        bot.start_seen_by(run_until, peer, [chan])
        peer.send(f"PRIVMSG {chan} :{nick}: hello")
        run_until(peer.expect(said + f"{alice}: I am a log bot"))
        peer.send(f"PRIVMSG {chan} :!echo one")
        run_until(peer.expect(said + "v1 one"))
        # !reload by an admin: new code, same connection
        echo_plugin(mine, "v2")
        peer.send(f"PRIVMSG {chan} :!reload echo")
        run_until(peer.expect(said + f"{alice}: reloaded echo \\(1 command\\)"))
        peer.send(f"PRIVMSG {chan} :!echo two")
        run_until(peer.expect(said + "v2 two"))
        # a broken version: refused, v2 keeps answering
        (mine / "echo.py").write_text("from logbot.plugin import command\n\ndef broken(:\n")
        peer.send(f"PRIVMSG {chan} :!reload echo")
        line = run_until(peer.expect(said + f"{alice}: plugin echo failed to load: "))
        assert "SyntaxError" in line and "previous version keeps running" in line
        peer.send(f"PRIVMSG {chan} :!echo three")
        run_until(peer.expect(said + "v2 three"))
        # SIGHUP: code and settings again, still the same connection
        echo_plugin(mine, "v3")
        bot.signal(signal.SIGHUP)
        run_until(
            wait_for_log(
                reactor,
                bot.stderr,
                lambda t: "reload: " in t and " applied" in t,
                what="the SIGHUP reload",
            )
        )
        peer.send(f"PRIVMSG {chan} :!echo four")
        run_until(peer.expect(said + "v3 four"))
        # the exec example: a shell script in a real child process
        peer.send(f"PRIVMSG {chan} :!roll 2d6")
        roll = run_until(peer.expect(said + f"{alice} rolls 2d6: "))
        first, second, total = map(int, re.findall(r"(\d+) \+ (\d+) = (\d+)$", roll)[0])
        assert 1 <= first <= 6 and 1 <= second <= 6 and total == first + second
        assert bot.terminate(5) == 0
        run_until(peer.expect(rf":{nick}!\S+ QUIT "))
    finally:
        bot.stop_quietly()
        peer.abort()
    bot_lines = [line for line in peer.lines if f":{nick}!" in line]
    assert sum(" JOIN " in line for line in bot_lines) == 1  # never reconnected
    assert sum(" QUIT " in line for line in bot_lines) == 1  # only at the end
    log = bot.raw(chan)
    assert f"<{nick}> v3 four" in log and f"<{alice}> !echo four" in log  # replies are logged
    assert "failed to load" in bot.stderr()


def readme_plugin() -> str:
    """The code block of the README's "Write a plugin" section, as written."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Write a plugin") :]
    match = re.search(r"```python\n(# plugins/(\w+)\.py\n.*?)```", section, re.DOTALL)
    assert match is not None, "the README's plugin example is missing"
    return match.group(1)


def test_the_readme_example_plugin_works_as_written(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    code = readme_plugin()
    name = re.match(r"# plugins/(\w+)\.py", code).group(1)  # type: ignore[union-attr]
    assert len(textwrap.dedent(code).strip().splitlines()) <= 14
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / f"{name}.py").write_text(code)
    chan, nick = f"#r{unique('')}", unique("lb")
    alice, bob = unique("alice"), unique("bob")
    bot = BotProcess(tmp_path, ngircd, nick, [chan])
    bot.config["plugins"] = {"enabled": ["help", name], "plugin_dirs": [str(folder)]}
    peer = run_until(connect(reactor, ngircd, alice))
    said = replies(nick, chan)
    try:
        bot.start_seen_by(run_until, peer, [chan])
        peer.send(f"PRIVMSG {chan} :{bob}++")
        peer.send(f"PRIVMSG {chan} :{bob}++")
        peer.send(f"PRIVMSG {chan} :!karma {bob}")
        run_until(peer.expect(said + f"{bob} has 2 karma"))
        peer.send(f"PRIVMSG {chan} :!help karma")
        run_until(peer.expect(said + f"{alice}: !karma <nick>: "))
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    assert (tmp_path / "data" / "local" / f"{name}.json").is_file()  # persisted on exit


EVIL = """
from logbot.plugin import command


@command("evil")
def evil(context):
    return [f"ok\\r\\nQUIT :injected", f"x\\nJOIN #elsewhere", "nul\\0PART " + context.channel,
            "\\x01ACTION ctcp\\x01"]


@command("boom")
def boom(context):
    raise RuntimeError("plugin bug")
"""


def test_a_hostile_plugin_sends_only_messages_and_a_broken_one_is_answered(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "evil.py").write_text(EVIL)
    chan, nick, alice = f"#e{unique('')}", unique("lb"), unique("alice")
    bot = BotProcess(tmp_path, ngircd, nick, [chan])
    bot.config["plugins"] = {"enabled": ["evil"], "plugin_dirs": [str(folder)]}
    peer = run_until(connect(reactor, ngircd, alice))
    said = replies(nick, chan)
    try:
        bot.start_seen_by(run_until, peer, [chan])
        peer.send(f"PRIVMSG {chan} :!evil")
        run_until(peer.expect(said + "\\(2 more lines not shown\\)"))
        peer.send(f"PRIVMSG {chan} :!boom")
        run_until(peer.expect(said + f"{alice}: sorry, boom failed \\(RuntimeError\\)"))
        assert bot.terminate(5) == 0
        run_until(peer.expect(rf":{nick}!\S+ QUIT "))
    finally:
        bot.stop_quietly()
        peer.abort()
    from_bot = [line.split(" ", 2)[1] for line in peer.lines if line.startswith(f":{nick}!")]
    assert from_bot == ["JOIN"] + ["PRIVMSG"] * 6 + ["QUIT"], peer.lines
    assert "injected" not in [line for line in peer.lines if " QUIT " in line][-1]
    assert "RuntimeError: plugin bug" in bot.stderr() and "Traceback" in bot.stderr()


def test_an_admin_by_services_account_on_anope(
    inspircd_anope: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    server = inspircd_anope
    chan, other = f"#a{unique('')}", f"#b{unique('')}"
    nick, alice, mallory = unique("lb"), unique("alice"), unique("mal")
    bot = BotProcess(tmp_path, server, nick, [chan])
    bot.config["plugins"] = {"enabled": ["admin"], "admins": ["account:testbot"]}
    peer = run_until(connect(reactor, server, alice))
    evil = run_until(connect(reactor, server, mallory))
    said = replies(nick, chan)
    try:
        peer.send(f"PRIVMSG NickServ :IDENTIFY testbot {server.accounts['testbot']}")
        run_until(peer.expect(r"(?i)NOTICE \S+ :.*(password accepted|now identified)"))
        evil.send(f"JOIN {chan}")
        peer.send(f"JOIN {other}")
        bot.start_seen_by(run_until, peer, [chan])
        evil.send(f"PRIVMSG {chan} :!join {other}")
        run_until(evil.expect(said + f"{mallory}: only admins may use join"))
        peer.send(f"PRIVMSG {chan} :!join {other}")
        bot.seen_joining(run_until, peer, other)  # queued before the reply
        run_until(peer.expect(said + f"{alice}: joining {other}"))
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
        evil.abort()
    assert f"{mallory}!" in bot.stderr() and "may not use join" in bot.stderr()


def test_seen_follows_a_nick_change(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    """Issue 18's item 13 as a user sees it: ``!seen bob`` after bob became bobby."""
    chan, nick = f"#s{unique('')}", unique("lb")
    alice, bob = unique("alice"), unique("bob")
    bot = BotProcess(tmp_path, ngircd, nick, [chan])
    bot.config["plugins"] = {"enabled": ["seen"], "data_dir": str(tmp_path / "data")}
    peer = run_until(connect(reactor, ngircd, alice))
    other = run_until(connect(reactor, ngircd, bob))
    said = replies(nick, chan)
    try:
        other.send(f"JOIN {chan}")
        bot.start_seen_by(run_until, peer, [chan])
        other.send(f"PRIVMSG {chan} :off to change my name")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan), lambda t: "change my name" in t))
        other.send(f"NICK {bob}y")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan), lambda t: f"{bob}y" in t))
        peer.send(f"PRIVMSG {chan} :!seen {bob}")
        line = run_until(peer.expect(said + rf".*{re.escape(bob)}.*changing nick to {bob}y"))
        assert "off to change my name" in line
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
        other.abort()
