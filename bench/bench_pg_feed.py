"""Two ``logbot run`` bots feeding one PostgreSQL archive: each event stored once?

Three cases (``--only two,kill,untagged``; all by default), each on a fresh database
of one PostgreSQL server (``tests/pg/server.py``: a temporary cluster on 127.0.0.1,
``fsync`` off), made current by ``logbot archive migrate`` first:

two
    Bots A and B (nicks ``botA``/``botB``, their own work folders, log roots and
    ``plugins.data_dir``, ``archive.instance`` ``a``/``b``, both ``store: postgres`` on
    the one database, ``dedupe_window`` 3 s, ``interval`` 1 s, ``batch_lines`` 5000)
    are ``python -m logbot run`` processes, each connected to its own
    ``irc_blaster.py``; the two blasters play the two connections of one network: the
    same ``--lines`` PRIVMSG lines (the blaster is deterministic: seed 1), tagged
    ``@time=...;msgid=...;account=...``.  Once both bots have joined, both blasts start
    together (``--wait-go``).  ``logbot run`` starts its ``logbot archive feed
    --follow`` child, which follows the jsonl files into the database (SCHED_IDLE).
    The bench polls the database every 100 ms (``SELECT sum(count) FROM days``: the
    feed keeps it in the batch's transaction, so it is exact and cheap; when it reaches
    ``--lines``, the exact ``count(*)`` of message events decides) and reports: message
    rows stored, duplicates (rows - lines; rows per msgid > 1; line numbers stored more
    than once), lines lost (line numbers not stored), lines matched (sightings of a
    bot on an event another bot stored), the lag from the flood's end (the later of
    the two PONGs to ``PING :blaster-done``) until the database has every line, the
    feed's rate (rows over the time from the first row stored to the last), both
    files' messages (each must have every line once), the feeds' status files, and
    the bots' stderr warnings.
kill
    The same, but when bot A's jsonl file has half the lines, A's whole process group
    (``logbot run`` and its feed child: the child is not in a session of its own) gets
    SIGKILL; A is started again at once (same config and folders).  A's blaster
    (``--reconnect``) accepts it again and sends *the rest*: the lines from the first one
    the kernel had not wholly taken when the connection broke; those already in A's
    socket buffers (and those A had read but not written) are lost to A, as on a real
    network, and B has them.  After both PONGs and both feeds idle (status files: no
    backlog; the database unchanged for 3 s): 0 lost, 0 duplicated.
untagged
    As ``two`` without ``server-time``/``msgid`` (the blasters offer no capability):
    each bot stamps a line with its own clock, so the copies are matched by content
    within the window.  With duplicates, the bench says which lines, and the skew
    between the two bots' stamps of each line (from the files) is reported in any case.

Every bot is pinned to CPU 0, the blasters and the bench to CPU 1 (``taskset``);
PostgreSQL is not pinned.  The work folders are kept with ``--keep DIR``.

Run::

    .venv/bin/python bench/bench_pg_feed.py --lines 20000
    .venv/bin/python bench/bench_pg_feed.py --json /tmp/pgfeed.json          # 200,000
    .venv/bin/python bench/bench_pg_feed.py --only kill --lines 20000 --keep /tmp/pgk
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.append(str(REPO))

import irc_blaster
from bench_logbot import _env, proc_status, stderr_problems
from benchproc import NICE, child

CHANNEL = "#bench"
NETWORK = "bench"
CAPS = "server-time message-tags account-tag"
WINDOW = 3.0  # archive.dedupe_window, seconds
POLL = 0.1  # seconds between the bench's looks at the database
IDLE_SECONDS = 3.0  # the database unchanged this long (and no backlog): the feeds are idle
CASES = ("two", "kill", "untagged")
LABELS = {
    "two": "two bots, tagged (msgid + server-time)",
    "kill": "two bots, tagged, A kill -9'd at half and restarted",
    "untagged": "two bots, untagged (own clocks, dedupe by content)",
}


# -- processes ------------------------------------------------------------------------------


class Output:
    """A child's stdout lines, read by a thread, each with the time it came."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.queue: queue.Queue[tuple[float, str] | None] = queue.Queue()
        assert proc.stdout is not None
        out = proc.stdout

        def read() -> None:
            for line in out:
                self.queue.put((time.perf_counter(), line))
            self.queue.put(None)

        threading.Thread(target=read, daemon=True).start()

    def next(self, timeout: float) -> tuple[float, str]:
        try:
            item = self.queue.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"no output within {timeout:.0f} s") from None
        if item is None:
            raise RuntimeError("the child closed its output")
        return item


