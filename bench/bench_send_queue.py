"""The send queue under plugin load, a PING flood and a 10 MB reply, on the fake clock.

Issue 15, items 4 and 11.  Everything runs on the reactor's fakes (``MemoryReactorClock``,
``StringTransport``, through ``tests/plugins/fakes.py``), so an hour of traffic takes
seconds and the figures do not depend on the machine, except the wall times of part 3.

1. **Replies at the plugin rate limits.**  A plugin answers ``!five`` with 5 lines (the
   default ``max_lines``); in each of ``--channels`` channels 30 users take turns to
   send ``!five`` every second for ``--minutes`` minutes, so the channel rate limit (a
   burst of 10, then one command every 3 s) decides how many run (each user's own, 5
   then one every 10 s, never does).  The bot's flood
   control is the default (a burst of 4, then 1 line a second).  Printed: the reply lines
   sent, dropped (``core.replies_dropped``, 0 where the core has none) and still queued
   at the end, how late the latest line left (its command's time is in its text), the
   "busy" notices, then how long the ``WHO`` of an admin command (an ``account:`` admin
   whose account the bot does not know, on a server with WHOX) took to leave and
   whether the admin was obeyed (the bot waits 5 s for the WHO's answer).
2. **100,000 PINGs**, then one PRIVMSG: how long the PONGs took (they go at once) and
   how long the PRIVMSG waited for the flood bucket.
3. **A 10 MB reply** from a Python plugin (words, one line), and the same through
   ``reply_lines`` alone, and ``split_text`` of the whole 10 MB: wall seconds.

Run it from the repository (or from an old checkout, with ``PYTHONPATH`` set to it, to
compare)::

    .venv/bin/python bench/bench_send_queue.py --minutes 60 --channels 1
    .venv/bin/python bench/bench_send_queue.py --minutes 60 --channels 5
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logbot.irc.core import IRCConnection
from logbot.irc.flood import FloodControl
from logbot.irc.split import split_text
from logbot.plugins.replies import reply_lines
from tests.plugins.fakes import PluginHarness

FIVE = """
    from logbot.plugin import command

    @command("five")
    def five(context):
        t = context.clock.seconds()
        return [f"t={t:.0f} {context.nick} line {i} of 5" for i in range(5)]

    @command("adm", admin=True)
    def adm(context):
        return "obeyed"

    BIG = " ".join(str(i) for i in range(1_410_000))  # 10 MB of words, made at load time

    @command("big")
    def big(context):
        return BIG
