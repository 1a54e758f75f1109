"""Plugins on one network, on the reactor's fakes: dispatch, safety, permissions."""

from __future__ import annotations

import logging
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from logbot.config.settings import RateLimit
from tests.plugins.fakes import ALICE, BOB, ROOT, PluginHarness

ECHO = """
    from logbot.plugin import command

    @command("echo", "say", help="says it back", usage="<text>")
    def echo(context):
        return context.argtext or None

    @command("who")
    def who(context):
        return f"{context.nick} {context.user} {context.host} {context.account} " \\
               f"{context.channel} {context.target} {context.args}"
"""


@pytest.fixture
def h(tmp_path):  # type: ignore[no-untyped-def]
    harness = PluginHarness(tmp_path, enabled=("echo",))
    harness.plugin("echo", ECHO)
    assert harness.up() == []
    return harness


# -- recognising commands ----------------------------------------------------------------


def test_prefix_addressing_and_private_messages_run_commands(h) -> None:  # type: ignore[no-untyped-def]
    assert h.say("!echo one") == [("#a", "one")]
    assert h.say("bot: echo two", after=10) == [("#a", "two")]
    assert h.say("BOT, echo three", after=10) == [("#a", "three")]
    assert h.say("bot: !echo four", after=10) == [("#a", "four")]
    assert h.say("echo five", target="bot", after=10) == [("alice", "five")]
    assert h.say("!say six", target="bot", after=10) == [("alice", "six")]


def test_other_lines_and_unknown_commands_are_ignored(h) -> None:  # type: ignore[no-untyped-def]
    assert h.say("echo not addressed") == []
    assert h.say("!unknown thing") == []
    assert h.say("bots: echo no") == []
    assert h.say("! echo spaced") == []


def test_the_context_carries_who_and_where(h) -> None:  # type: ignore[no-untyped-def]
    h.feed(f"@account=alice_acct :{ALICE} PRIVMSG #a :!who x  y")
    assert h.replies() == [("#a", "alice ~alice alice.host alice_acct #a #a ('x', 'y')")]
    assert h.say("who", target="bot", source=BOB, after=10) == [
        ("bob", "bob ~bob bob.host None None bob ()")
    ]


def test_a_configured_prefix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(tmp_path, enabled=("echo",), prefix="@@")
    h.plugin("echo", ECHO)
    h.up()
    assert h.say("!echo no") == []
    assert h.say("@@echo yes") == [("#a", "yes")]


def test_the_bots_own_lines_and_playback_run_nothing(h) -> None:  # type: ignore[no-untyped-def]
    assert h.say("!echo mine", source="bot!~bot@bot.host") == []
    assert h.say("!echo old", tags="time=2020-01-01T00:00:00.000Z") == []
    assert h.say("!echo new", tags="time=2026-09-21T14:13:20.000Z") == [("#a", "new")]


def test_playback_is_told_by_age_as_the_clock_moves_on_and_back(h) -> None:  # type: ignore[no-untyped-def]
    """A line is playback when its server-time is over STALE_AFTER (120 s) behind our
    clock; the cut-off kept between lines follows the clock, forwards and back."""
    manager = h.manager
    start = manager.wall()  # 2026-09-21T14:15:00Z (the fake wall clock, 100 s in)

    def stamp(seconds_before: float) -> str:
        when = datetime.fromtimestamp(manager.wall() - seconds_before, UTC)
        return "time=" + when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"

    assert h.say("!echo fresh", tags=stamp(119)) == [("#a", "fresh")]
    assert h.say("!echo old", tags=stamp(122)) == []
    h.reactor.advance(30)  # later: the same server-time is now 149 s old
    assert h.say("!echo aged", tags=stamp(149)) == []
    assert h.say("!echo young", tags=stamp(60)) == [("#a", "young")]
    h.manager.wall = lambda: start - 3600  # our clock set back an hour
    assert h.say("!echo back", tags=stamp(5)) == [("#a", "back")]
    assert h.say("!echo stale", tags=stamp(300)) == []


