# The seed's program is kept as the seed wrote it: %-formatting, open() without "with".
# ruff: noqa: UP031, SIM115
"""IRC client benchmark: logbot's core and the seed's ircLogBot, against Twisted.

Two measurements, each side by side in one run with Twisted (``twisted.words``):

core
    Lines per second from bytes to events, no sockets: a recorded buffer (the
    registration replies, then 200,000 PRIVMSG lines) is fed in 64 KiB chunks to
    ``IRCConnection.receive_data`` (logbot: every line decoded, parsed, applied to the
    state, turned into a typed event) and to a Twisted ``IRCClient.dataReceived`` on a
    string transport (Twisted: lines split, parsed, dispatched to a no-op ``privmsg``).
    Two logbot rows: ``logbot`` as ``IRCClient`` sets the core up for the seed's bot
    (a RawMessage event only for NICK, which its ``irc_NICK`` hook needs), and
    ``logbot-every-raw``, the core's default (a RawMessage before every line's event).
end to end
    ``bench/irc_blaster.py`` registers the client, sends 200,000 PRIVMSG lines as fast
    as the socket takes them, then ``PING :blaster-done``; the time from the first byte
    to the client's PONG.  The client is the seed's ircLogBot (section 3 of the seed),
    ported to Python 3 with only its imports changed, which writes every line to its log
    file with a flush; each implementation runs in its own process (pinned to CPU 0,
    the blaster to CPU 1).  Afterwards the log file must hold each of the 200,000
    messages exactly once.

Run (Twisted only in the benchmark venv)::

    /tmp/benchvenv/bin/python bench/bench_irc.py            # everything, best of 3
    /tmp/benchvenv/bin/python bench/bench_irc.py --runs 5 --lines 200000
    python bench/bench_irc.py profile                       # cProfile of logbot's LogBot
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.append(str(HERE.parent))  # logbot, unless installed
if os.environ.get("BENCH_LOGBOT_TREE"):  # another checkout's logbot first (before/after runs)
    sys.path.insert(0, os.environ["BENCH_LOGBOT_TREE"])

import irc_blaster
from benchproc import NICE, child, have_twisted

CHANNEL = "#bench"
CHUNK = 65536


# -- the seed's program, Python 3 ---------------------------------------------------------


def seed_program(irc: Any, protocol: Any, reactor: Any) -> tuple[type, type]:
    """The seed's MessageLogger, LogBot and LogBotFactory, as written there; only the
    imports differ (they are the arguments) and Python 3 syntax (print)."""

    class MessageLogger:
        """
        An independent logger class (because separation of application
        and protocol logic is a good thing).
        """

        def __init__(self, file):
            self.file = file

        def log(self, message):
            """Write a message to the file."""
            timestamp = time.strftime("[%H:%M:%S]", time.localtime(time.time()))
            self.file.write("%s %s\n" % (timestamp, message))
            self.file.flush()

        def close(self):
            self.file.close()

    class LogBot(irc.IRCClient):
        """A logging IRC bot."""

        nickname = "twistedbot"

        def connectionMade(self):
            irc.IRCClient.connectionMade(self)
            self.logger = MessageLogger(open(self.factory.filename, "a"))
            self.logger.log("[connected at %s]" % time.asctime(time.localtime(time.time())))

        def connectionLost(self, reason):
            irc.IRCClient.connectionLost(self, reason)
            self.logger.log("[disconnected at %s]" % time.asctime(time.localtime(time.time())))
            self.logger.close()

        # callbacks for events

        def signedOn(self):
            """Called when bot has succesfully signed on to server."""
            self.join(self.factory.channel)

        def joined(self, channel):
            """This will get called when the bot joins the channel."""
            self.logger.log("[I have joined %s]" % channel)

        def privmsg(self, user, channel, msg):
            """This will get called when the bot receives a message."""
            user = user.split("!", 1)[0]
            self.logger.log("<%s> %s" % (user, msg))

            # Check to see if they're sending me a private message
            if channel == self.nickname:
                msg = "It isn't nice to whisper! Play nice with the group."
                self.msg(user, msg)
                return

            # Otherwise check to see if it is a message directed at me
            if msg.startswith(self.nickname + ":"):
                msg = "%s: I am a log bot" % user
                self.msg(channel, msg)
                self.logger.log("<%s> %s" % (self.nickname, msg))

        def action(self, user, channel, msg):
            """This will get called when the bot sees someone do an action."""
            user = user.split("!", 1)[0]
            self.logger.log("* %s %s" % (user, msg))

        # irc callbacks

        def irc_NICK(self, prefix, params):
            """Called when an IRC user changes their nickname."""
            old_nick = prefix.split("!")[0]
            new_nick = params[0]
            self.logger.log("%s is now known as %s" % (old_nick, new_nick))

        # For fun, override the method that determines how a nickname is changed on
        # collisions. The default method appends an underscore.
        def alterCollidedNick(self, nickname):
            """
            Generate an altered version of a nickname that caused a collision in an
            effort to create an unused related name for subsequent registration.
            """
            return nickname + "^"

    class LogBotFactory(protocol.ClientFactory):
        """A factory for LogBots.

        A new protocol instance will be created each time we connect to the server.
        """

        def __init__(self, channel, filename):
            self.channel = channel
            self.filename = filename

        def buildProtocol(self, addr):
            p = LogBot()
            p.factory = self
            return p

        def clientConnectionLost(self, connector, reason):
            """If we get disconnected, reconnect to server."""
            connector.connect()

        def clientConnectionFailed(self, connector, reason):
            print("connection failed:", reason)
            reactor.stop()

    return LogBot, LogBotFactory


def _imports(impl: str) -> tuple[Any, Any, Any]:
    if impl == "twisted":
        from twisted.internet import protocol, reactor
        from twisted.words.protocols import irc
    else:
        from logbot import irc
        from logbot.reactor import protocol, reactor
    return irc, protocol, reactor


def run_bot(impl: str, port: int, log_path: str) -> None:
    """One end-to-end client process: the seed's bot, until the blaster closes."""
    irc, protocol, reactor = _imports(impl)
    _, LogBotFactory = seed_program(irc, protocol, reactor)

    class BenchFactory(LogBotFactory):
        # The bench's only change: stop when the blaster closes, instead of reconnecting.
        def clientConnectionLost(self, connector, reason):
            reactor.stop()

    reactor.connectTCP("127.0.0.1", port, BenchFactory(CHANNEL, log_path))
    reactor.run()


