"""The public plugin harness, ``logbot.bot.testing.PluginHarness``, as a plugin author
uses it: plugins written to ``tmp_path``, plain calls and asserts.

What is checked is that the harness shows what the bot does (dispatch, private replies,
limits, admins, events, store, logs, time, exec plugins as real children), and that
it imports without pytest, since an installed logbot has none.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from logbot.bot.testing import HarnessError, PluginHarness, Reply
from logbot.config.loader import ConfigError
from logbot.config.settings import RateLimit

ECHO = """\
    from logbot.plugin import command


    @command("echo", help="says it back", usage="<text>")
    def echo(context):
        return f"{context.nick}: {context.argtext}"


    @command("boom")
    def boom(context):
        raise KeyError("x")


    @command("whoami")
    def whoami(context):
        mask = f"{context.nick}!{context.user}@{context.host}"
        return f"{mask} account={context.account} admin={context.is_admin}"


    @command("secret", admin=True)
    def secret(context):
        return "the secret"


    @command("setting")
    def setting(context):
        return repr(dict(context.config))
"""

EVENTS = """\
    from logbot.plugin import command, event


    def _seen(context):
        channels = list(getattr(context.event, "channels", ()))
        seen = context.store.get("seen", [])
        seen.append([context.event.__class__.__name__, context.nick, context.channel,
                     context.text, channels])
        context.store.set("seen", seen)


    def _hook(name):
        def hook(context):
            _seen(context)

        return event(name)(hook)


    for _name in ("action", "part", "kick", "quit", "nick", "topic", "mode", "invite"):
        globals()["on_" + _name] = _hook(_name)  # one function per event


    @event("join")
    def welcome(context):
        return f"welcome {context.nick}"


    @command("later")
    async def later(context):
        await context.sleep(5)  # within the default deadline, 10 s
        return f"{context.nick}: 5 s later, at {context.now():.0f}"
