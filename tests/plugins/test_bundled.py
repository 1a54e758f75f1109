"""The bundled plugins (the repository's ``plugins/`` folder), each through the real
plugin manager on the bot's fakes: ``PluginHarness(..., bundled=True)``.

Time is the fake clock's (the wall clock is ``WALL0`` plus it): nothing sleeps.
``!last`` and ``!grep`` read the channel's log from disk, so their harness logs with
a real :class:`~logbot.logs.writer.LogWriter` under the harness's log root.  The
``roll`` exec plugin runs on the fake reactor (``spawnProcess`` is recorded and the
test plays the child), and once as a real child on a real reactor.
"""

from __future__ import annotations

import json
import platform
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import logbot
from logbot.config.settings import RateLimit
from logbot.logs.writer import LogWriter
from logbot.plugins.manager import PluginManager
from logbot.plugins.runner import NetworkPlugins
from logbot.reactor.error import ProcessDone, ProcessTerminated
from logbot.reactor.failure import Failure
from tests.bot.fakes import WALL0
from tests.plugins.fakes import ALICE, BOB, ROOT, PluginHarness

BUNDLED = Path(__file__).resolve().parents[2] / "plugins"
ROLL = BUNDLED / "exec.d" / "roll.sh"
ALL = ("help", "ping", "version", "uptime", "hello", "seen", "last", "grep", "admin")
ADMINS = ("*!*@admin.host",)
PLENTY = RateLimit(burst=1000, per=1.0)  # rate limits out of the way


def harness(tmp_path: Path, *enabled: str, **options: Any) -> PluginHarness:
    h = PluginHarness(tmp_path, enabled=enabled, bundled=True, **options)
    assert h.up() == []
    return h


def idle(h: PluginHarness, seconds: float) -> None:
    """Let ``seconds`` pass on the fake clock, the server pinging every minute so
    that the connection does not count as dead."""
    while seconds > 0:
        step = min(60.0, seconds)
        h.reactor.advance(step)
        seconds -= step
        h.feed("PING :idle")
    h.sent()


def action(text: str) -> str:
    return f"\x01ACTION {text}\x01"


def joins(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("JOIN ")]


def reconnect(h: PluginHarness) -> list[str]:
    """Lose the connection, wait past the reconnect delay, connect and register again;
    what the bot sent on registering."""
    h.lose()
    h.reactor.advance(60)
    h.connect()
    h.sent()  # CAP LS, NICK, USER
    h.register()
    return h.sent()


# -- help ----------------------------------------------------------------------------------


def test_help_lists_the_enabled_commands_and_admin_ones_only_to_admins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, *ALL, admins=ADMINS)
    assert h.say("!help") == [
        (
            "#a",
            (
                "alice: commands: !grep, !hello, !help, !last, !ping, !seen, !uptime, !version; "
                "!help <command> says more"
            ),
        )
    ]
    assert h.say("!help", source=ROOT) == [
        (
            "#a",
            (
                "root: commands: !grep, !hello, !help, !join, !last, !part, !ping, !reload, !seen, "
                "!uptime, !version; !help <command> says more"
            ),
        )
    ]


def test_help_lists_only_what_is_enabled(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "help", "ping")
    assert h.say("!help") == [("#a", "alice: commands: !help, !ping; !help <command> says more")]
    assert h.say("!commands", source=BOB) == [
        ("#a", "bob: commands: !help, !ping; !help <command> says more")
    ]


def test_help_on_one_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, *ALL, user_rate=PLENTY)
    assert h.say("!help seen") == [
        ("#a", "alice: !seen <nick>: says when someone last spoke here, and what they said")
    ]
    assert h.say("!help ping") == [("#a", "alice: !ping: answers pong")]
    # an alias names its command; the aliases are listed; "!" before the name is fine
    assert h.say("!help hi") == [("#a", "alice: !hello: says what this bot is (also !hi)")]
    assert h.say("!help !HELP") == [
        (
            "#a",
            (
                "alice: !help [command]: lists the commands, or shows how to use one "
                "(also !commands)"
            ),
        )
    ]
    assert h.say("!help join") == [
        ("#a", "alice: !join <#channel> [key]: joins a channel (until !part) (admins only)")
    ]
    assert h.say("!help nope") == [("#a", "alice: there is no command nope; !help lists them")]
    assert h.say("help last", target="bot") == [
        ("alice", ("alice: !last [n] [nick]: shows the last lines said here, newest first"))
    ]


