"""Plugin replies against the bot's flood control, on the fake clock (issue 15, item 4).

At the plugins' rate limits (a channel runs a command every 3 s, here each answered with
5 lines) users asked for more than the flood bucket sends (1 line a second): the queue
grew by 2,400 lines an hour, replies left hours late, and the WHO that checks an admin's
account waited behind them for longer than the 5 s the bot waits for its answer, so the
admin was refused.  Now a reply that could not leave within ``max_reply_wait`` (30 s) is
dropped whole and its asker told once, by a NOTICE that jumps the replies waiting; the WHO
goes ahead of every reply.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from logbot.plugins import runner
from tests.plugins.fakes import ALICE, BOB, ROOT, PluginHarness

FIVE = """
    from logbot.plugin import command

    @command("five")
    def five(context):
        t = context.clock.seconds()
        return [f"t={t:.0f} {context.nick} line {i} of 5" for i in range(5)]

    @command("secret", admin=True)
    def secret(context):
        return "yes"
"""
USERS = 30  # each speaks every 30 s: never over the per-user rate limit


def flooded(tmp_path: Any, **options: Any) -> PluginHarness:
    """Registered on #a, with the default flood control (the harness turns it off)."""
    h = PluginHarness(tmp_path, enabled=("five",), **options)
    h.plugin("five", FIVE)
    # The default flood control; the lag probe (a PING every 30 s) would take tokens too.
    h.bot.config = replace(h.bot.config, line_rate=None, ping_interval=3600.0, ping_timeout=7200.0)
    assert h.up() == []
    for _ in range(10):  # registration's lines and the first lag probe are out, the
        h.reactor.advance(1.0)  # bucket is full (one advance would run the probe at 110 s)
    h.sent()
    return h


def busy_hour(h: PluginHarness, seconds: int) -> list[tuple[float, str]]:
    """Every second a user asks ``!five`` in #a; every line sent, with its time."""
    out: list[tuple[float, str]] = []
    for second in range(seconds):
        user = f"u{second % USERS}"
        h.feed(f":{user}!~{user}@users.host PRIVMSG #a :!five")
        h.reactor.advance(1.0)
        out += [(h.reactor.seconds(), line) for line in h.sent()]
    return out


def test_an_hour_at_the_rate_limits_answers_within_max_reply_wait(tmp_path: Any) -> None:
    h = flooded(tmp_path)
    out = busy_hour(h, 3600)
    replies = [(when, line) for when, line in out if line.startswith("PRIVMSG #a :t=")]
    late = [when - float(line.split(":t=", 1)[1].split()[0]) for when, line in replies]
    assert len(replies) > 3000  # the bucket's pace, nearly every second of the hour
    # A reply starts within 30 s (the clock moves by whole seconds here), and its other
    # lines follow, after the busy notices that jumped the queue meanwhile.  Before, the
    # lines of the hour's last minute left 1,467 s late, and the delay grew.
    first = [
        delay for delay, (_, line) in zip(late, replies, strict=True) if " line 0 of 5" in line
    ]
    assert max(first) <= 30.0 + 1.0
    assert max(late) <= 30.0 + 1.0 + 4 + runner.BUSY_BURST
    core = h.client.core
    assert core.queue_length <= 35  # was 2,442 lines
    assert core.replies_dropped > 2000  # the rest, counted
    for _, line in replies:  # whole replies only: 5 lines each, in order
        assert line.endswith(" of 5")
    numbers = [line.split(" line ")[1][0] for _, line in replies]
    assert "".join(numbers) == "01234" * (len(numbers) // 5) + "01234"[: len(numbers) % 5]


def test_an_admins_whox_check_goes_ahead_of_the_replies(tmp_path: Any) -> None:
    h = flooded(tmp_path, admins=("account:root",))
    h.feed(":irc.example 005 bot WHOX :are supported")
    busy_hour(h, 600)
    h.feed(f":{ROOT} PRIVMSG #a :!secret")
    h.reactor.advance(1.0)
    assert "WHO root %tna,417" in h.sent()  # was 2,443 s later, after the 5 s wait
    h.feed(":irc.example 354 bot 417 root root", ":irc.example 315 bot root :End of WHO")
    for _ in range(31):
        h.reactor.advance(1.0)
        if "PRIVMSG #a :yes" in h.sent():
            break
    else:
        raise AssertionError("the admin's command was not answered")


def test_a_dropped_reply_is_told_to_its_asker_once_per_window(tmp_path: Any) -> None:
    h = flooded(tmp_path)
    h.client.core.flood.max_reply_wait = 3.0  # 4 at once, then 3 s: 7 lines
    h.feed(f":{BOB} PRIVMSG #a :!five")
    assert h.sent()[-1] == "PRIVMSG #a :t=110 bob line 3 of 5"  # the burst; 1 line waits
    h.feed(f":{ALICE} PRIVMSG #a :!five")  # would wait 6 s
    busy = f"NOTICE alice :{runner.BUSY_NOTICE}"
    assert h.sent() == []
    h.reactor.advance(0.5)
    h.feed(f":{ALICE} PRIVMSG #a :!five")  # dropped again, not told again
    h.reactor.advance(0.5)
    assert h.sent() == [busy]  # ahead of bob's fifth line
    h.reactor.advance(1.0)
    assert h.sent() == ["PRIVMSG #a :t=110 bob line 4 of 5"]
    assert h.client.core.replies_dropped == 10
    h.reactor.advance(10.0)
    h.feed(f":{ALICE} PRIVMSG #a :!five")  # the queue is empty: answered
    assert len(h.sent()) == 4
    h.feed(f":{ALICE} PRIVMSG #a :!five", f":{ALICE} PRIVMSG #a :!five")
    h.reactor.advance(1.0)
    assert h.sent() == ["PRIVMSG #a :t=122 alice line 4 of 5"]  # within the minute: silent
    h.reactor.advance(runner.BUSY_WINDOW)
    h.sent()
    for _ in range(2):
        h.feed(f":{ALICE} PRIVMSG #a :!five")
    h.reactor.advance(1.0)
    assert busy in h.sent()  # a minute later: told again


def test_the_busy_notices_are_capped_in_all(tmp_path: Any) -> None:
    h = flooded(tmp_path)
    h.client.core.flood.max_reply_wait = 0.5  # every 5-line reply is refused
    notices: list[str] = []
    for second in range(60):
        for n in range(5):  # 5 new askers a second (in private: no channel limit)
            h.feed(f":n{second}x{n}!~u@users.host PRIVMSG bot :!five")
        h.reactor.advance(1.0)
        notices += [line for line in h.sent() if line.startswith("NOTICE")]
    # 3 at once, then one every 10 s (300 askers would have taken 300 s of sending)
    assert len(notices) == runner.BUSY_BURST + 60 // runner.BUSY_EVERY - 1
    assert h.client.core.replies_dropped == 300 * 5