"""


def write(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def harness(tmp_path: Path, *plugins: str, **options: object) -> PluginHarness:
    folder = tmp_path / "plugins"
    write(folder, "echo.py", ECHO)
    write(folder, "events.py", EVENTS)
    return PluginHarness(list(plugins), plugin_dirs=[folder], tmp=tmp_path / "run", **options)  # type: ignore[arg-type]


def test_a_command_in_a_channel_and_in_private(tmp_path: Path) -> None:
    h = harness(tmp_path, "echo")
    assert h.say("#chan", "alice", "!echo hi there") == ["alice: hi there"]
    assert h.say("#chan", "alice", "logbot: echo addressed") == ["alice: addressed"]
    assert h.say("#chan", "alice", "echo no prefix") == []  # not a command in a channel
    assert h.say("#chan", "alice", "!nosuch") == []  # unknown: silent
    assert h.say(h.botnick, "bob", "echo psst") == ["bob: psst"]
    assert h.replies == [
        Reply("#chan", "alice: hi there"),
        Reply("#chan", "alice: addressed"),
        Reply("bob", "bob: psst"),
    ]
    assert "PRIVMSG bob :bob: psst" in h.sent
    with pytest.raises(HarnessError, match="neither a channel nor the bot"):
        h.say("carol", "bob", "hi")
    h.close()


def test_the_bots_own_parts_are_there(tmp_path: Path) -> None:
    h = harness(tmp_path, "echo", "help", "ping", prefix="?")
    assert h.say("#chan", "alice", "?ping") == ["alice: pong"]  # a bundled plugin
    assert h.say("#chan", "alice", "!ping") == []
    assert h.say("#chan", "alice", "?help echo") == ["alice: ?echo <text>: says it back"]
    # an exception is the bot's short error reply, and counted
    assert h.say("#chan", "bob", "?boom") == ["bob: sorry, boom failed (KeyError)"]
    assert h.errors == {"echo": 1}
    # replies are capped and split as the bot does (5 lines, 400 bytes a line)
    [line] = h.say("#chan", "bob", "?echo " + "x" * 300)
    assert line == "bob: " + "x" * 300
    h.close()


def test_users_hosts_accounts_and_admins(tmp_path: Path) -> None:
    h = harness(tmp_path, "echo", admins=["account:root", "*!*@admin.example"])
    assert h.say("#chan", "alice", "!whoami") == [
        "alice!~alice@alice.example account=None admin=False"
    ]
    assert h.say("#chan", "alice", "!whoami", account="al") == [
        "alice!~alice@alice.example account=al admin=False"
    ]
    assert h.say("#chan", "alice", "!secret") == ["alice: only admins may use secret"]
    assert h.say("#chan", "root", "!secret", account="root") == ["the secret"]
    assert h.say("#chan", "op!~op@admin.example", "!secret") == ["the secret"]
    assert h.say("#chan", "op", "!whoami") == ["op!~op@admin.example account=None admin=True"]
    h.close()


def test_settings_and_config_checks(tmp_path: Path) -> None:
    h = harness(tmp_path, "echo", settings={"echo": {"greeting": "hi", "list": [1, 2]}})
    assert h.say("#chan", "alice", "!setting") == ["{'greeting': 'hi', 'list': (1, 2)}"]
    h.close()
    with pytest.raises(ConfigError, match="admins"):
        harness(tmp_path, "echo", admins=["nobody"])
    with pytest.raises(ConfigError, match="bogus"):
        harness(tmp_path, "echo", bogus=1)


def test_a_plugin_that_does_not_load_is_an_error_saying_why(tmp_path: Path) -> None:
    write(tmp_path / "plugins", "broken.py", "from logbot.plugin import command\n\ndef f(:\n")
    with pytest.raises(HarnessError, match=r"plugin broken failed to load: SyntaxError"):
        harness(tmp_path, "echo", "broken")
    with pytest.raises(HarnessError, match="plugin ghost failed to load: not found"):
        harness(tmp_path, "ghost")


def test_rate_limits_are_the_bots_unless_lifted(tmp_path: Path) -> None:
    h = harness(tmp_path, "echo")
    answers = [h.say("#chan", "alice", f"!echo {n}") for n in range(7)]
    assert answers == [[f"alice: {n}"] for n in range(5)] + [[], []]
    assert h.notices == [Reply("alice", "slow down: 5 commands at once, then one every 10 s")]
    assert h.advance(10) == []
    assert h.say("#chan", "alice", "!echo again") == ["alice: again"]
    h.close()

    h = harness(tmp_path, "echo", user_rate=RateLimit(burst=1, per=60))  # as in settings.py
    assert h.say("#chan", "alice", "!echo 1") == ["alice: 1"]
    assert h.say("#chan", "alice", "!echo 2") == []
    h.close()

    h = harness(tmp_path, "echo", rate_limits=False)
    answers = [h.say("#chan", "alice", "!echo same") for _ in range(20)]
    assert answers == [["alice: same"]] * 20  # the loop guard is lifted too
    h.close()


def test_events_reach_the_handlers(tmp_path: Path) -> None:
    h = harness(tmp_path, "events")
    assert h.join("#chan", "bob") == ["welcome bob"]
    assert h.say("#chan", "carol", "hello") == []  # carol is in #chan now, no join event
    assert h.action("#chan", "carol", "waves") == []
    h.topic("#chan", "carol", "new topic")
    h.mode("#chan", "carol", "+o bob")
    h.nick("carol", "carol2")
    h.kick("#chan", "bob", by="carol2", reason="out")
    h.part("#chan", "carol2", "bye")
    h.say("#other", "dave", "hi")
    h.quit("dave", "gone")
    h.invite("erin", "#new")
    assert h.store("events").get("seen") == [
        ["Action", "carol", "#chan", "waves", []],
        ["Topic", "carol", "#chan", "new topic", []],
        ["ModeChanged", "carol", "#chan", "+o bob", []],
        ["NickChanged", "carol", None, "carol2", ["#chan"]],
        ["Kicked", "carol2", "#chan", "out", []],
        ["Parted", "carol2", "#chan", "bye", []],
        ["Quit", "dave", None, "gone", ["#other"]],
        ["Invited", "erin", None, "#new", []],
    ]
    h.close()


def test_time_is_the_tests(tmp_path: Path) -> None:
    h = harness(tmp_path, "events")
    start = h.now()
    assert h.say("#chan", "alice", "!later") == []
    assert h.advance(4.5) == []
    assert h.advance(0.5) == [f"alice: 5 s later, at {start + 5:.0f}"]
    # a day passes (the fake server keeps the link up) and the bot still answers
    assert h.advance(86400) == []
    assert h.say("#chan", "alice", "!later") == []
    assert h.clock.seconds() == 5 + 86400
    h.clock.advance(5)  # the clock handlers get as context.clock
    assert h.replies[-1] == Reply("#chan", f"alice: 5 s later, at {start + 86410:.0f}")
    assert not h.transport.disconnecting  # the link never timed out
    h.close()


def test_the_store_and_the_log_are_on_disk(tmp_path: Path) -> None:
    h = harness(tmp_path, "echo", "events")
    h.store("echo").set("count", 3)
    h.say("#chan", "alice", "first")
    h.say("#chan", "bob", "!echo second")
    assert h.logged("#chan")[-3:] == [
        "[2026-09-21 14:13:20] <alice> first",
        "[2026-09-21 14:13:20] <bob> !echo second",
        "[2026-09-21 14:13:20] <logbot> bob: second",
    ]
    h.close()
    saved = tmp_path / "run" / "data" / "testnet" / "echo.json"
    assert json.loads(saved.read_text()) == {"count": 3}
    assert (tmp_path / "run" / "logs" / "testnet" / "#chan" / "2026-09-21.log").is_file()


EXEC = """\
    #!/bin/sh
    # help: answers from a real child
    # usage: [text]
    read -r request
    printf '%s in %s: %s\\n' "$LOGBOT_NICK" "$LOGBOT_CHANNEL" "$LOGBOT_ARGS"
    printf '%s\\n' "$request"