def test_help_with_a_configured_prefix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "help", "ping", "admin", prefix="?")
    assert h.say("!help") == []
    assert h.say("?help") == [("#a", "alice: commands: ?help, ?ping; ?help <command> says more")]
    assert h.say("?help ?part", after=10) == [
        (
            "#a",
            (
                "alice: ?part [#channel] [reason]: leaves a channel (this one by default) "
                "(admins only)"
            ),
        )
    ]
    assert h.say("?help nope", after=10) == [
        ("#a", "alice: there is no command nope; ?help lists them")
    ]


# -- ping, version, uptime, hello ------------------------------------------------------------


def test_ping(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "ping")
    assert h.say("!ping") == [("#a", "alice: pong")]
    assert h.say("bot: ping", source=BOB) == [("#a", "bob: pong")]
    assert h.say("ping", target="bot", after=10) == [("alice", "alice: pong")]


def test_version_is_the_packages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "version")
    assert logbot.__version__
    assert h.say("!version") == [
        ("#a", f"alice: logbot {logbot.__version__} on Python {platform.python_version()}")
    ]


def test_uptime_says_how_long_running_and_connected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(tmp_path, enabled=("uptime",), bundled=True)  # the service starts
    h.reactor.advance(600)  # ... and registers on the network 10 min later
    assert h.up() == []
    assert h.say("!uptime") == [("#a", "alice: up 10 min; connected to irc1.example:6667 for 0 s")]
    idle(h, 3060)
    assert h.say("!uptime") == [
        ("#a", "alice: up 1 h 1 min; connected to irc1.example:6667 for 51 min")
    ]
    idle(h, 2 * 86400 + 3 * 3600 + 59)
    assert h.say("!uptime", source=BOB) == [
        ("#a", "bob: up 2 d 4 h; connected to irc1.example:6667 for 2 d 3 h")
    ]


def test_uptime_counts_the_connection_from_the_latest_registration(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "uptime")
    idle(h, 7200)
    reconnect(h)  # registers again 60 s after the connection was lost, on the next server
    h.join("#a")
    idle(h, 60)
    assert h.say("!uptime") == [
        ("#a", "alice: up 2 h 2 min; connected to irc2.example:6667 for 1 min")
    ]


def test_hello(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "hello")
    assert h.say("bot: hello") == [("#a", "alice: I am a log bot")]
    assert h.say("!hi", source=BOB) == [("#a", "bob: I am a log bot")]
    assert h.say("hello", target="bot", after=10) == [("alice", "alice: I am a log bot")]
    assert h.say("hello there") == []  # not addressed


# -- seen ----------------------------------------------------------------------------------


def test_seen_reports_the_last_message_and_when(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "seen")
    assert h.say("first thing") == []
    assert h.say("hi there", after=30) == []
    idle(h, 7500)
    assert h.say("!seen alice", source=BOB) == [
        ("#a", "bob: alice was last seen 2 h 5 min ago, saying: hi there")
    ]


def test_seen_remembers_an_action(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "seen")
    h.say("hi there")
    h.say(action("waves"), after=5)
    idle(h, 250)
    assert h.say("!seen alice", source=BOB) == [
        ("#a", "bob: alice was last seen 4 min 10 s ago, saying: * alice waves")
    ]
    h.say("and talks again")
    assert h.say("!seen alice", source=BOB, after=12) == [
        ("#a", "bob: alice was last seen 12 s ago, saying: and talks again")
    ]


def test_seen_folds_the_nick_and_keeps_its_spelling(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "seen")
    h.say("I am back", source="Carol!~c@c.host")
    assert h.say("!seen CAROL", source=BOB, after=60) == [
        ("#a", "bob: Carol was last seen 1 min ago, saying: I am back")
    ]
    assert h.say("!seen carol", source=BOB, after=60) == [
        ("#a", "bob: Carol was last seen 2 min ago, saying: I am back")
    ]


def test_seen_folds_with_the_servers_casemapping(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "seen")  # the harness's server says CASEMAPPING=rfc1459
    h.say("brackets", source="Dan[1]!~d@d.host")
    assert h.say("!seen dan{1}", source=BOB, after=60) == [
        ("#a", "bob: Dan[1] was last seen 1 min ago, saying: brackets")
    ]


