"""History replay end to end: after ``kill -9`` and server restarts, is every line the
bot did not log inside a gap it declared, and how much did the server's history fill?

The bot fills its gaps from what the server (InspIRCd's ``chanhistory``, ``+H``) or a
bouncer (ZNC's buffer) replays on join (``logbot/bot/replay.py``).  The tests check
single outages; this runs many in a row under steady traffic and counts, so that a line
lost outside a declared gap, or logged twice, shows up in a figure.  Two setups:

A   InspIRCd, the channel ``+H 500:1h`` (set by the talker), the bot connected directly;
B   the bot behind ZNC (``AutoClearChanBuffer`` false, ``ChanBufferSize`` 500, so the
    whole buffer is played back on every attach) in front of InspIRCd (no ``+H``).

In each, a talker says numbered lines (``n 0``, ``n 1``, ...) at ``--rate`` lines a
second throughout, and an observer (another connection in the channel, directly on
InspIRCd, never restarted) records every line it receives, live (not from a history
batch), with its ``server-time``: the reference of what was said and when.  The talker
speaks only while the observer is in the channel, so every line said reaches the
observer unless the server dies under it.  During the run: ``--kills`` times ``kill -9``
of the bot and a restart after ``--pause`` seconds, and ``--restarts`` InspIRCd restarts
(stop, start: talker, observer and bot reconnect; in B ZNC reconnects upstream by
itself), interleaved evenly; in B optionally ``--upstream-kills`` times an operator's
``KILL`` of ZNC's own connection to InspIRCd (the channel goes on without ZNC; ZNC
reconnects; the bot's connection to ZNC stays up).  After each event the next waits
until the bot logs live lines said after it (it is back), then ``--settle`` seconds.
At the end the bot is stopped with SIGTERM and its JSONL compared with the observer's
record:

* lines observed; message records in the log; duplicates (a number logged twice);
* observed lines missing from the log: inside a declared gap (the line's server time
  within some ``gap`` record's "between A and B were not seen" span, 2 s slack) or
  OUTSIDE every declared gap: expected 0, the headline.  Also without the slack: the
  markers give A and B to the second (cut), so a line counts as inside when its time is
  in [A, B + 1 s);
* the observed lines the bot did not receive live (what the gaps would have cost
  without history), those recovered from history (``"replayed":true``, by
  ``replay_source``); the markers (``connect``, ``disconnect``, ``gap``,
  ``recovered``);
* the outages: from each gap's start (the disconnect, or the log's last line after a
  restart) to the rejoin, what every gap would have been without history, against the
  seconds declared as gaps (sum of B - A), both to the second as the markers give them;
  all of it also per kind of event (each outage and each line counted under the last
  event that began before it).

InspIRCd forgets ``+H`` history (and the channel) on a restart, so setup A recovers the
``kill -9`` outages, not the restarts' (only what was said after the server came back
and before the bot rejoined).  Two changes to the test server's config, for this run only
(``HistoryInspIRCd``): ``chanhistory`` ``maxlines`` 500 instead of 200 (a local
``MODE +H 500:1h`` is refused above it), and the ``samode`` module: after a restart the
channel belongs to whoever joins it first, often the bot, so the talker (an IRC
operator, ``servers.OPER``) sets ``+H`` with ``SAMODE`` when it is not an op.

Run from the repository root (InspIRCd and ZNC from Debian: ``inspircd``, ``znc``)::

    .venv/bin/python bench/bench_history.py                  # both setups, ~2.5 min
    .venv/bin/python bench/bench_history.py --setups a --kills 3 --restarts 3
    .venv/bin/python bench/bench_history.py --setups b --kills 0 --restarts 0 --upstream-kills 10
    .venv/bin/python bench/bench_history.py --json /tmp/history.json --keep /tmp/hist

Progress goes to stderr, the tables to stdout (with the log records around any line lost
outside a gap).  Exit status 1 if a line was lost outside a declared gap (with or without
the slack) or logged twice.
"""