class Blaster:
    def __init__(self, lines: int, tagged: bool, reconnect: bool) -> None:
        args = [
            str(HERE / "irc_blaster.py"),
            "--lines",
            str(lines),
            "--channel",
            CHANNEL,
            "--hold",
            "--wait-go",
        ]
        if tagged:
            args += ["--caps", CAPS, "--tags"]
        if reconnect:
            args.append("--reconnect")
        self.proc = subprocess.Popen(
            child(args, 1), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.out = Output(self.proc)
        self.port = int(self.out.next(120)[1].split()[1])

    def ready(self, timeout: float) -> None:
        _, line = self.out.next(timeout)
        if line.strip() != "READY":
            raise RuntimeError(f"blaster: {line!r} instead of READY")

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self, timeout: float) -> tuple[float, dict]:
        at, line = self.out.next(timeout)
        return at, json.loads(line)


class Bot:
    """One ``logbot run`` in its own work folder, the leader of its process group."""

    def __init__(self, work: Path, name: str, port: int, dsn: str) -> None:
        self.name = name
        self.work = work
        self.root = work / "logs"
        self.data = work / "data"
        self.config = work / "config.yaml"
        self.data.mkdir(parents=True)
        config = {
            "reactor": "auto",
            "logging": {"root": str(self.root), "formats": ["text", "jsonl"]},
            "networks": [
                {
                    "name": NETWORK,
                    "servers": [f"127.0.0.1:{port}"],
                    "nick": f"bot{name.upper()}",
                    "channels": [CHANNEL],
                    "line_rate": 0,
                }
            ],
            "plugins": {"data_dir": str(self.data)},
            "archive": {
                "store": "postgres",
                "dsn": dsn,
                "instance": name,
                "dedupe_window": WINDOW,
                "interval": 1,
                "batch_lines": 5000,
            },
        }
        self.config.write_text(json.dumps(config, indent=1))  # JSON is YAML
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.work / "bot.stderr", "ab") as err:
            self.proc = subprocess.Popen(
                child(["-m", "logbot", "run", "-c", str(self.config)], 0),
                cwd=self.work,
                env=_env(),
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                start_new_session=True,  # its own group: kill -9 takes the feed child too
            )

    def kill9(self) -> None:
        """SIGKILL to the whole process group (the bot and its archive child)."""
        assert self.proc is not None
        pgid = self.proc.pid
        os.killpg(pgid, signal.SIGKILL)
        self.proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the orphaned child is reaped by init
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.01)
        raise RuntimeError(f"process group {pgid} still there 10 s after SIGKILL")

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            return None

    def status(self) -> dict | None:
        try:
            return json.loads((self.data / "postgres-feed.json").read_text())
        except (OSError, ValueError):
            return None

    def jsonl_files(self) -> list[Path]:
        return sorted(self.root.rglob("*.jsonl")) if self.root.exists() else []


def _stop(*procs: subprocess.Popen | None) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


# -- the database -----------------------------------------------------------------------