"""

HANG = """\
    #!/bin/sh
    cat >/dev/null
    sleep 60
"""


def exec_harness(tmp_path: Path, *plugins: str, **options: object) -> PluginHarness:
    folder = tmp_path / "plugins"
    for name, source in (("answer.sh", EXEC), ("hang", HANG)):
        write(folder / "exec.d", name, source).chmod(0o755)
    return PluginHarness(list(plugins), plugin_dirs=[folder], tmp=tmp_path / "run", **options)  # type: ignore[arg-type]


def test_an_exec_plugin_runs_as_a_real_child(tmp_path: Path) -> None:
    h = exec_harness(tmp_path, "answer", "help")
    assert h.say("#chan", "alice", "!help answer") == [
        "alice: !answer [text]: answers from a real child"
    ]
    first, request = h.say("#chan", "alice", "!answer two words")
    assert first == "alice in #chan: two words"
    assert json.loads(request) == {
        "command": "answer",
        "args": ["two", "words"],
        "text": "two words",
        "nick": "alice",
        "user": "~alice",
        "host": "alice.example",
        "account": None,
        "channel": "#chan",
        "network": "testnet",
        "private": False,
    }
    assert h.say(h.botnick, "bob", "answer hi")[0] == "bob in : hi"
    assert h.reactor.real is None  # the real reactor is closed once no child runs
    h.close()


def test_an_exec_plugins_deadline_is_real_time(tmp_path: Path) -> None:
    h = exec_harness(tmp_path, "hang", timeout=0.5)
    began = time.monotonic()
    assert h.say("#chan", "alice", "!hang") == ["alice: sorry, hang failed (ExecPluginTimeout)"]
    took = time.monotonic() - began
    assert 0.5 <= took < 5, took  # killed at the deadline, not after the script's 60 s
    assert h.errors == {"hang": 1}
    h.close()


def test_the_harness_imports_without_pytest() -> None:
    code = (
        "import sys; sys.modules['pytest'] = None\n"  # import pytest would now fail
        "import logbot.bot.testing as t\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('pytest', '_pytest')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['pytest']"  # only the blocked entry itself