from __future__ import annotations

import argparse
import bisect
import json
import queue
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e.botproc import BotProcess
from tests.ircd.peer import parse
from tests.ircd.servers import IRCServer
from tests.ircd.znc import ZNCBouncer

CHANNEL = "#hist"
TALKER, OBSERVER, BOT, ZNC_NICK = "talker", "observer", "hbot", "zbot"
HISTORY_LINES = 500  # +H 500:1h, and ZNC's ChanBufferSize
HISTORY_MODE = f"{HISTORY_LINES}:1h"
SLACK = 2.0  # seconds around a declared gap
NUMBER = re.compile(r"^n (\d+)$")
GAP_TEXT = re.compile(r"events between (\S+) and (\S+) were not seen")
RECOVERED_JOIN = re.compile(r"events between (\S+) and (\S+) were recovered")
PARTLY = re.compile(r"lines from \S+ to (\S+) recovered")  # a gap line's recovered part
RECOVERED_LATE = re.compile(r"^recovered (\d+) lines between")

SETUPS = {
    "a": "A: InspIRCd +H 500:1h, bot direct",
    "b": "B: bot behind ZNC (AutoClearChanBuffer false, 500 lines), InspIRCd without +H",
}


def say(*parts: object) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def tags_of(line: str) -> dict[str, str]:
    if not line.startswith("@"):
        return {}
    out = {}
    for item in line[1:].split(" ", 1)[0].split(";"):
        key, _, value = item.partition("=")
        out[key] = value
    return out


class HistoryInspIRCd(IRCServer):
    """The test InspIRCd with ``chanhistory`` up to 500 lines and ``samode`` loaded."""

    def _render_all(self) -> None:
        super()._render_all()
        conf = self.workdir / "inspircd.conf"
        text = conf.read_text()
        old = '<chanhistory maxlines="200"'
        if old not in text:
            raise RuntimeError(f"{conf}: no {old!r} to raise (tests/ircd/inspircd.conf.in)")
        text = text.replace(old, f'<chanhistory maxlines="{HISTORY_LINES}"')
        conf.write_text(text + '\n<module name="samode">\n')


# -- the talker and the observer: blocking sockets, a reader thread each ----------------