def test_seen_a_channel_never_learns_another_channels_talk(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "seen")
    h.join("#B")
    h.say("only in B", target="#B")
    assert h.say("!seen alice", source=BOB, after=60) == [
        ("#a", "bob: I have not seen alice say anything here")
    ]
    assert h.say("!seen alice", source=BOB, target="#B") == [
        ("#B", "bob: alice was last seen 1 min ago, saying: only in B")
    ]
    h.say("now in a")
    assert h.say("!seen alice", source=BOB, target="#b", after=60) == [
        ("#b", "bob: alice was last seen 2 min ago, saying: only in B")
    ]
    assert h.say("!seen alice", source=BOB, after=10) == [
        ("#a", "bob: alice was last seen 1 min 10 s ago, saying: now in a")
    ]


def test_seen_remembers_nolog_lines_without_their_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "seen")
    h.say("public words")
    h.say("[nolog] a secret", after=60)
    assert h.say("!seen alice", source=BOB, after=120) == [
        ("#a", "bob: alice was last seen 2 min ago")
    ]
    h.say(action("[nolog] hides"))
    assert h.say("!seen alice", source=BOB, after=10) == [
        ("#a", "bob: alice was last seen 10 s ago")
    ]


def test_seen_nolog_prefix_is_a_setting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "seen", settings={"seen": {"nolog_prefix": "(off)"}})
    h.say("(off) hidden")
    assert h.say("!seen alice", source=BOB, after=10) == [
        ("#a", "bob: alice was last seen 10 s ago")
    ]
    h.say("[nolog] kept")
    assert h.say("!seen alice", source=BOB, after=10) == [
        ("#a", "bob: alice was last seen 10 s ago, saying: [nolog] kept")
    ]


def test_seen_survives_a_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = harness(tmp_path, "seen")
    first.say("before the restart")
    first.manager.close()

    again = harness(tmp_path, "seen")  # the same data_dir; its clock starts over
    idle(again, 7500)
    assert again.say("!seen alice", source=BOB) == [
        ("#a", "bob: alice was last seen 2 h 5 min ago, saying: before the restart")
    ]
    assert again.say("!seen carol", source=ALICE) == [
        ("#a", "alice: I have not seen carol say anything here")
    ]


def test_seen_in_private_and_without_a_nick(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "seen")
    h.say("hello")
    assert h.say("seen alice", target="bot", source=BOB) == [("bob", "bob: ask me in a channel")]
    assert h.say("!seen", source=BOB) == [("#a", "bob: usage: !seen <nick>")]
    assert h.say("!seen carol", source=BOB) == [
        ("#a", "bob: I have not seen carol say anything here")
    ]


# -- last and grep: a real log writer ------------------------------------------------------


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[Callable[..., PluginHarness]]:
    """``logged(**options)``: a harness with last and grep whose bot logs to disk
    (under the harness's log root), with the rate limits and the loop guard out of
    the way.  The client holds the writer while it reads a line and releases it
    before anything is sent back, so every line said before a command is on disk."""
    writers: list[LogWriter] = []

    def make(**options: Any) -> PluginHarness:
        options.setdefault("user_rate", PLENTY)
        options.setdefault("channel_rate", PLENTY)
        options.setdefault("loop_repeats", 1000)
        h = PluginHarness(tmp_path, enabled=("last", "grep"), bundled=True, **options)
        writer = LogWriter(
            h.reactor, root=tmp_path / "logs", wall=lambda: WALL0 + h.reactor.seconds()
        )
        writers.append(writer)
        h.writer = h.bot.writer = writer  # type: ignore[assignment]
        assert h.up() == []
        return h

    yield make
    for writer in writers:
        writer.close()


def chat(h: PluginHarness) -> None:
    """Four lines in #a, one a second from 14:15:00 (the fake wall clock)."""
    assert h.say("first words") == []
    assert h.say("bob speaks", source=BOB, after=1) == []
    assert h.say(action("waves"), after=1) == []
    assert h.say("bob again", source=BOB, after=1) == []