"""
USERS = 30  # per channel: each speaks every 30 s, under the user rate limit
ROOT = "root!~root@admin.host"


def harness(folder: Path, channels: list[str]) -> PluginHarness:
    h = PluginHarness(folder, enabled=("five",), admins=("account:root",))
    h.plugin("five", FIVE)
    h.bot.config = replace(h.bot.config, line_rate=None)  # the default flood control
    h.manager.load_all()
    h.start()
    h.connect()
    h.register()
    h.feed(":irc.example 005 bot WHOX :are supported")
    for channel in channels:
        h.join(channel)
    h.reactor.advance(10.0)  # registration's lines are out, the bucket is full again
    h.sent()
    return h


def wire(h: PluginHarness, now: float, sent_at: list[tuple[float, str]]) -> None:
    sent_at.extend((now, line) for line in h.sent())


def backlog(minutes: int, channels: int) -> None:
    names = [f"#c{i}" for i in range(channels)]
    with tempfile.TemporaryDirectory() as tmp:
        h = harness(Path(tmp), names)
        start = h.reactor.seconds()
        out: list[tuple[float, str]] = []
        for second in range(minutes * 60):
            for n, channel in enumerate(names):
                user = f"u{n}x{second % USERS}"
                h.feed(f":{user}!~{user}@users.host PRIVMSG {channel} :!five")
            h.reactor.advance(1.0)
            wire(h, h.reactor.seconds(), out)
        core = h.client.core
        replies = [(when, line) for when, line in out if line.startswith("PRIVMSG ")]
        late = [when - float(line.split(":t=", 1)[1].split()[0]) for when, line in replies]
        busy = [line for _, line in out if line.startswith("NOTICE ") and "dropped" in line]
        print(f"{channels} channel(s), {minutes} min at the rate limits:")
        print(f"  reply lines sent {len(replies)}, dropped {getattr(core, 'replies_dropped', 0)}")
        print(f"  queued at the end {core.queue_length} lines")
        first = [d for d, (_, line) in zip(late, replies, strict=True) if " line 0 " in line]
        print(
            f"  latest line left {max(late, default=0.0):.0f} s after its command"
            f" (latest first line of a reply: {max(first, default=0.0):.0f} s)"
        )
        print(f"  busy notices {len(busy)}")
        # An admin command now: the account is asked for with WHO, answered at once.
        asked = h.reactor.seconds()
        h.feed(f":{ROOT} PRIVMSG {names[0]} :!adm")
        who_after = None
        answer = []
        for step in range(1_000_000):  # 0.1 s steps until the WHO is on the wire
            if step % 100 == 0:
                h.feed(":irc.example NOTICE bot :tick")  # the server is alive
            lines = h.sent()
            answer += lines
            if any(line.startswith("WHO root") for line in lines):
                who_after = h.reactor.seconds() - asked
                h.feed(
                    ":irc.example 354 bot 417 root root",
                    ":irc.example 315 bot root :End of WHO",
                )
                break
            if not h.client.core.queue_length:
                break
            h.reactor.advance(0.1)
        for step in range(100_000):  # until the command's answer (or refusal) is out
            if step % 10 == 0:
                h.feed(":irc.example NOTICE bot :tick")
            answer += h.sent()
            if any(" :obeyed" in line or "only admins" in line for line in answer):
                break
            h.reactor.advance(1.0)
        verdict = "obeyed" if any(" :obeyed" in line for line in answer) else "denied"
        when = "never" if who_after is None else f"after {who_after:.1f} s"
        print(f"  admin WHO left {when}, the admin was {verdict}")
        print(f"  (simulated {h.reactor.seconds() - start:.0f} s)")


def pings(count: int) -> None:
    conn = IRCConnection("bot", flood=FloodControl())
    conn.connection_made(0.0)
    conn.receive_data(b":srv 001 bot :Welcome\r\n", 0.5)
    conn.data_to_send(0.5)
    now = 100.0
    conn.data_to_send(now)  # the bucket is full
    started = time.perf_counter()
    pongs = 0
    chunk = b"PING :x\r\n" * 1000
    for _ in range(count // 1000):
        conn.receive_data(chunk, now)
        pongs += conn.data_to_send(now).count(b"PONG")
    took = time.perf_counter() - started
    conn.privmsg("#a", "a normal line")
    ready = conn.flood.next_ready_time(now)
    wait = 0.0 if ready is None else ready - now
    print(f"{count:,} PINGs: {pongs:,} PONGs sent at once ({took:.2f} s of CPU);")
    print(f"  then a PRIVMSG waits {wait:,.1f} s ({wait / 3600:.1f} h) for the flood bucket")


def big_reply() -> None:
    text = " ".join(str(i) for i in range(1_410_000))
    started = time.perf_counter()
    reply_lines(text, max_lines=5, max_line_bytes=400)
    print(
        f"{len(text) / 1e6:.1f} MB reply: reply_lines {time.perf_counter() - started:.3f} s", end=""
    )
    started = time.perf_counter()
    split_text(text, 400)
    print(f", split_text of all of it {time.perf_counter() - started:.3f} s", end="")
    with tempfile.TemporaryDirectory() as tmp:
        h = harness(Path(tmp), ["#a"])
        started = time.perf_counter()
        h.feed(":alice!~alice@alice.host PRIVMSG #a :!big")
        took = time.perf_counter() - started
        print(f", through the bot {took:.3f} s ({len(h.sent())} lines sent)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--pings", type=int, default=100_000)
    parser.add_argument("--only", default="backlog,pings,big")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # a warning per dropped reply, with the old code none
    parts = set(args.only.split(","))
    if "backlog" in parts:
        backlog(args.minutes, args.channels)
    if "pings" in parts:
        pings(args.pings)
    if "big" in parts:
        big_reply()


if __name__ == "__main__":
    main()