class Link:
    """One registered IRC connection; a reader thread answers PINGs, calls ``on_line``
    with (receive time, line) and queues every line for :meth:`wait_for`."""

    def __init__(
        self,
        server: Any,
        nick: str,
        on_line: Callable[[float, str], None] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.nick = nick
        self.on_line = on_line
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.closed = threading.Event()
        self._lock = threading.Lock()
        self.sock = socket.create_connection((server.host, server.port), timeout=2)
        self.sock.settimeout(None)
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self.send("CAP REQ :batch server-time")
            self.send(f"NICK {nick}")
            self.send(f"USER {nick} 0 * :bench_history {nick}")
            self.send("CAP END")
            reply = self.wait_for(lambda m: m.command in ("001", "432", "433", "ERROR"), timeout)
            if parse(reply).command != "001":
                raise ConnectionError(f"{nick}: registration refused: {reply}")
        except BaseException:
            self.close()
            raise

    def send(self, line: str) -> None:
        with self._lock:
            self.sock.sendall(line.encode() + b"\r\n")

    def _read(self) -> None:
        buf = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                now = time.time()
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for raw in lines:
                    line = raw.rstrip(b"\r").decode("utf-8", "replace")
                    if line.startswith("PING "):
                        self.send("PONG " + line[5:])
                    if self.on_line is not None:
                        self.on_line(now, line)
                    self.lines.put(line)
        except OSError:
            pass
        finally:
            self.closed.set()
            self.lines.put(None)

    def wait_for(self, match: Callable[[Any], bool], timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.nick}: nothing matched within {timeout} s")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise ConnectionError(f"{self.nick}: connection closed")
            if match(parse(line)):
                return line

    def join(self, chan: str) -> list[str]:
        """JOIN and wait for the end of NAMES; the names (with prefixes)."""
        self.send(f"JOIN {chan}")
        names: list[str] = []
        while True:
            line = self.wait_for(lambda m: m.command in ("353", "366", "403", "405", "471", "473"))
            msg = parse(line)
            if msg.command == "353":
                names += msg.params[-1].split()
            elif msg.command == "366":
                return names
            else:
                raise ConnectionError(f"{self.nick}: cannot join {chan}: {line}")

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class Client(threading.Thread):
    """A connection kept up: connects, registers, joins, runs :meth:`session` until
    the link drops (or :meth:`stop`), and does it all again."""

    def __init__(self, server: Any, nick: str, chan: str) -> None:
        super().__init__(daemon=True, name=nick)
        self.server, self.nick, self.chan = server, nick, chan
        self.joined = threading.Event()
        self.stopping = threading.Event()
        self.link: Link | None = None
        self.sessions = 0

    def on_line(self, when: float, line: str) -> None:
        pass

    def session(self, link: Link, names: list[str]) -> None:
        link.closed.wait()

    def run(self) -> None:
        while not self.stopping.is_set():
            link = None
            try:
                link = self.link = Link(self.server, self.nick, self.on_line)
                names = link.join(self.chan)
                self.sessions += 1
                self.session(link, names)
            except (OSError, ConnectionError, TimeoutError):
                pass
            finally:
                self.joined.clear()
                if link is not None:
                    link.close()
            self.stopping.wait(0.1)

    def stop(self) -> None:
        self.stopping.set()
        if self.link is not None:
            self.link.close()


class Observer(Client):
    """Records every ``n <i>`` the talker says in the channel, live (lines of a history
    batch are left out): number -> (server time, receive time)."""

    def __init__(self, server: Any, chan: str) -> None:
        super().__init__(server, OBSERVER, chan)
        self.seen: dict[int, tuple[datetime, float]] = {}
        self.twice = 0
        self.history_lines = 0
        self._batches: set[str] = set()

    def on_line(self, when: float, line: str) -> None:
        msg = parse(line)
        if msg.command == "BATCH" and msg.params:
            ref = msg.params[0]
            if ref.startswith("+"):
                self._batches.add(ref[1:])
            else:
                self._batches.discard(ref[1:])
            return
        if msg.command != "PRIVMSG" or (msg.source or "").split("!")[0] != TALKER:
            return
        tags = tags_of(line)
        if tags.get("batch") in self._batches:
            self.history_lines += 1
            return
        m = NUMBER.match(msg.params[-1])
        if m is None:
            return
        i = int(m.group(1))
        if i in self.seen:
            self.twice += 1
            return
        stamp = tags.get("time")
        server_time = parse_time(stamp) if stamp else datetime.fromtimestamp(when, UTC)
        self.seen[i] = (server_time, when)

    def session(self, link: Link, names: list[str]) -> None:
        self.joined.set()
        link.closed.wait()


class Talker(Client):
    """Says ``n 0``, ``n 1``, ... at ``rate`` lines a second, while ``go`` is set and
    the observer is in the channel; with ``history`` it sets ``+H`` on every join."""

    def __init__(self, server: Any, chan: str, rate: float, history: bool, observer: Observer):
        super().__init__(server, TALKER, chan)
        self.rate, self.history, self.observer = rate, history, observer
        self.go = threading.Event()
        self.count = 0
        self.samode = 0  # joins after which +H needed SAMODE (not an op)
        self.unset = 0  # joins after which +H could not be set

    def session(self, link: Link, names: list[str]) -> None:
        if self.history:
            try:
                if f"@{TALKER}" not in names:
                    self.samode += 1
                    link.send(f"OPER {self.server.oper[0]} {self.server.oper[1]}")
                    link.wait_for(lambda m: m.command in ("381", "491"), 5)
                    link.send(f"SAMODE {self.chan} +H {HISTORY_MODE}")
                else:
                    link.send(f"MODE {self.chan} +H {HISTORY_MODE}")
                link.wait_for(lambda m: m.command == "MODE" and "+H" in m.params, 5)
            except TimeoutError:
                self.unset += 1
                say(f"  the talker could not set +H {HISTORY_MODE}")
        self.joined.set()
        step = 1.0 / self.rate
        due = time.monotonic()
        while not link.closed.is_set() and not self.stopping.is_set():
            if not (self.go.is_set() and self.observer.joined.is_set()):
                time.sleep(0.02)
                due = time.monotonic()
                continue
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            link.send(f"PRIVMSG {self.chan} :n {self.count}")
            self.count += 1
            due = max(due + step, time.monotonic() - 1.0)  # no burst after a stall


# -- the bot's log -----------------------------------------------------------------


def read_jsonl(bot: BotProcess, chan: str) -> tuple[list[dict[str, Any]], int]:
    """The bot's JSONL records in file order, and the number of lines that did not parse
    (a line torn by ``kill -9`` that the writer has not cut off yet)."""
    records, torn = [], 0
    for path in bot.files(chan, ".jsonl"):
        for line in path.read_bytes().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                torn += 1
    return records, torn


class LogTail:
    """New complete lines of the bot's JSONL files since the last call."""

    def __init__(self, bot: BotProcess, chan: str) -> None:
        self.bot, self.chan = bot, chan
        self.offsets: dict[Path, int] = {}

    def new(self) -> list[dict[str, Any]]:
        out = []
        for path in self.bot.files(self.chan, ".jsonl"):
            try:
                with open(path, "rb") as f:
                    f.seek(self.offsets.get(path, 0))
                    data = f.read()
            except OSError:
                continue
            end = data.rfind(b"\n") + 1
            self.offsets[path] = self.offsets.get(path, 0) + end
            for line in data[:end].splitlines():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out


def live_number(record: dict[str, Any]) -> int | None:
    if record.get("type") != "message" or record.get("replayed") or record.get("nick") != TALKER:
        return None
    m = NUMBER.match(record.get("text") or "")
    return int(m.group(1)) if m else None


def wait_logging(tail: LogTail, after: int, timeout: float = 30.0) -> float | None:
    """Waits until the bot logs a live line numbered ``after`` or later; the seconds it
    took, None on timeout."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if any((n := live_number(r)) is not None and n >= after for r in tail.new()):
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


# -- one run ------------------------------------------------------------------------


def schedule(counts: dict[str, int]) -> list[str]:
    """Each event ``counts[kind]`` times, every kind spread evenly over the run."""
    slots = [
        ((j + 0.5) / n, k, kind) for k, (kind, n) in enumerate(counts.items()) for j in range(n)
    ]
    return [kind for *_, kind in sorted(slots)]


def run_setup(setup: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    say(f"setup {SETUPS[setup]}")
    server = HistoryInspIRCd("inspircd", workdir / "ircd").start()
    observer = Observer(server, CHANNEL)
    talker = Talker(server, CHANNEL, args.rate, setup == "a", observer)
    bouncer: ZNCBouncer | None = None
    bot: BotProcess | None = None
    events: list[dict[str, Any]] = []
    try:
        talker.start()  # first in the channel: an op, sets +H in setup A
        if not talker.joined.wait(15):
            raise RuntimeError("the talker did not join")
        observer.start()
        if not observer.joined.wait(15):
            raise RuntimeError("the observer did not join")
        target: Any = server
        extra: dict[str, Any] = {}
        if setup == "b":
            bouncer = ZNCBouncer(
                server,
                workdir / "znc",
                channels=(CHANNEL,),
                nick=ZNC_NICK,
                auto_clear_chan_buffer=False,
                chan_buffer_size=HISTORY_LINES,
            ).start()
            target, extra = bouncer, {"password": bouncer.login}
        bot = BotProcess(workdir / "bot", target, BOT, [CHANNEL], extra=extra).start()
        tail = LogTail(bot, CHANNEL)
        t0 = time.monotonic()
        while not any(r.get("type") == "connect" for r in tail.new()):
            if time.monotonic() - t0 > 20:
                raise RuntimeError(f"the bot did not join; its stderr:\n{bot.stderr()[-3000:]}")
            time.sleep(0.05)
        say("bot joined; the talker starts")
        talker.go.set()
        started = time.monotonic()
        if wait_logging(tail, 0) is None:
            raise RuntimeError("the bot logs nothing")
        time.sleep(args.settle)
        counts = {"kill": args.kills, "restart": args.restarts}
        if setup == "b":
            counts["upstream"] = args.upstream_kills
        plan = schedule(counts)
        for n, what in enumerate(plan, 1):
            e0, wall = time.monotonic(), time.time()
            if what == "kill":
                bot.kill9()
                time.sleep(args.pause)
                bot.start()
            elif what == "restart":
                server.stop()
                time.sleep(args.server_pause)
                server.start()
            else:  # ZNC's connection to InspIRCd alone, killed by an operator
                link = talker.link
                assert link is not None
                link.send(f"OPER {server.oper[0]} {server.oper[1]}")
                for nick in (BOT, ZNC_NICK):  # ZNC takes the bot's nick upstream
                    link.send(f"KILL {nick} :bench_history: upstream kill")
            mark = talker.count
            back = wait_logging(tail, mark)
            events.append(
                {"event": what, "wall": wall, "seconds": time.monotonic() - e0, "back_after": back}
            )
            took = "NOT back within 30 s" if back is None else f"logging again after {back:.1f} s"
            say(f"  {n}/{len(plan)} {what}: {took}; {talker.count} lines said")
            time.sleep(args.settle)
        talker.stop()
        said = talker.count
        duration = time.monotonic() - started
        time.sleep(0.5)  # the last lines reach the observer
        last = max(observer.seen, default=-1)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 15:  # the last line observed reaches the log
            records, _ = read_jsonl(bot, CHANNEL)
            if any(live_number(r) == last for r in records):
                break
            time.sleep(0.1)
        status = bot.terminate(15)
        say(f"bot stopped (exit status {status}); {said} lines said in {duration:.0f} s")
        records, torn = read_jsonl(bot, CHANNEL)
        result = analyse(records, observer, events)
        result.update(
            setup=setup,
            title=SETUPS[setup],
            said=said,
            duration=duration,
            exit_status=status,
            torn_lines=torn,
            talker_samode=talker.samode,
            h_unset=talker.unset,
            observer_history_lines=observer.history_lines,
            observer_twice=observer.twice,
            events=events,
            kills=args.kills,
            restarts=args.restarts,
            upstream_kills=args.upstream_kills if setup == "b" else 0,
            rate=args.rate,
            tracebacks=bot.stderr().count("Traceback"),
        )
        return result
    finally:
        talker.stop()
        observer.stop()
        if bot is not None:
            bot.stop_quietly()
        if bouncer is not None:
            bouncer.stop()
        server.stop()


# -- the figures --------------------------------------------------------------------


def analyse(
    records: list[dict[str, Any]], observer: Observer, events: list[dict[str, Any]]
) -> dict[str, Any]:
    logged: Counter[int] = Counter()
    live: set[int] = set()  # numbers with a live (not replayed) record
    where: dict[int, int] = {}  # number -> index of its first record
    sources: Counter[str] = Counter()
    for k, r in enumerate(records):
        if r.get("type") != "message" or r.get("nick") != TALKER:
            continue
        m = NUMBER.match(r.get("text") or "")
        if m is None:
            continue
        i = int(m.group(1))
        logged[i] += 1
        where.setdefault(i, k)
        if r.get("replayed"):
            sources[r.get("replay_source") or "?"] += 1
        else:
            live.add(i)
    markers = Counter(r.get("type") for r in records if r.get("type") in MARKERS)
    gaps: list[tuple[datetime, datetime, datetime]] = []  # (A, B, written at)
    # (since, rejoin, written at): A and B of a gap line, S and U of a recovered one
    outages: list[tuple[datetime, datetime, datetime]] = []
    late = whole = 0
    for r in records:
        kind, text = r.get("type"), r.get("text") or ""
        if kind == "gap" and (m := GAP_TEXT.search(text)):
            a, b = parse_time(m.group(1)), parse_time(m.group(2))
            written = parse_time(r["time"])
            gaps.append((a, b, written))
            # The rejoin to the second, as the markers give it (B, or the end of the
            # recovered part that follows the gap).
            m = PARTLY.search(text)
            outages.append((a, parse_time(m.group(1)) if m else b, written))
        elif kind == "recovered" and (m := RECOVERED_JOIN.search(text)):
            span = parse_time(m.group(1)), parse_time(m.group(2))
            outages.append((*span, parse_time(r["time"])))
            whole += 1
        elif kind == "recovered" and RECOVERED_LATE.search(text):
            late += 1
    seen = observer.seen
    missing = sorted(set(seen) - set(logged))
    inside, outside, strict = [], [], []
    for i in missing:
        t = seen[i][0].timestamp()
        hit = any(a.timestamp() - SLACK <= t <= b.timestamp() + SLACK for a, b, _ in gaps)
        (inside if hit else outside).append(i)
        # The markers give A and B to the second, cut: the span is [A, B + 1 s).
        if not any(a.timestamp() <= t < b.timestamp() + 1 for a, b, _ in gaps):
            strict.append(i)
    # Per kind of event: each outage (by its rejoin) and each line not received live
    # (by its server time) belongs to the last event that began before it.
    starts = sorted((e["wall"], e["event"]) for e in events)

    def kind_at(when: datetime) -> str:
        k = bisect.bisect_right(starts, (when.timestamp(), "~")) - 1
        return starts[k][1] if k >= 0 else "before"

    by_kind: dict[str, Counter[str]] = {}
    for e in events:
        by_kind.setdefault(e["event"], Counter())["events"] += 1
    for since, until, written in outages:
        c = by_kind.setdefault(kind_at(written), Counter())
        c["outages"] += 1
        c["outage_ms"] += round((until - since).total_seconds() * 1000)
    for a, b, written in gaps:  # a gap line is written at the rejoin
        c = by_kind.setdefault(kind_at(written), Counter())
        c["gap_ms"] += round((b - a).total_seconds() * 1000)
    for i in set(seen) - live:
        c = by_kind.setdefault(kind_at(seen[i][0]), Counter())
        c["not_live"] += 1
        c["recovered" if i in logged else "missing"] += 1
    return {
        "by_kind": {k: dict(v) for k, v in by_kind.items()},
        "observed": len(seen),
        "logged": len(logged),
        "records": sum(logged.values()),
        "duplicates": sum(c - 1 for c in logged.values() if c > 1),
        "duplicated": sorted(i for i, c in logged.items() if c > 1)[:50],
        "missing": len(missing),
        "missing_in_gap": len(inside),
        "missing_outside": len(outside),
        "outside": [evidence(run, seen, records, where) for run in runs(outside)[:5]],
        "missing_outside_strict": len(strict),
        "outside_strict": [evidence(run, seen, records, where) for run in runs(strict)[:5]],
        "not_observed": len(set(logged) - set(seen)),
        "replayed": sum(sources.values()),
        "replay_sources": dict(sources),
        "markers": {k: markers.get(k, 0) for k in MARKERS},
        "late_recovered": late,
        "gap_seconds": sum((b - a).total_seconds() for a, b, _ in gaps),
        "outages": len(outages),
        "outages_recovered": whole,
        "outage_seconds": sum((u - s).total_seconds() for s, u, _ in outages),
        "not_live": len(set(seen) - live),
        "only_replayed": len((set(seen) & set(logged)) - live),
    }


MARKERS = ("connect", "disconnect", "gap", "recovered")


def runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Sorted ``numbers`` as runs of consecutive ones: (first, last)."""
    out: list[tuple[int, int]] = []
    for i in numbers:
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def evidence(
    run: tuple[int, int],
    seen: dict[int, tuple[datetime, float]],
    records: list[dict[str, Any]],
    where: dict[int, int],
) -> dict[str, Any]:
    """Lines ``run`` (first, last) lost outside every declared gap: their observed
    times and the JSONL records from the line before them to the line after them
    (markers in between included)."""
    first, last = run
    before = max((j for j in where if j < first), default=None)
    after = min((j for j in where if j > last), default=None)
    lo = where[before] if before is not None else 0
    hi = where[after] if after is not None else len(records) - 1
    context = records[max(lo, hi - 40) : hi + 1]
    keep = ("time", "type", "nick", "text", "target", "replayed", "replay_source")

    def stamp(when: datetime) -> str:
        return when.isoformat(timespec="milliseconds")

    return {
        "lines": f"n {first}" if first == last else f"n {first} .. n {last}",
        "count": last - first + 1,
        "server_time": f"{stamp(seen[first][0])} .. {stamp(seen[last][0])}",
        "observer_received": stamp(datetime.fromtimestamp(seen[first][1], UTC))
        + " .. "
        + stamp(datetime.fromtimestamp(seen[last][1], UTC)),
        "context": [{k: r[k] for k in keep if k in r} for r in context],
    }


def table(r: dict[str, Any]) -> str:
    def row(label: str, value: object, note: str = "") -> str:
        shown = f"{value:,}" if isinstance(value, int) else str(value)
        return f"  {label:<44} {shown:>9}  {note}".rstrip()

    m = r["markers"]
    sources = ", ".join(f"{k} {v:,}" for k, v in sorted(r["replay_sources"].items())) or "-"
    backs = [e["back_after"] for e in r["events"] if e["back_after"] is not None]
    lines = [
        f"{r['title']}: {r['kills']} kill -9, {r['restarts']} server restarts, "
        + (f"{r['upstream_kills']} upstream kills, " if r["upstream_kills"] else "")
        + f"{r['rate']:g} lines/s, {r['duration']:.0f} s",
        row("lines said by the talker", r["said"]),
        row("lines observed (the reference)", r["observed"]),
        row("lines in the bot's log", r["logged"], f"{r['records']:,} records"),
        row("  duplicates (a line logged twice)", r["duplicates"]),
        row("  not observed", r["not_observed"]),
        row("observed lines the bot did not get live", r["not_live"]),
        row("  recovered from history (replayed)", r["only_replayed"], sources),
        row("  missing from the log", r["missing"]),
        row("    inside a declared gap (2 s slack)", r["missing_in_gap"]),
        row("    OUTSIDE every declared gap", r["missing_outside"]),
        row("    outside the gaps' own seconds, no slack", r["missing_outside_strict"]),
        row(
            "outages (rejoins after a gap)",
            r["outages"],
            f"{r['outages_recovered']} recovered whole",
        ),
        row("  seconds from gap start to rejoin", f"{r['outage_seconds']:.1f}", "without history"),
        row("  seconds declared as gaps (sum of B - A)", f"{r['gap_seconds']:.1f}", "with history"),
        row(
            "markers",
            "",
            f"connect {m['connect']}, disconnect {m['disconnect']}, gap {m['gap']}, "
            f"recovered {m['recovered']} (late {r['late_recovered']})",
        ),
        row("bot logging live again after an event", f"{max(backs, default=0):.1f}", "s, worst"),
        row("bot exit status (SIGTERM) / tracebacks", f"{r['exit_status']} / {r['tracebacks']}"),
    ]
    kinds = [k for k in ("kill", "restart", "upstream", "before") if k in r["by_kind"]]
    names = {"kill": "kill -9", "restart": "restart", "upstream": "upstream", "before": "before"}
    lines.append(f"  {'after each kind of event':<44} " + " ".join(f"{names[k]:>9}" for k in kinds))
    for label, key, scale in (
        ("events", "events", None),
        ("outages (rejoins after a gap)", "outages", None),
        ("seconds from gap start to rejoin", "outage_ms", 1000),
        ("seconds declared as gaps", "gap_ms", 1000),
        ("observed lines the bot did not get live", "not_live", None),
        ("  recovered from history", "recovered", None),
        ("  missing from the log", "missing", None),
    ):
        cells = []
        for k in kinds:
            v = r["by_kind"][k].get(key, 0)
            cells.append(f"{v / scale:>9.1f}" if scale else f"{v:>9,}")
        lines.append(f"    {label:<42} " + " ".join(cells))
    if r["torn_lines"]:
        lines.append(row("JSONL lines that did not parse", r["torn_lines"]))
    if r["h_unset"]:
        lines.append(row("joins after which +H could not be set", r["h_unset"]))
    if r["talker_samode"]:
        lines.append(row("+H set with SAMODE (the talker not an op)", r["talker_samode"]))
    shown = {e["lines"] for e in r["outside"]}
    for e in r["outside"] + [e for e in r["outside_strict"] if e["lines"] not in shown]:
        lines.append(
            f"  LOST {e['lines']} ({e['count']}): server time {e['server_time']}, the observer"
            f" got them {e['observer_received']}; the log around them:"
        )
        lines += [f"      {json.dumps(c, ensure_ascii=False)}" for c in e["context"]]
    if r["duplicates"]:
        lines.append(f"  logged more than once: {r['duplicated']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--setups", default="a,b", help="a, b or a,b (default)")
    parser.add_argument("--kills", type=int, default=10, help="kill -9 of the bot (10)")
    parser.add_argument("--restarts", type=int, default=20, help="InspIRCd restarts (20)")
    parser.add_argument(
        "--upstream-kills",
        type=int,
        default=0,
        help="setup B: KILL of ZNC's own connection to InspIRCd by an operator (0)",
    )
    parser.add_argument("--rate", type=float, default=20.0, help="lines a second (20)")
    parser.add_argument("--pause", type=float, default=1.0, help="s between kill and start (1)")
    parser.add_argument("--server-pause", type=float, default=0.0, help="s the server is down")
    parser.add_argument("--settle", type=float, default=1.0, help="s after the bot is back (1)")
    parser.add_argument("--json", help="write the figures (and the events) to this file")
    parser.add_argument("--keep", help="work in this directory and keep it (logs, configs)")
    args = parser.parse_args()
    setups = [s.strip().lower() for s in args.setups.split(",") if s.strip()]
    if not setups or any(s not in SETUPS for s in setups):
        parser.error(f"--setups: a, b or a,b, not {args.setups!r}")
    if args.kills + args.restarts + args.upstream_kills < 1 or args.rate <= 0:
        parser.error("nothing to do: --kills + --restarts must be positive, --rate too")
    if args.keep:
        root = Path(args.keep)
        root.mkdir(parents=True, exist_ok=True)
    else:
        root = Path(tempfile.mkdtemp(prefix="bench-history-"))
    results = []
    try:
        for setup in setups:
            results.append(run_setup(setup, args, root / setup))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print()
    for r in results:
        print(table(r))
        print()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    bad = any(
        r["missing_outside"] or r["missing_outside_strict"] or r["duplicates"] for r in results
    )
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