# -- core alone -----------------------------------------------------------------------------


def recorded_buffer(lines: int) -> tuple[bytes, bytes]:
    """(registration replies, the blast) as the blaster sends them."""
    nick = "twistedbot"
    names = " ".join(n for n, _ in irc_blaster.users())
    head = (
        f":blaster 001 {nick} :Welcome {nick}!~{nick}@127.0.0.1\r\n"
        f":blaster 005 {nick} CASEMAPPING=rfc1459 CHANTYPES=# PREFIX=(ov)@+ :are supported\r\n"
        f":blaster 376 {nick} :End of MOTD\r\n"
        f":{nick}!~{nick}@127.0.0.1 JOIN {CHANNEL}\r\n"
        f":blaster 353 {nick} = {CHANNEL} :@{nick} {names}\r\n"
        f":blaster 366 {nick} {CHANNEL} :End of /NAMES list.\r\n"
    ).encode()
    return head, b"".join(irc_blaster.privmsg_lines(lines, CHANNEL))


def _chunks(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def core_logbot(lines: int, every_raw: bool = False) -> dict:
    """``every_raw``: the core's default, a RawMessage event before every line's own
    event; else as IRCClient sets it up for the seed's bot (RawMessages only for the
    commands of its ``irc_*`` hooks: NICK)."""
    from logbot.irc import IRCConnection, Privmsg

    head, blast = recorded_buffer(lines)
    chunks = _chunks(blast)
    conn = IRCConnection("twistedbot", caps=())
    if not every_raw and hasattr(conn, "set_raw_filter"):  # (not in older trees)
        conn.set_raw_filter(lambda command: command == "NICK")
    conn.connection_made(0.0)
    conn.receive_data(head, 0.0)
    count = 0
    start = time.perf_counter()
    for chunk in chunks:
        for event in conn.receive_data(chunk, 1.0):
            if type(event) is Privmsg:
                count += 1
    seconds = time.perf_counter() - start
    return {"lines": count, "seconds": seconds, "rate": count / seconds}


def core_twisted(lines: int) -> dict:
    from twisted.internet.testing import StringTransport
    from twisted.words.protocols import irc

    count = 0

    class Counter(irc.IRCClient):
        nickname = "twistedbot"

        def privmsg(self, user, channel, message):
            nonlocal count
            count += 1

    head, blast = recorded_buffer(lines)
    chunks = _chunks(blast)
    client = Counter()
    client.makeConnection(StringTransport())
    client.dataReceived(head)
    start = time.perf_counter()
    for chunk in chunks:
        client.dataReceived(chunk)
    seconds = time.perf_counter() - start
    return {"lines": count, "seconds": seconds, "rate": count / seconds}


# -- profile (in process, no sockets) -------------------------------------------------------


class _Clock:
    def seconds(self) -> float:
        return time.monotonic()

    def callLater(self, delay: float, f: Any, *a: Any) -> Any:
        class _Call:
            def active(self) -> bool:
                return True

            def getTime(self) -> float:
                return time.monotonic() + delay

            def cancel(self) -> None:
                pass

        return _Call()


def profile(lines: int, log_path: str, top: int) -> None:
    """cProfile of the seed's LogBot on logbot's IRCClient fed from memory."""
    import cProfile
    import pstats

    from logbot.reactor.testing import StringTransport

    irc, protocol, reactor = _imports("logbot")
    LogBot, LogBotFactory = seed_program(irc, protocol, reactor)
    bot = LogBot()
    bot.factory = LogBotFactory(CHANNEL, log_path)
    bot.clock = _Clock()
    bot.makeConnection(StringTransport())
    head, blast = recorded_buffer(lines)
    bot.dataReceived(b":blaster CAP * LS :\r\n" + head)
    chunks = _chunks(blast)
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    for chunk in chunks:
        bot.dataReceived(chunk)
    prof.disable()
    seconds = time.perf_counter() - start
    print(f"{lines / seconds:,.0f} lines/s under cProfile ({seconds:.2f} s)")
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


# -- the driver -----------------------------------------------------------------------------


def check_log(path: str, lines: int) -> tuple[int, int]:
    """(message lines in the log, messages missing or duplicated)."""
    pattern = re.compile(r"^\[\d\d:\d\d:\d\d\] <user\d\d> (\d+) ")
    seen = [0] * lines
    count = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = pattern.match(line)
            if m:
                count += 1
                n = int(m.group(1))
                if n < lines:
                    seen[n] += 1
    bad = sum(1 for s in seen if s != 1)
    return count, bad


def end_to_end(impl: str, lines: int, tmp: str) -> dict:
    log_path = os.path.join(tmp, f"{impl}.log")
    if os.path.exists(log_path):
        os.unlink(log_path)
    blaster = subprocess.Popen(
        child([str(HERE / "irc_blaster.py"), "--lines", str(lines), "--channel", CHANNEL], 1),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert blaster.stdout is not None
    port = int(blaster.stdout.readline().split()[1])
    bot = subprocess.Popen(child([__file__, "bot", impl, str(port), log_path], 0))
    try:
        result = json.loads(blaster.stdout.readline() or "{}")
        bot.wait(timeout=60)
    finally:
        for proc in (bot, blaster):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if "rate" not in result:
        raise RuntimeError(f"{impl}: the blaster reported nothing")
    logged, bad = check_log(log_path, lines)
    result.update(logged=logged, lost=lines - logged, bad=bad)
    return result


def core_child(impl: str, lines: int) -> dict:
    out = subprocess.run(
        child([__file__, "core", impl, str(lines)], 0), check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description="IRC client benchmark (logbot vs Twisted)")
    parser.add_argument("mode", nargs="?", default="all", choices=["all", "bot", "core", "profile"])
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3, help="best of N per cell")
    parser.add_argument("--only", default="core,e2e")
    parser.add_argument("--json", help="write the raw results to this file")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--nice", type=int, help="run the measured processes at this niceness")
    args = parser.parse_args()
    if args.nice is not None:
        NICE[:] = ["nice", "-n", str(args.nice)]
    if args.mode == "bot":
        run_bot(args.rest[0], int(args.rest[1]), args.rest[2])
        return
    if args.mode == "core":
        impl, lines = args.rest[0], int(args.rest[1])
        if impl == "twisted":
            print(json.dumps(core_twisted(lines)))
        else:
            print(json.dumps(core_logbot(lines, every_raw=impl == "logbot-every-raw")))
        return
    if args.mode == "profile":
        with tempfile.TemporaryDirectory() as tmp:
            profile(args.lines, os.path.join(tmp, "profile.log"), args.top)
        return

    impls = ["logbot", "twisted"] if have_twisted() else ["logbot"]
    if len(impls) == 1:
        print("Twisted is not importable here: logbot only (use the benchmark venv)")
    print(f"load average: {os.getloadavg()[0]:.2f}, {args.lines:,} lines, best of {args.runs}")
    results: dict[str, dict[str, list[dict]]] = {"core": {}, "e2e": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for impl in impls:
                if "core" in args.only:
                    results["core"].setdefault(impl, []).append(core_child(impl, args.lines))
                    if impl == "logbot":
                        results["core"].setdefault("logbot-every-raw", []).append(
                            core_child("logbot-every-raw", args.lines)
                        )
                if "e2e" in args.only:
                    results["e2e"].setdefault(impl, []).append(end_to_end(impl, args.lines, tmp))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print_tables(results, impls)


def print_tables(results: dict, impls: list[str]) -> None:
    def best(runs: list[dict]) -> dict:
        return max(runs, key=lambda r: r["rate"])

    if results["core"]:
        print("\nCore alone (bytes -> events, no sockets), lines/s:")
        print("| impl | best | all runs |\n|---|---:|---|")
        for impl in results["core"]:
            runs = results["core"][impl]
            print(
                f"| {impl} | {best(runs)['rate']:,.0f} | "
                + ", ".join(f"{r['rate']:,.0f}" for r in runs)
                + " |"
            )
    if results["e2e"]:
        print("\nEnd to end (blaster -> seed LogBot -> log file, flush per line), lines/s:")
        print(
            "| impl | best | all runs | lost (worst run) | seconds (best) |\n"
            "|---|---:|---|---:|---:|"
        )
        for impl in impls:
            runs = results["e2e"][impl]
            b = best(runs)
            lost = max(max(r["lost"], r["bad"]) for r in runs)
            print(
                f"| {impl} | {b['rate']:,.0f} | "
                + ", ".join(f"{r['rate']:,.0f}" for r in runs)
                + f" | {lost} | {b['seconds']:.3f} |"
            )
        if "twisted" in results["e2e"]:
            ratio = best(results["e2e"]["logbot"])["rate"] / best(results["e2e"]["twisted"])["rate"]
            print(f"\nlogbot / Twisted end to end: {ratio:.2f}x")


if __name__ == "__main__":
    main()