def test_a_server_clock_off_by_an_hour_is_measured_at_registration(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(tmp_path, enabled=("echo",))
    h.plugin("echo", ECHO)
    h.manager.load_all()
    h.start()
    h.connect()
    # the fake wall clock is 2026-09-21T14:13:20Z + 100 s; this server is an hour behind
    h.feed(
        "@time=2026-09-21T13:15:00.000Z :irc.example 001 bot :Welcome",
        ":irc.example 005 bot CHANTYPES=#& :are supported",
    )
    h.join("#a")
    h.sent()
    assert h.say("!echo live", tags="time=2026-09-21T13:15:01.000Z") == [("#a", "live")]
    assert h.say("!echo replayed", tags="time=2026-09-21T13:10:00.000Z") == []


def test_ignored_masks_run_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(tmp_path, enabled=("echo",), ignore=("*!*@bob.host",))
    h.plugin("echo", ECHO)
    h.up()
    assert h.say("!echo hi", source=BOB) == []
    assert h.say("!echo hi", source=ALICE) == [("#a", "hi")]


# -- replies are safe --------------------------------------------------------------------


def test_a_reply_cannot_smuggle_a_second_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(tmp_path, enabled=("evil",))
    h.plugin(
        "evil",
        """
        from logbot.plugin import command

        @command("evil")
        def evil(context):
            return ["ok\\r\\nQUIT :pwned", "a\\rJOIN #x", "b\\nKICK #a alice", "nul\\0PART #a",
                    "\\x01ACTION ctcp\\x01"]
    """,
    )
    h.up()
    h.feed(f":{ALICE} PRIVMSG #a :!evil")
    raw = h.transport.value().decode()
    lines = raw.split("\r\n")[:-1]
    assert lines and all(line.startswith("PRIVMSG #a :") for line in lines)
    assert "\0" not in raw and "\x01" not in raw
    assert [line.removeprefix("PRIVMSG #a :") for line in lines] == [
        "ok",
        "QUIT :pwned",
        "a",
        "JOIN #x",
        "(4 more lines not shown)",
    ]


def test_long_replies_are_split_and_capped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(tmp_path, enabled=("long",), max_lines=3, max_line_bytes=100)
    h.plugin(
        "long",
        """
        from logbot.plugin import command

        @command("long")
        def long(context):
            return "x" * 250

        @command("many")
        def many(context):
            return [str(n) for n in range(10)]
    """,
    )
    h.up()
    assert h.say("!long") == [("#a", "x" * 100), ("#a", "x" * 100), ("#a", "x" * 50)]
    assert h.say("!many", after=10) == [
        ("#a", "0"),
        ("#a", "1"),
        ("#a", "(8 more lines not shown)"),
    ]


def test_the_loop_guard_holds_back_a_repeated_reply(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(
        tmp_path, enabled=("echo",), loop_repeats=2, loop_window=60.0, user_rate=RateLimit(100, 1.0)
    )
    h.plugin("echo", ECHO)
    h.up()
    assert h.say("!echo same") == [("#a", "same")]
    assert h.say("!echo same", source=BOB) == [("#a", "same")]
    assert h.say("!echo same") == []
    assert h.manager.stats.loops_suppressed == 1
    assert h.say("!echo other") == [("#a", "other")]
    assert h.say("!echo same", after=60) == [("#a", "same")]


# -- rate limits ---------------------------------------------------------------------------


def test_a_user_is_rate_limited_and_others_are_not(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(
        tmp_path, enabled=("echo",), user_rate=RateLimit(2, 10.0), channel_rate=RateLimit(100, 1.0)
    )
    h.plugin("echo", ECHO)
    h.up()
    assert h.say("!echo 1") == [("#a", "1")]
    assert h.say("!echo 2") == [("#a", "2")]
    h.feed(f":{ALICE} PRIVMSG #a :!echo 3")
    assert h.sent() == ["NOTICE alice :slow down: 2 commands at once, then one every 10 s"]
    assert h.say("!echo b", source=BOB) == [("#a", "b")]
    h.feed(f":{ALICE} PRIVMSG #a :!echo 4")
    assert h.sent() == []  # told once
    assert h.say("!echo 5", after=10.1) == [("#a", "5")]
    h.feed(f":{ALICE} PRIVMSG #a :!echo 6")
    assert h.sent() == ["NOTICE alice :slow down: 2 commands at once, then one every 10 s"]
    assert h.manager.stats.rate_limited == 3


def test_a_channel_is_rate_limited(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(
        tmp_path, enabled=("echo",), user_rate=RateLimit(100, 1.0), channel_rate=RateLimit(3, 5.0)
    )
    h.plugin("echo", ECHO)
    h.up()
    users = [f"u{n}!~u@host{n}" for n in range(5)]
    got = [h.say(f"!echo {n}", source=user) for n, user in enumerate(users)]
    assert got == [[("#a", "0")], [("#a", "1")], [("#a", "2")], [], []]
    # private messages are not charged to the channel
    assert h.say("echo p", target="bot", source=users[4]) == [("u4", "p")]


# -- errors and deadlines ------------------------------------------------------------------


BROKEN = """
    from logbot.plugin import command
    from logbot.reactor import defer

    @command("boom")
    def boom(context):
        raise KeyError("secret-ish detail")

    @command("bad")
    def bad(context):
        return 42

    @command("slow")
    async def slow(context):
        await context.sleep(60)
        return "too late"

    @command("quick")
    async def quick(context):
        await context.sleep(1)
        return ["done", "twice"]

    @command("later")
    def later(context):
        d = defer.Deferred()
        context.clock.callLater(2, d.callback, "deferred reply")
        return d

    @command("failing")
    def failing(context):
        return defer.fail(ValueError("no"))
"""


@pytest.fixture
def broken(tmp_path):  # type: ignore[no-untyped-def]
    harness = PluginHarness(
        tmp_path,
        enabled=("broken",),
        user_rate=RateLimit(100, 1.0),
        channel_rate=RateLimit(100, 1.0),
    )
    harness.plugin("broken", BROKEN)
    harness.up()
    return harness


def test_an_exception_is_logged_counted_and_answered(broken, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.ERROR):
        assert broken.say("!boom") == [("#a", "alice: sorry, boom failed (KeyError)")]
    assert broken.manager.stats.errors == {"broken": 1}
    assert "Traceback" in caplog.text and "secret-ish detail" in caplog.text
    assert broken.say("!bad") == [("#a", "alice: sorry, bad failed (ReplyError)")]
    assert broken.say("!failing") == [("#a", "alice: sorry, failing failed (ValueError)")]
    assert broken.manager.stats.errors == {"broken": 3}
    assert broken.bot.stats.connected  # still there


def test_the_error_reply_is_configurable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(tmp_path, enabled=("broken",), error_reply=None)
    h.plugin("broken", BROKEN)
    h.up()
    assert h.say("!boom") == []
    assert h.manager.stats.errors == {"broken": 1}


def test_async_and_deferred_replies(broken) -> None:  # type: ignore[no-untyped-def]
    assert broken.say("!quick") == []
    broken.reactor.advance(1)
    assert broken.replies() == [("#a", "done"), ("#a", "twice")]
    assert broken.say("!later") == []
    broken.reactor.advance(2)
    assert broken.replies() == [("#a", "deferred reply")]


def test_an_async_handler_past_its_deadline_is_cancelled(broken) -> None:  # type: ignore[no-untyped-def]
    assert broken.say("!slow") == []
    broken.reactor.advance(9.9)
    assert broken.replies() == []
    broken.reactor.advance(0.2)
    assert broken.replies() == [("#a", "alice: sorry, slow failed (took longer than 10 s)")]
    assert broken.manager.stats.timeouts == 1
    broken.reactor.advance(100)  # the cancelled sleep never answers
    assert broken.replies() == []
    assert not broken.reactor.getDelayedCalls() or all(
        c.getTime() > broken.reactor.seconds() for c in broken.reactor.getDelayedCalls()
    )


# -- permissions -----------------------------------------------------------------------------


ADMIN = """
    from logbot.plugin import command

    @command("secret", admin=True)
    def secret(context):
        return f"yes {context.is_admin}"
"""


def admin_harness(tmp_path, caps: str = "", **options):  # type: ignore[no-untyped-def]
    h = PluginHarness(tmp_path, enabled=("adm",), caps=caps, **options)
    h.plugin("adm", ADMIN)
    h.up()
    return h


def test_admins_by_hostmask(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = admin_harness(tmp_path, admins=("*!*@admin.host",))
    assert h.say("!secret", source=ROOT) == [("#a", "yes True")]
    assert h.say("!secret", source=ALICE) == [("#a", "alice: only admins may use secret")]
    assert h.manager.stats.denied == 1


def test_admins_by_account_tag_and_extended_join(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = admin_harness(tmp_path, admins=("account:Alice",), caps="account-tag extended-join")
    assert h.say("!secret", tags="account=alice") == [("#a", "yes True")]
    assert h.say("!secret", tags="account=mallory", after=10) == [
        ("#a", "alice: only admins may use secret")
    ]
    h.feed(f":{BOB} JOIN #a alice :Bob")  # extended-join: bob is logged in as alice
    assert h.say("!secret", source=BOB, after=10) == [("#a", "yes True")]


def test_admins_by_account_asked_with_whox(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = admin_harness(tmp_path, admins=("account:alice",))
    h.feed(":irc.example 005 bot WHOX :are supported")
    h.feed(f":{BOB} PRIVMSG #a :!secret")
    assert h.sent() == ["WHO bob %tna,417"]
    h.feed(":irc.example 354 bot 417 bob alice", ":irc.example 315 bot bob :End of WHO")
    assert h.replies() == [("#a", "yes True")]
    assert h.say("!secret", source=ALICE, after=10) == []
    h.feed(":irc.example 354 bot 417 alice 0", ":irc.example 315 bot alice :End")
    assert h.replies() == [("#a", "alice: only admins may use secret")]


def test_a_whox_that_never_answers_denies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = admin_harness(tmp_path, admins=("account:alice",))
    h.feed(":irc.example 005 bot WHOX :are supported")
    h.say("!secret", source=BOB)
    h.reactor.advance(5)
    assert h.replies() == [("#a", "bob: only admins may use secret")]


def test_nobody_is_admin_without_admins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = admin_harness(tmp_path)
    assert h.say("!secret", source=ROOT) == [("#a", "root: only admins may use secret")]


def test_admin_masks_match_the_irc_way_not_as_fnmatch_classes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # fnmatch read "[m]" as a class: nickm was made an admin and Nick[m] was refused.
    h = admin_harness(tmp_path, admins=("Nick[m]!*@*",), user_rate=RateLimit(100, 1.0))
    refused = [("#a", "nickm: only admins may use secret")]
    assert h.say("!secret", source="nickm!~n@evil.host") == refused
    assert h.say("!secret", source="Nick[m]!~n@home.host") == [("#a", "yes True")]
    # rfc1459 (the harness's CASEMAPPING): "[" and "{" are one letter in two cases
    assert h.say("!secret", source="NICK{M}!~n@home.host", after=10) == [("#a", "yes True")]
    # "?" is one character and "*" any run; nothing else is special
    h = admin_harness(tmp_path, admins=("a?c!*@*.example",), user_rate=RateLimit(100, 1.0))
    assert h.say("!secret", source="abc!u@x.example") == [("#a", "yes True")]
    assert h.say("!secret", source="ac!u@x.example", after=10) == [
        ("#a", "ac: only admins may use secret")
    ]


def test_ignore_masks_match_the_irc_way(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(
        tmp_path, enabled=("echo",), ignore=("[bot]*!*@*",), user_rate=RateLimit(100, 1.0)
    )
    h.plugin("echo", ECHO)
    h.up()
    assert h.say("!echo hi", source="{BOT}relay!~r@relay.host") == []  # rfc1459 folding
    assert h.say("!echo hi", source="[bot]x!~r@relay.host", after=10) == []
    assert h.say("!echo hi", source="bottom!~b@b.host", after=10) == [("#a", "hi")]


# -- events, rules, setup ---------------------------------------------------------------------


HOOKS = """
    from logbot.plugin import command, event, rule

    seen = []

    def setup(context):
        seen.append(("setup", dict(context.config)))

    def teardown():
        seen.append(("teardown",))

    @event("join")
    def greet(context):
        return f"welcome {context.nick}"

    @event("part")
    @event("quit")
    @event("nick")
    @event("kick")
    @event("topic")
    @event("mode")
    def note(context):
        seen.append((type(context.event).__name__, context.nick, context.channel, context.text))

    @rule(r"\\bcoffee\\b")
    def coffee(context):
        return f"{context.nick} wants {context.match.group(0)}"

    @command("log")
    def log(context):
        return repr(seen[-1])
"""


def test_events_rules_setup_and_teardown(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(
        tmp_path,
        enabled=("hooks",),
        settings={"hooks": {"colour": "blue"}},
        user_rate=RateLimit(100, 1.0),
        channel_rate=RateLimit(100, 1.0),
    )
    h.plugin("hooks", HOOKS)
    h.up()
    module = h.manager.plugins["hooks"].module
    assert module.seen == [("setup", {"colour": "blue"})]
    h.feed(f":{BOB} JOIN #a")
    assert h.replies() == [("#a", "welcome bob")]
    h.feed(
        f":{BOB} PART #a :bye",
        f":{ALICE} NICK alicia",
        f":{ROOT} TOPIC #a :new",
        f":{ROOT} MODE #a +o alicia",
        f":{ROOT} KICK #a alicia :out",
    )
    assert module.seen[1:] == [
        ("Parted", "bob", "#a", "bye"),
        ("NickChanged", "alice", None, "alicia"),
        ("Topic", "root", "#a", "new"),
        ("ModeChanged", "root", "#a", "+o alicia"),
        ("Kicked", "root", "#a", "out"),
    ]
    assert h.say("I need coffee now", source=BOB) == [("#a", "bob wants coffee")]
    h.manager.close()
    assert module.seen[-1] == ("teardown",)


def test_the_bots_own_join_is_not_an_event(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(tmp_path, enabled=("hooks",))
    h.plugin("hooks", HOOKS)
    h.up()
    h.join("#other")
    assert h.replies() == []


# -- reload ----------------------------------------------------------------------------------


def test_reload_swaps_the_code_and_a_broken_version_leaves_the_old_one(h) -> None:  # type: ignore[no-untyped-def]
    h.plugin("echo", ECHO.replace("return context.argtext or None", "return 'v2'"))
    assert h.manager.reload("echo") == ["reloaded echo (2 commands)"]
    assert h.say("!echo x") == [("#a", "v2")]
    h.plugin("echo", "from logbot.plugin import command\n\n@command('echo'\ndef broken(:\n")
    messages = h.manager.reload("echo")
    assert len(messages) == 1 and messages[0].startswith("plugin echo failed to load: SyntaxError")
    assert "(echo.py line " in messages[0] and messages[0].endswith(
        "the previous version keeps running"
    )
    assert h.say("!echo x", after=10) == [("#a", "v2")]
    h.plugin("echo", "raise RuntimeError('at import')\n")
    assert "RuntimeError: at import (echo.py line 1)" in h.manager.reload("echo")[0]
    assert h.manager.reload("nope") == ["nope is not an enabled plugin"]
    assert h.bot.stats.connected and h.bot.stats.connections == 1


def test_a_failing_setup_keeps_the_old_version(h) -> None:  # type: ignore[no-untyped-def]
    h.plugin("echo", textwrap.dedent(ECHO) + "\ndef setup(context):\n    raise OSError('no db')\n")
    assert "setup() raised OSError: no db" in h.manager.reload("echo")[0]
    assert h.say("!echo still") == [("#a", "still")]


def test_a_missing_plugin_is_reported(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(tmp_path, enabled=("ghost", "empty"))
    h.plugin("empty", "x = 1\n")
    problems = h.up()
    assert problems[0].startswith("plugin ghost failed to load: not found in ")
    assert "has no @command, @rule or @event handler" in problems[1]
    assert h.manager.stats.load_failures == 2


def test_two_plugins_with_the_same_command_the_first_wins(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    h = PluginHarness(tmp_path, enabled=("one", "two"))
    h.plugin(
        "one", "from logbot.plugin import command\n\n@command('x')\ndef x(c):\n    return 'one'\n"
    )
    h.plugin(
        "two", "from logbot.plugin import command\n\n@command('x')\ndef x(c):\n    return 'two'\n"
    )
    with caplog.at_level(logging.WARNING):
        h.up()
    assert h.say("!x") == [("#a", "one")]
    assert "two's command 'x' is already one's" in caplog.text


def test_a_context_reads_every_field_it_does_not_hold_from_its_class(tmp_path: Path) -> None:
    """A context's dict holds the plugin's shared fields and the event's
    (ContextMaker.shared_fields and .base); any other field is read from the dataclass's class
    attribute, which must then be its default as a value (a function default, like
    ``now``'s, would read as a bound method; a factory-made one, like ``config``'s, is
    not there at all): so those must be among the fields held."""
    from dataclasses import fields

    from logbot.bot.testing import PluginHarness as BotHarness
    from logbot.plugin import Context

    with BotHarness("seen", tmp=tmp_path) as h:
        event = h.client.core.chat.received_line(":alice!a@h PRIVMSG #c :hi")
        held = set(h.runner.contexts.shared_fields("seen"))
        held |= set(h.runner.contexts.base(event, h.client, "#c", "hi"))
    fresh = Context()
    for f in fields(Context):
        if f.name in held:
            continue
        assert f.name in vars(Context), f"{f.name} has no class attribute"
        assert getattr(Context.__new__(Context), f.name) == getattr(fresh, f.name), f.name