def test_last_shows_the_newest_lines_newest_first(logged, tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = logged()
    chat(h)
    log = tmp_path / "logs" / "testnet" / "#a" / "2026-09-21.log"
    assert log.read_text().splitlines()[-1] == "2026-09-21T14:15:03  <bob> bob again"
    assert h.say("!last", after=1) == [
        ("#a", "[2026-09-21 14:15:03] <bob> bob again"),
        ("#a", "[2026-09-21 14:15:02] * alice waves"),
        ("#a", "[2026-09-21 14:15:01] <bob> bob speaks"),
    ]
    assert h.say("!last 1") == [("#a", "[2026-09-21 14:15:03] <bob> bob again")]


def test_last_by_one_nick(logged) -> None:  # type: ignore[no-untyped-def]
    h = logged()
    chat(h)
    bobs = [
        ("#a", "[2026-09-21 14:15:03] <bob> bob again"),
        ("#a", "[2026-09-21 14:15:01] <bob> bob speaks"),
    ]
    assert h.say("!last 2 bob") == bobs
    assert h.say("!last BOB 5") == bobs
    assert h.say("!last alice", source=BOB) == [
        ("#a", "[2026-09-21 14:15:02] * alice waves"),
        ("#a", "[2026-09-21 14:15:00] <alice> first words"),
    ]
    assert h.say("!last carol") == [("#a", "alice: nothing logged here from carol yet")]


def test_last_leaves_out_the_bots_replies_and_the_commands(logged, tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = logged()
    chat(h)
    assert len(h.say("!last 2", after=1)) == 2
    assert len(h.say("bot: last 1", source=BOB, after=1)) == 1
    assert len(h.say("!grep bob", after=1)) == 2
    log = (tmp_path / "logs" / "testnet" / "#a" / "2026-09-21.log").read_text()
    assert "<bot> [2026-09-21 14:15:03] <bob> bob again" in log  # logged, yet not shown:
    assert h.say("!last 5", after=1) == [
        ("#a", "[2026-09-21 14:15:03] <bob> bob again"),
        ("#a", "[2026-09-21 14:15:02] * alice waves"),
        ("#a", "[2026-09-21 14:15:01] <bob> bob speaks"),
        ("#a", "[2026-09-21 14:15:00] <alice> first words"),
    ]
    assert h.say("!last bot") == [("#a", "alice: nothing logged here from bot yet")]


def test_last_with_nothing_logged(logged) -> None:  # type: ignore[no-untyped-def]
    h = logged()
    assert h.say("!last") == [("#a", "alice: nothing logged here yet")]
    assert h.say("last", target="bot") == [("alice", "alice: ask me in a channel")]


def test_last_is_bounded_by_the_max_setting(logged) -> None:  # type: ignore[no-untyped-def]
    h = logged(settings={"last": {"max": 2}})
    chat(h)
    newest_two = [
        ("#a", "[2026-09-21 14:15:03] <bob> bob again"),
        ("#a", "[2026-09-21 14:15:02] * alice waves"),
    ]
    assert h.say("!last 9", after=1) == newest_two
    assert h.say("!last") == newest_two  # the default count (3) is bounded too


def test_last_is_bounded_by_five_by_default(logged) -> None:  # type: ignore[no-untyped-def]
    h = logged()
    for n in range(7):
        h.say(f"line {n}", after=1)
    assert h.say("!last 99", after=1) == [
        ("#a", f"[2026-09-21 14:15:{n:02d}] <alice> line {n - 1}") for n in (7, 6, 5, 4, 3)
    ]
    # a number that is not ASCII digits is a nick, not an error
    assert h.say("!last \u00b2") == [("#a", "alice: nothing logged here from \u00b2 yet")]


def test_grep_finds_lines_holding_every_word_ignoring_case(logged) -> None:  # type: ignore[no-untyped-def]
    h = logged()
    h.say("The Quick brown FOX")
    h.say("quick thinking", after=1)
    h.say("brown bread", source=BOB, after=1)
    assert h.say("!grep fox QUICK", after=1) == [
        ("#a", "[2026-09-21 14:15:00] <alice> The Quick brown FOX")
    ]
    assert h.say("!grep brown") == [
        ("#a", "[2026-09-21 14:15:02] <bob> brown bread"),
        ("#a", "[2026-09-21 14:15:00] <alice> The Quick brown FOX"),
    ]
    # the same again: neither the commands nor the bot's replies (which hold the words)
    assert h.say("!grep brown", after=1) == [
        ("#a", "[2026-09-21 14:15:02] <bob> brown bread"),
        ("#a", "[2026-09-21 14:15:00] <alice> The Quick brown FOX"),
    ]
    assert h.say("!grep ink thin") == [("#a", "[2026-09-21 14:15:01] <alice> quick thinking")]


def test_grep_takes_a_pattern_literally(logged) -> None:  # type: ignore[no-untyped-def]
    h = logged()
    h.say("abc and aaa")
    h.say("x = a.* literally", after=1)
    assert h.say("!grep a.*", after=1) == [
        ("#a", "[2026-09-21 14:15:01] <alice> x = a.* literally")
    ]
    assert h.say("!grep (a+)+$") == [("#a", "alice: no line here holds '(a+)+$'")]
    assert h.say("!grep [abc]") == [("#a", "alice: no line here holds '[abc]'")]


def test_grep_without_a_match_or_words(logged) -> None:  # type: ignore[no-untyped-def]
    h = logged()
    chat(h)
    assert h.say("!grep zebra", after=1) == [("#a", "alice: no line here holds 'zebra'")]
    assert h.say("!grep bob zebra") == [("#a", "alice: no line here holds 'bob zebra'")]
    assert h.say("!grep") == [("#a", "alice: usage: !grep <words>")]
    assert h.say("grep bob", target="bot") == [("alice", "alice: ask me in a channel")]


def test_grep_is_bounded_by_the_max_setting(logged) -> None:  # type: ignore[no-untyped-def]
    h = logged(settings={"grep": {"max": 2}})
    for n in range(4):
        h.say(f"match {n}", after=1)
    assert h.say("!grep match", after=1) == [
        ("#a", "[2026-09-21 14:15:04] <alice> match 3"),
        ("#a", "[2026-09-21 14:15:03] <alice> match 2"),
    ]


def test_grep_shows_three_by_default(logged) -> None:  # type: ignore[no-untyped-def]
    h = logged()
    for n in range(4):
        h.say(f"match {n}", after=1)
    assert h.say("!grep match", after=1) == [
        ("#a", f"[2026-09-21 14:15:0{n + 1}] <alice> match {n}") for n in (3, 2, 1)
    ]


def test_last_and_grep_never_show_another_channels_lines(logged) -> None:  # type: ignore[no-untyped-def]
    h = logged()
    h.join("#B")
    h.say("public words")
    h.say("secret plan words", source=BOB, target="#B", after=1)
    assert h.say("!last", after=1) == [("#a", "[2026-09-21 14:15:00] <alice> public words")]
    assert h.say("!grep secret") == [("#a", "alice: no line here holds 'secret'")]
    assert h.say("!grep words") == [("#a", "[2026-09-21 14:15:00] <alice> public words")]
    assert h.say("!last", target="#B") == [("#B", "[2026-09-21 14:15:01] <bob> secret plan words")]
    assert h.say("!grep words", target="#B") == [
        ("#B", "[2026-09-21 14:15:01] <bob> secret plan words")
    ]


# -- admin ---------------------------------------------------------------------------------


@pytest.fixture
def admin(tmp_path: Path) -> PluginHarness:
    return harness(tmp_path, "admin", "ping", admins=ADMINS, user_rate=PLENTY)


def test_join_by_an_admin_joins_now_and_after_a_reconnect(admin) -> None:  # type: ignore[no-untyped-def]
    h = admin
    h.feed(f":{ROOT} PRIVMSG #a :!join #x")
    assert h.sent() == ["JOIN #x", "PRIVMSG #a :root: joining #x"]
    h.join("#x")
    h.feed(f":{ROOT} PRIVMSG #a :!join #x")
    assert h.sent() == ["PRIVMSG #a :root: already in #x"]
    assert joins(reconnect(h)) == ["JOIN #a,#B,#x"]


def test_join_on_the_word_of_a_nick_that_only_fnmatch_made_an_admin(tmp_path: Path) -> None:
    # issue 15: with admins ["Nick[m]!*@*"], fnmatch made nickm an admin and the bot
    # joined a channel on his word; IRC masks have no character classes.
    h = harness(tmp_path, "admin", admins=("Nick[m]!*@*",), user_rate=PLENTY)
    h.feed(":nickm!~n@evil.host PRIVMSG #a :!join #evil")
    assert h.sent() == ["PRIVMSG #a :nickm: only admins may use join"]
    h.feed(":Nick[m]!~n@home.host PRIVMSG #a :!join #x")
    assert h.sent() == ["JOIN #x", "PRIVMSG #a :Nick[m]: joining #x"]


def test_join_sends_the_key(admin) -> None:  # type: ignore[no-untyped-def]
    h = admin
    h.feed(f":{ROOT} PRIVMSG #a :!join #k sesame")
    assert h.sent() == ["JOIN #k sesame", "PRIVMSG #a :root: joining #k"]
    assert joins(reconnect(h)) == ["JOIN #k,#a,#B sesame"]


def test_join_needs_a_channel(admin) -> None:  # type: ignore[no-untyped-def]
    h = admin
    assert h.say("!join", source=ROOT) == [("#a", "root: usage: !join <#channel> [key]")]
    assert h.say("!join nochannel", source=ROOT) == [
        ("#a", "root: 'nochannel' is not a channel name")
    ]


def test_part_replies_first_then_leaves_and_stays_out(admin) -> None:  # type: ignore[no-untyped-def]
    h = admin
    h.feed(f":{ROOT} PRIVMSG #a :!part")
    assert h.sent() == ["PRIVMSG #a :root: leaving #a"]
    h.reactor.advance(0)
    assert h.sent() == ["PART #a :asked by root"]
    h.feed(":bot!~bot@bot.host PART #a :asked by root")
    assert joins(reconnect(h)) == ["JOIN #B"]


def test_part_another_channel_with_a_reason(admin) -> None:  # type: ignore[no-untyped-def]
    h = admin
    h.join("#B")
    h.feed(f":{ROOT} PRIVMSG #a :!part #B time to go")
    assert h.sent() == ["PRIVMSG #a :root: leaving #B"]
    h.reactor.advance(0)
    assert h.sent() == ["PART #B :time to go"]
    assert joins(reconnect(h)) == ["JOIN #a"]


def test_part_in_private_needs_a_channel(admin) -> None:  # type: ignore[no-untyped-def]
    h = admin
    assert h.say("part", source=ROOT, target="bot") == [
        ("root", "root: usage: !part <#channel> [reason]")
    ]
    h.reactor.advance(0)
    assert h.sent() == []


def test_reload_one_plugin_or_all(admin) -> None:  # type: ignore[no-untyped-def]
    h = admin
    assert h.say("!reload ping", source=ROOT) == [("#a", "root: reloaded ping (1 command)")]
    assert h.say("!reload", source=ROOT) == [
        ("#a", "root: reloaded admin (3 commands); reloaded ping (1 command)")
    ]
    assert h.say("!reload seen", source=ROOT) == [("#a", "root: seen is not an enabled plugin")]
    assert h.say("!ping", after=10) == [("#a", "alice: pong")]  # still there


def test_admin_commands_are_refused_to_others(admin) -> None:  # type: ignore[no-untyped-def]
    h = admin
    h.feed(f":{ALICE} PRIVMSG #a :!join #x")
    assert h.sent() == ["PRIVMSG #a :alice: only admins may use join"]
    assert h.say("!part", source=BOB) == [("#a", "bob: only admins may use part")]
    h.reactor.advance(0)
    assert h.sent() == []
    assert h.say("!reload", source="mallory!~root@admin.host.evil") == [
        ("#a", "mallory: only admins may use reload")
    ]
    assert h.manager.stats.denied == 3
    assert joins(reconnect(h)) == ["JOIN #a,#B"]


def test_admin_commands_need_configured_admins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "admin")
    assert h.say("!reload", source=ROOT) == [("#a", "root: only admins may use reload")]


# -- the exec example: plugins/exec.d/roll.sh ------------------------------------------------


def test_roll_runs_the_script_with_the_request(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "roll", "help")
    assert h.say("!help roll") == [("#a", "alice: !roll [N]d<SIDES>: rolls dice, e.g. 2d6")]
    assert h.say("!roll 2d6", after=10) == []  # the child answers later
    [(proto, executable, args, env, _path, _fds)] = h.reactor.spawnedProcesses
    assert executable == str(ROLL)
    assert args == [str(ROLL)]
    assert {k: v for k, v in env.items() if k.startswith("LOGBOT_")} == {
        "LOGBOT_COMMAND": "roll",
        "LOGBOT_ARGS": "2d6",
        "LOGBOT_NICK": "alice",
        "LOGBOT_CHANNEL": "#a",
        "LOGBOT_ACCOUNT": "",
        "LOGBOT_NETWORK": "testnet",
    }
    stdin = proto.transport.written[0]
    assert stdin.endswith(b"\n") and stdin.count(b"\n") == 1
    assert json.loads(stdin) == {
        "command": "roll",
        "args": ["2d6"],
        "text": "2d6",
        "nick": "alice",
        "user": "~alice",
        "host": "alice.host",
        "account": None,
        "channel": "#a",
        "network": "testnet",
        "private": False,
    }
    assert 0 in proto.transport.closed_fds  # stdin is closed: EOF
    proto.outReceived(b"alice rolls 2d6: 3 + 4 = 7\n")
    assert h.replies() == []  # nothing before the child has ended
    proto.processEnded(Failure(ProcessDone(0)))
    assert h.replies() == [("#a", "alice rolls 2d6: 3 + 4 = 7")]
    assert proto.transport.signals == []


def test_roll_in_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "roll")
    h.say("roll d20", target="bot", source=BOB)
    [(proto, *_)] = h.reactor.spawnedProcesses
    request = json.loads(proto.transport.written[0])
    assert (request["channel"], request["private"], request["args"]) == (None, True, ["d20"])
    proto.outReceived(b"bob rolls 1d20: 17\n")
    proto.processEnded(Failure(ProcessDone(0)))
    assert h.replies() == [("bob", "bob rolls 1d20: 17")]