class Poller:
    """Looks at the database every POLL seconds from a thread: ``samples`` (time, rows
    in ``days``), and ``all_at``: when the message events first numbered ``lines``."""

    def __init__(self, dsn: str, lines: int) -> None:
        import psycopg

        self.conn = psycopg.connect(dsn, autocommit=True)
        self.lines = lines
        self.samples: list[tuple[float, int]] = []
        self.fed: list[tuple[float, int]] = []  # (time, lines fed by all bots: instances)
        self.all_at: float | None = None
        self.messages = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            t = time.perf_counter()
            try:
                rows, fed = self.conn.execute(
                    "SELECT (SELECT coalesce(sum(count), 0) FROM days),"
                    " (SELECT coalesce(sum(lines), 0) FROM instances)"
                ).fetchone()
                self.samples.append((t, int(rows)))
                self.fed.append((t, int(fed)))
                if self.all_at is None and rows >= self.lines:
                    self.messages = self.conn.execute(
                        "SELECT count(*) FROM events WHERE type = 'message'"
                    ).fetchone()[0]
                    if self.messages >= self.lines:
                        self.all_at = t
            except Exception as e:  # reported, not fatal: the bench goes on polling
                self.errors.append(f"{type(e).__name__}: {e}")
            self._stop.wait(max(0.0, POLL - (time.perf_counter() - t)))

    def rows(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    def stable_for(self) -> float:
        """Seconds since the rows last changed."""
        if not self.samples:
            return 0.0
        last_t, last = self.samples[-1]
        since = last_t
        for t, n in reversed(self.samples):
            if n != last:
                break
            since = t
        return last_t - since

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.conn.close()


def feed_rate(samples: list[tuple[float, int]], base: int) -> dict[str, Any]:
    """Rows per second into the database: rows over the time from the first sample
    above ``base`` (the rows before the flood) to the first with the final count."""
    if not samples:
        return {}
    final = samples[-1][1]
    first = next((i for i, (_, n) in enumerate(samples) if n > base), None)
    last = next((i for i, (_, n) in enumerate(samples) if n == final), None)
    if first is None or last is None or last <= first:
        return {"rows": final - base}
    t0 = samples[first - 1][0] if first else samples[first][0]  # the row came after this look
    seconds = samples[last][0] - t0
    rows = final - (samples[first - 1][1] if first else base)
    return {"rows": rows, "seconds": seconds, "rate": rows / seconds, "first_t": t0}


def db_check(dsn: str, lines: int) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        q = conn.execute
        messages = q("SELECT count(*) FROM events WHERE type = 'message'").fetchone()[0]
        by_type = dict(q("SELECT type, count(*) FROM events GROUP BY type").fetchall())
        by_instance = dict(
            q(
                "SELECT instance, count(*) FROM events WHERE type = 'message' GROUP BY instance"
            ).fetchall()
        )
        msgid_dups = q(
            "SELECT count(*), coalesce(sum(n - 1), 0) FROM (SELECT msgid, count(*) AS n"
            " FROM events WHERE msgid IS NOT NULL GROUP BY network, msgid"
            " HAVING count(*) > 1) d"
        ).fetchone()
        with_msgid = q(
            "SELECT count(*) FROM events WHERE type = 'message' AND msgid IS NOT NULL"
        ).fetchone()[0]
        per_line = q(
            "SELECT split_part(text, ' ', 1)::int AS n, count(*) FROM events"
            " WHERE type = 'message' GROUP BY 1"
        ).fetchall()
        counts = dict(per_line)
        dup_lines = sorted(n for n, c in counts.items() if c > 1)
        sightings = {
            inst: {"lines": total, "matched": matched}
            for inst, total, matched in q(
                "SELECT s.instance, count(*), count(*) FILTER (WHERE s.instance <> e.instance)"
                " FROM sightings s JOIN events e ON e.id = s.event_id"
                " WHERE e.type = 'message' GROUP BY s.instance"
            ).fetchall()
        }
        seen_by = dict(
            q(
                "SELECT k, count(*) FROM (SELECT e.id, count(s.*) AS k FROM events e"
                " LEFT JOIN sightings s ON s.event_id = e.id WHERE e.type = 'message'"
                " GROUP BY e.id) x GROUP BY k"
            ).fetchall()
        )
        instances = dict(q("SELECT instance, lines FROM instances").fetchall())
        dup_rows = []
        for n in dup_lines[:10]:
            dup_rows.append(
                {
                    "line": n,
                    "rows": [
                        {"instance": i, "time_ms": t, "id": ident, "sightings": s}
                        for ident, i, t, s in q(
                            "SELECT e.id, e.instance, e.time_ms, array_agg(s.instance)"
                            " FROM events e LEFT JOIN sightings s ON s.event_id = e.id"
                            " WHERE e.type = 'message' AND split_part(e.text, ' ', 1) = %s"
                            " GROUP BY e.id ORDER BY e.id",
                            (str(n),),
                        ).fetchall()
                    ],
                }
            )
    return {
        "messages": messages,
        "by_type": by_type,
        "stored_by": by_instance,
        "with_msgid": with_msgid,
        "msgid_duplicated": {"msgids": msgid_dups[0], "extra_rows": int(msgid_dups[1])},
        "duplicates": messages - lines,
        "lines_duplicated": len(dup_lines),
        "extra_rows": sum(c - 1 for c in counts.values() if c > 1),
        "lost": sum(1 for n in range(lines) if n not in counts),
        "outside": sum(1 for n in counts if not 0 <= n < lines),
        "sightings": sightings,
        "events_by_sightings": {str(k): v for k, v in sorted(seen_by.items())},
        "instances_lines": instances,
        "duplicated_examples": dup_rows,
    }


# -- the files --------------------------------------------------------------------------


def file_check(bot: Bot, lines: int, tagged: bool) -> dict[str, Any]:
    """The message lines of a bot's jsonl files: how many, lines missing or there more
    than once, with a wrong msgid/time (tagged); the other types; each line's time."""
    seen = bytearray(lines)
    times = [0] * lines
    count = wrong = bad_json = 0
    types: dict[str, int] = {}
    for path in bot.jsonl_files():
        with open(path, encoding="utf-8", errors="replace") as f:
            for raw in f:
                try:
                    obj = json.loads(raw)
                except ValueError:
                    bad_json += 1
                    continue
                kind = obj.get("type")
                types[kind] = types.get(kind, 0) + 1
                if kind != "message":
                    continue
                count += 1
                n = int(obj["text"].split(" ", 1)[0])
                if not 0 <= n < lines:
                    continue
                if seen[n] < 255:
                    seen[n] += 1
                times[n] = obj["time_ms"]
                if tagged and (
                    obj.get("msgid") != irc_blaster.msgid(n)
                    or obj.get("time_source") != "server"
                    or obj["time"][:23] != irc_blaster.tag_time(n, 1)[:23]
                ):
                    wrong += 1
    return {
        "messages": count,
        "missing": sum(1 for s in seen if s == 0),
        "duplicated": sum(1 for s in seen if s > 1),
        "wrong": wrong,
        "bad_json": bad_json,
        "types": types,
        "_times": times,
        "_seen": seen,
    }


def skew(a: dict, b: dict, lines: int) -> dict[str, Any]:
    """A's stamp minus B's of each line both logged (ms): the untagged case's margin."""
    diffs = [
        a["_times"][n] - b["_times"][n] for n in range(lines) if a["_seen"][n] and b["_seen"][n]
    ]
    if not diffs:
        return {}
    mags = sorted(abs(d) for d in diffs)
    window = int(WINDOW * 1000)
    return {
        "lines": len(diffs),
        "min_ms": min(diffs),
        "median_ms": statistics.median(diffs),
        "max_ms": max(diffs),
        "p99_abs_ms": mags[int(0.99 * (len(mags) - 1))],
        "over_window": sum(1 for d in mags if d > window),
    }


def count_lines(path: Path, state: dict[str, int]) -> int:
    """Lines in ``path`` so far, read on from where the last call stopped."""
    try:
        with open(path, "rb") as f:
            f.seek(state.get("offset", 0))
            data = f.read()
    except OSError:
        return state.get("lines", 0)
    state["offset"] = state.get("offset", 0) + len(data)
    state["lines"] = state.get("lines", 0) + data.count(b"\n")
    return state["lines"]


def progress(message: str) -> None:
    print(f"    {time.strftime('%H:%M:%S')} {message}", flush=True)


# -- one case -----------------------------------------------------------------------------


def run_case(case: str, lines: int, server: Any, tmp: Path) -> dict[str, Any]:
    tagged = case != "untagged"
    kill = case == "kill"
    dsn = server.create_database(f"feed_{case}_{int(time.time())}")
    work = tmp / case
    shutil.rmtree(work, ignore_errors=True)
    result: dict[str, Any] = {"case": case, "lines": lines, "tagged": tagged}
    blasters: dict[str, Blaster] = {}
    bots: dict[str, Bot] = {}
    poller = None
    try:
        for name in ("a", "b"):
            blasters[name] = Blaster(lines, tagged, reconnect=kill and name == "a")
            bots[name] = Bot(work / name, name, blasters[name].port, dsn)
        migrated = subprocess.run(
            [sys.executable, "-m", "logbot", "archive", "migrate", "-c", str(bots["a"].config)],
            env=_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if migrated.returncode:
            raise RuntimeError(f"migrate: {migrated.stderr.strip()}")
        poller = Poller(dsn, lines)
        for bot in bots.values():
            bot.start()
        for blaster in blasters.values():
            blaster.ready(120)
        time.sleep(1.5)  # both bots' join lines fed (the feeds look every second)
        base = poller.rows()
        base_fed = poller.fed[-1][1] if poller.fed else 0
        go = time.perf_counter()
        for blaster in blasters.values():
            blaster.go()
        if kill:
            result["kill"] = kill_at_half(bots["a"], lines)
        pongs = {}
        for name, blaster in blasters.items():
            at, res = blaster.result(max(120, lines / 500))
            pongs[name] = at
            res["pong_after_go"] = at - go
            result[f"blaster_{name}"] = res
        flood_end = max(pongs.values())
        result["flood_seconds"] = flood_end - go
        result["at_flood_end"] = {
            "db_rows": poller.rows(),
            "status": {n: b.status() for n, b in bots.items()},
            "bots": {n: proc_status(b.proc.pid) for n, b in bots.items() if b.proc},
        }
        progress(f"{case}: flood done in {result['flood_seconds']:.2f} s")
        deadline = time.perf_counter() + max(300, lines / 100)
        while poller.all_at is None and time.perf_counter() < deadline:
            time.sleep(POLL)
        result["lag_seconds"] = None if poller.all_at is None else poller.all_at - flood_end
        progress(f"{case}: every line in the database {_s(result['lag_seconds'])} after it")
        result["idle"] = wait_idle(poller, bots, flood_end, 120)
        result["rate"] = feed_rate(poller.samples, base)
        result["fed_rate"] = feed_rate(poller.fed, base_fed)
        result["fed_rate"].pop("first_t", None)
        if "first_t" in result["rate"]:
            result["rate"]["first_after_go"] = result["rate"].pop("first_t") - go
        result["db"] = db_check(dsn, lines)
        result["poll_errors"] = poller.errors[:5]
        result["status"] = {n: b.status() for n, b in bots.items()}
        result["exit"] = {n: b.stop() for n, b in bots.items()}
        for blaster in blasters.values():
            try:
                blaster.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
    finally:
        if poller is not None:
            poller.close()
        for bot in bots.values():
            if bot.proc is not None and bot.proc.poll() is None:
                bot.stop()
        _stop(*(b.proc for b in blasters.values()))
    files = {n: file_check(b, lines, tagged) for n, b in bots.items()}
    if not tagged:
        result["skew"] = skew(files["a"], files["b"], lines)
        result["duplicate_skews"] = [
            {
                "line": ex["line"],
                "a_minus_b_ms": files["a"]["_times"][ex["line"]] - files["b"]["_times"][ex["line"]],
            }
            for ex in result["db"]["duplicated_examples"]
        ]
    result["files"] = {
        n: {k: v for k, v in f.items() if not k.startswith("_")} for n, f in files.items()
    }
    result["problems"] = {n: stderr_problems(b.work / "bot.stderr") for n, b in bots.items()}
    result["failed"] = verdict(result, lines, kill)
    return result


def kill_at_half(bot: Bot, lines: int) -> dict[str, Any]:
    """SIGKILL ``bot``'s process group once its jsonl file has half the lines, then
    start it again at once."""
    target = lines // 2
    state: dict[str, int] = {}
    deadline = time.perf_counter() + max(300, lines / 200)
    path = None
    while time.perf_counter() < deadline:
        if path is None:
            files = bot.jsonl_files()
            path = files[0] if files else None
        if path is not None and count_lines(path, state) >= target:
            break
        time.sleep(0.005)
    else:
        raise RuntimeError("bot A's file did not reach half the lines")
    t = time.perf_counter()
    bot.kill9()
    at_kill = count_lines(path, state)
    status = bot.status()
    bot.start()
    return {
        "file_lines_at_kill": at_kill,
        "killed_in_seconds": time.perf_counter() - t,
        "status_at_kill": status,
    }


def wait_idle(poller: Poller, bots: dict[str, Bot], since: float, timeout: float) -> dict:
    """Until both feeds report no backlog in a status written after ``since`` and the
    database did not change for IDLE_SECONDS."""
    t0 = time.perf_counter()
    wall_since = time.time() - (t0 - since)
    while time.perf_counter() - t0 < timeout:
        statuses = [b.status() or {} for b in bots.values()]
        if (
            all(
                s.get("backlog_bytes") == 0 and s.get("written_at", 0) > wall_since
                for s in statuses
            )
            and poller.stable_for() >= IDLE_SECONDS
        ):
            return {"idle": True, "after_flood_end": time.perf_counter() - since}
        time.sleep(0.2)
    return {"idle": False, "after_flood_end": time.perf_counter() - since}


def verdict(r: dict, lines: int, kill: bool) -> str:
    bad = []
    db = r.get("db", {})
    if db.get("messages") != lines:
        bad.append(f"{db.get('messages')} message events stored, not {lines:,}")
    if db.get("lost"):
        bad.append(f"{db['lost']} lines lost")
    if db.get("extra_rows"):
        bad.append(f"{db['extra_rows']} duplicate rows")
    if r.get("tagged") and db.get("msgid_duplicated", {}).get("msgids"):
        bad.append("msgids stored more than once")
    for name, f in r.get("files", {}).items():
        if kill and name == "a":
            if f["duplicated"] or f["wrong"]:
                bad.append(f"{name}'s file: {f['duplicated']} duplicated, {f['wrong']} wrong")
            continue
        if f["messages"] != lines or f["missing"] or f["duplicated"] or f["wrong"]:
            bad.append(
                f"{name}'s file: {f['messages']} messages, {f['missing']} missing,"
                f" {f['duplicated']} duplicated, {f['wrong']} wrong"
            )
    if not r.get("idle", {}).get("idle"):
        bad.append("the feeds did not become idle")
    for name, code in r.get("exit", {}).items():
        if code != 0:
            bad.append(f"bot {name} exit status {code}")
    return "; ".join(bad)


# -- output -------------------------------------------------------------------------------


def _s(value: float | None, fmt: str = ".2f") -> str:
    return "-" if value is None else f"{value:{fmt}} s"


def print_tables(results: dict[str, Any]) -> None:
    cases = results["cases"]
    lines = results["lines"]
    print(
        f"\nTwo bots, one flood of {lines:,} lines each, one PostgreSQL database"
        f" (dedupe_window {WINDOW:g} s, batch_lines 5000):"
    )
    print(
        "| case | message rows | duplicates (rows - lines / by msgid / lines twice) | lost |"
        " lines matched (a / b) | flood | lag after the flood | feed rate | files a / b |"
    )
    print("|---|---:|---|---:|---|---:|---:|---:|---|")
    for name, r in cases.items():
        if "error" in r:
            print(f"| {LABELS[name]} | FAILED: {r['error']} | | | | | | | |")
            continue
        db = r["db"]
        sights = db["sightings"]
        matched = " / ".join(f"{sights.get(i, {}).get('matched', 0):,}" for i in ("a", "b"))
        msgid = db["msgid_duplicated"]["msgids"] if r["tagged"] else "n/a"
        rate = r["rate"].get("rate")
        files = " / ".join(
            f"{f['messages']:,}" + (f" ({f['missing']:,} missing)" if f["missing"] else "")
            for f in r["files"].values()
        )
        print(
            f"| {LABELS[name]} | {db['messages']:,} | {db['duplicates']:,} / {msgid} /"
            f" {db['lines_duplicated']:,} | {db['lost']:,} | {matched} |"
            f" {_s(r['flood_seconds'])} | {_s(r['lag_seconds'])} |"
            f" {'-' if rate is None else f'{rate:,.0f} rows/s'} | {files} |"
        )
    for name, r in cases.items():
        if "error" in r:
            continue
        print(f"\n{name}: {'OK' if not r['failed'] else 'FAILED: ' + r['failed']}")
        st = r["status"]
        for inst in ("a", "b"):
            s = st.get(inst) or {}
            b = r[f"blaster_{inst}"]
            extra = (
                f", reconnects {b['reconnects']} (resumed from line {b['resumed_from']})"
                if "reconnects" in b
                else ""
            )
            print(
                f"  bot {inst}: flood {b['seconds']:.2f} s ({b['rate']:,.0f} lines/s){extra};"
                f" feed: {s.get('events_new')} new, {s.get('events_matched')} matched,"
                f" {s.get('lines_known')} known, {s.get('bad_lines')} bad lines,"
                f" database_up {s.get('database_up')}, backlog {s.get('backlog_bytes')} B;"
                f" exit {r['exit'].get(inst)}"
            )
        end = r["at_flood_end"]
        fed = r["fed_rate"]
        print(
            f"  at the flood's end: {end['db_rows']:,} rows in the database; first row"
            f" {_s(r['rate'].get('first_after_go'))} after the go;"
            f" idle {_s(r['idle']['after_flood_end'])} after the flood's end;"
            f" lines fed (both bots, new + matched): {fed.get('rows', 0):,}"
            + (f" at {fed['rate']:,.0f} lines/s" if "rate" in fed else "")
        )
        db = r["db"]
        print(
            f"  events by type {db['by_type']}; stored by {db['stored_by']};"
            f" message events by number of sightings {db['events_by_sightings']}"
        )
        if "kill" in r:
            k = r["kill"]
            sk = k.get("status_at_kill") or {}
            print(
                f"  a's feed at the kill (its last status): {sk.get('events_new')} new,"
                f" {sk.get('events_matched')} matched, backlog {sk.get('backlog_bytes')} B"
            )
            print(
                f"  kill -9 of a at {k['file_lines_at_kill']:,} lines in its jsonl file;"
                f" a's file in the end: {r['files']['a']['messages']:,} messages,"
                f" {r['files']['a']['missing']:,} missing (b has them)"
            )
        if "skew" in r:
            sk = r["skew"]
            print(
                f"  stamps a - b (ms): min {sk.get('min_ms')}, median {sk.get('median_ms')},"
                f" max {sk.get('max_ms')}, p99 |.| {sk.get('p99_abs_ms')};"
                f" lines over the window: {sk.get('over_window')}"
            )
            for d in r["duplicate_skews"]:
                print(f"  duplicated line {d['line']}: a - b = {d['a_minus_b_ms']} ms")
        for ex in db["duplicated_examples"][:5]:
            print(f"  duplicated: {ex}")
        for inst, problems in r["problems"].items():
            for line in problems[:8]:
                print(f"  {inst} stderr: {line[:300]}")
            if len(problems) > 8:
                print(f"  {inst} stderr: ... {len(problems) - 8} more")
        for e in r.get("poll_errors", []):
            print(f"  poll error: {e}")


def slow_statements(log: Path) -> list[dict[str, Any]]:
    """``log_min_duration_statement`` lines of the server's log, by statement text
    (its first 90 characters), the most total time first."""
    import re

    groups: dict[str, list[float]] = {}
    pattern = re.compile(r"duration: ([0-9.]+) ms\s+(?:statement|execute [^:]*): (.*)")
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        m = pattern.search(line)
        if m:
            groups.setdefault(m.group(2)[:90], []).append(float(m.group(1)))
    rows = [
        {"statement": k, "count": len(v), "total_ms": sum(v), "max_ms": max(v)}
        for k, v in groups.items()
    ]
    return sorted(rows, key=lambda r: -r["total_ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description="two logbot bots feeding one PostgreSQL")
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--only", default=",".join(CASES), help=f"of {', '.join(CASES)}")
    parser.add_argument("--json", help="write the raw results to this file")
    parser.add_argument("--keep", help="keep the work folders (logs, stderr) under this folder")
    parser.add_argument("--nice", type=int, help="run the measured processes at this niceness")
    parser.add_argument(
        "--slow-ms",
        type=int,
        help="log statements slower than this in PostgreSQL and print a summary of them",
    )
    args = parser.parse_args()
    if args.nice is not None:
        NICE[:] = ["nice", "-n", str(args.nice)]
    # SIGTERM (timeout(1)) as an exception: the finally blocks stop the bots (each in a
    # session of its own), the blasters and PostgreSQL
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench_pg_feed: SIGTERM"))
    only = [c for c in args.only.split(",") if c]
    for c in only:
        if c not in CASES:
            parser.error(f"unknown case {c!r}")
    from tests.pg.server import PgServer

    print(
        f"load average: {os.getloadavg()[0]:.2f}, {args.lines:,} lines, {os.cpu_count()} CPUs,"
        f" Python {sys.version.split()[0]}",
        flush=True,
    )
    server = PgServer.start()  # before the bench pins itself: PostgreSQL is not pinned
    if args.slow_ms is not None:
        import psycopg

        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute(f"ALTER SYSTEM SET log_min_duration_statement = {int(args.slow_ms)}")
            conn.execute("SELECT pg_reload_conf()")
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    results: dict[str, Any] = {"lines": args.lines, "cases": {}}
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="pgfeed-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        for case in only:
            t = time.perf_counter()
            try:
                r = run_case(case, args.lines, server, tmp)
            except Exception as e:  # reported as FAILED; the other cases still run
                r = {"error": f"{type(e).__name__}: {e}", "failed": str(e)}
            results["cases"][case] = r
            print(
                f"  {case}: "
                + (f"FAILED ({r['failed']})" if r.get("failed") else "OK")
                + f" ({time.perf_counter() - t:.0f} s)",
                flush=True,
            )
    finally:
        if args.slow_ms is not None:
            results["slow_statements"] = slow_statements(Path(server.folder) / "server.log")
        server.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    results["load_average_end"] = os.getloadavg()[0]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    print_tables(results)
    if results.get("slow_statements"):
        print(f"\nStatements slower than {args.slow_ms} ms (count, total, max; by text):")
        for row in results["slow_statements"][:12]:
            print(
                f"  {row['count']:5d} {row['total_ms']:10,.0f} ms {row['max_ms']:8,.0f} ms"
                f"  {row['statement']}"
            )
    print(f"\nload average at the end: {results['load_average_end']:.2f}")


if __name__ == "__main__":
    main()