def test_roll_past_its_deadline_is_killed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "roll", timeout=3.0)
    h.say("!roll 2d6")
    [(proto, *_)] = h.reactor.spawnedProcesses
    h.reactor.advance(2.9)
    assert proto.transport.signals == []
    h.reactor.advance(0.1)
    assert proto.transport.signals == ["KILL"]
    assert proto.transport.lost
    proto.outReceived(b"alice rolls 2d6: 1 + 1 = 2\n")  # too late: ignored
    assert h.replies() == []  # the reply waits for the child's end
    proto.processEnded(Failure(ProcessTerminated(None, signal.SIGKILL, 9)))
    assert h.replies() == [("#a", "alice: sorry, roll failed (ExecPluginTimeout)")]
    assert h.manager.stats.errors == {"roll": 1}


def test_roll_failing_is_an_error_reply(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness(tmp_path, "roll")
    h.say("!roll 2d6")
    [(proto, *_)] = h.reactor.spawnedProcesses
    proto.outReceived(b"half an answer\n")
    proto.processEnded(Failure(ProcessTerminated(1, None, 256)))
    assert h.replies() == [("#a", "alice: sorry, roll failed (ExecPluginError)")]


def real_harness(tmp_path: Path, reactor: Any) -> PluginHarness:
    """A harness whose plugin manager (and so the exec plugin) runs on a real reactor;
    the bot and its connection stay on the fakes."""
    h = PluginHarness(tmp_path, enabled=("roll",), bundled=True)
    h.runner.close()
    h.manager = PluginManager(
        h.options,
        reactor,
        log_root=str(tmp_path / "logs"),
        wall=lambda: WALL0 + h.reactor.seconds(),
        bundled_dir=BUNDLED,
        entry_points=list,
    )
    h.runner = NetworkPlugins(h.manager, h.bot)
    h.bot.plugins = h.runner
    assert h.up() == []
    return h


def test_roll_as_a_real_child(tmp_path, reactor, run_until, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    h = real_harness(tmp_path, reactor)
    roll = h.manager.plugins["roll"].module  # the ExecPlugin
    uses: list[Any] = []
    run = roll.run
    monkeypatch.setattr(roll, "run", lambda request: uses.append(run(request)) or uses[-1])

    h.say("!roll 3d6")
    [use] = uses
    run_until(use, timeout=10)  # the runner's reply callback ran before this returns
    [(target, text)] = h.replies()
    assert target == "#a"
    match = re.fullmatch(r"alice rolls 3d6: ([1-6]) \+ ([1-6]) \+ ([1-6]) = (\d+)", text)
    assert match is not None, text
    assert sum(map(int, match.groups()[:3])) == int(match.group(4))

    h.say("!roll 0d6", after=10)
    run_until(uses[1], timeout=10)
    assert h.replies() == [
        ("#a", "usage: !roll [N]d<SIDES> (N 1..20, SIDES 2..1000), e.g. !roll 2d6")
    ]
