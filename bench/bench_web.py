"""The archive's web view under load while the bot logs a flood, and the bot's cost.

What it measures, in one run of ``logbot run`` with a ``web:`` section (so the bot
starts ``logbot index --follow`` under SCHED_IDLE and ``logbot web --no-follow`` at
niceness 10 beside itself):

- requests per second and latency (median, p95) of ``GET`` of a day page of 10,000
  lines (2.4 MB of HTML; the day is written before the bot starts and indexed first),
  from ``--clients`` threads of this process, each on a new connection per request,
  **while** ``irc_blaster.py`` blasts ``--lines`` tagged PRIVMSG lines at the bot, and
  then for ``--after`` seconds with the bot idle;
- the bot's end-to-end rate for that blast (first byte to the PONG after it), and
  that every blasted line is in the text and jsonl logs exactly once
  (``bench_logbot.check_text`` / ``check_jsonl``): "no line lost";
- the same blast with no web load (the web view idle), for the cost of serving;
- how long after the PONG the index holds every blasted line (the follower, idle
  until the bot is, catching up).

Run by hand (not in the tests)::

    python3 bench/bench_web.py                     # 1,000,000 lines, 4 clients
    python3 bench/bench_web.py --lines 300000 --clients 2 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_logbot
from bench_logbot import CHANNEL, _blaster, _env, _stop, check_jsonl, check_text
from benchproc import child

BIG = "#big"
BIG_LINES = 10_000
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_big_day(root: Path) -> str:
    """A 10,000-line day of ``#big`` (jsonl, as the bot writes it); its date."""
    day = "2026-11-30"
    folder = root / "bench" / BIG
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 11, 30, tzinfo=UTC)
    with open(folder / f"{day}.jsonl", "w", encoding="utf-8") as f:
        for n in range(BIG_LINES):
            when = datetime.fromtimestamp(start.timestamp() + n * 8, UTC)
            record = {
                "time": when.isoformat(timespec="milliseconds"),
                "time_ms": int(when.timestamp() * 1000),
                "time_source": "server",
                "type": "notice",  # (bench_logbot's checks count only messages)
                "network": "bench",
                "channel": BIG,
                "nick": f"talker{n % 37}",
                "user": "~t",
                "host": "example.net",
                "account": None,
                "text": f"line {n}: \x02some\x02 words and a link https://example.com/{n}",
                "msgid": None,
                "tags": {},
            }
            f.write(json.dumps(record) + "\n")
    return day


def write_config(path: Path, root: Path, irc_port: int, web_port: int) -> None:
    config = {
        "logging": {"root": str(root), "formats": ["text", "jsonl"]},
        "networks": [
            {
                "name": "bench",
                "servers": [f"127.0.0.1:{irc_port}"],
                "nick": "benchbot",
                "channels": [CHANNEL],
                "line_rate": 0,
            }
        ],
        "plugins": {"data_dir": str(path.parent / "data")},
        "index": {"path": str(path.parent / "index.sqlite3")},
        "web": {"port": web_port, "publish": {"bench": "*"}},
    }
    path.write_text(json.dumps(config, indent=1))


def get(url: str) -> tuple[int, int]:
    try:
        with _OPENER.open(url, timeout=30) as response:
            return response.status, len(response.read())
    except urllib.error.HTTPError as e:
        return e.code, 0
    except (urllib.error.URLError, OSError):
        return 0, 0


class Load:
    """``clients`` threads GETting ``url`` in a loop until stopped."""

    def __init__(self, url: str, clients: int) -> None:
        self.url = url
        self.times: list[tuple[float, float, int]] = []  # (start, seconds, status)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.perf_counter()
            status, _ = get(self.url)
            self.times.append((began, time.perf_counter() - began, status))

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def between(self, start: float, end: float) -> dict[str, Any]:
        done = [(t, s) for t0, t, s in self.times if start <= t0 and t0 + t <= end]
        ok = sorted(t for t, s in done if s == 200)
        seconds = end - start
        return {
            "requests": len(done),
            "ok": len(ok),
            "per_second": len(ok) / seconds if seconds > 0 else 0.0,
            "median_ms": statistics.median(ok) * 1000 if ok else None,
            "p95_ms": ok[int(len(ok) * 0.95) - 1] * 1000 if len(ok) >= 20 else None,
            "errors": len(done) - len(ok),
        }


def _wait_until(what: str, check: Any, timeout: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if check():
            return time.perf_counter() - start
        time.sleep(0.05)
    raise RuntimeError(f"{what}: not within {timeout} s")


def _indexed(index: Path) -> int:
    try:
        with sqlite3.connect(f"file:{index}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute(
                "SELECT count(*) FROM lines WHERE network = 'bench' AND channel = ?", (CHANNEL,)
            ).fetchone()
            return int(row[0])
    except sqlite3.Error:
        return -1


def _web_child(bot_pid: int) -> int | None:
    for pid in subprocess.run(
        ["pgrep", "-P", str(bot_pid)], capture_output=True, text=True
    ).stdout.split():
        try:
            if b" web " in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" "):
                return int(pid)
        except OSError:
            continue
    return None


def one_run(lines: int, clients: int, tmp: Path, load: bool, after: float) -> dict[str, Any]:
    work = tmp / ("load" if load else "idle")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    root = work / "logs"
    day = write_big_day(root)
    web_port = _free_port()
    blaster = bot = None
    loader: Load | None = None
    try:
        blaster, out, irc_port = _blaster(lines, tagged=True, hold=True)
        config = work / "config.yaml"
        write_config(config, root, irc_port, web_port)
        # The 10,000-line day indexed before the bot starts, as a long-running archive has it.
        subprocess.run(
            [sys.executable, "-m", "logbot", "index", "-c", str(config)],
            env=_env(),
            cwd=work,
            check=True,
            capture_output=True,
        )
        with open(work / "bot.stderr", "wb") as err:
            bot = subprocess.Popen(
                child(["-m", "logbot", "run", "-c", str(config)], 0),
                cwd=work,
                env=_env(),
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
            )
        url = f"http://127.0.0.1:{web_port}/bench/%23big/{day}"
        _wait_until("the web view", lambda: get(url)[0] == 200, 30)
        # The bot is pinned to CPU 0 and the blaster to CPU 1 (bench_logbot); the web
        # child inherited CPU 0.  It goes to CPU 1, where the blaster, once its buffer is
        # sent, only waits for the PONG: as on a real 2-core host, where the scheduler
        # would put it on the core the bot is not using.
        web_pid = _web_child(bot.pid)
        if web_pid is not None and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(web_pid, {1})
        if load:
            loader = Load(url, clients)
            loader.start()
        # The blast starts 0.2 s after the bot joined; its result comes after the PONG.
        result = json.loads(out.next(600))
        pong = time.perf_counter()
        blast_start = pong - result["seconds"]
        if loader is not None:
            time.sleep(after)  # the bot idle (the index catching up meanwhile)
            loader.stop()
            result["web"] = loader.between(blast_start, pong)
            result["web_after"] = loader.between(pong, pong + after)
        result["text"] = check_text(root, lines)
        result["jsonl"] = check_jsonl(root, lines, True)
        index = work / "index.sqlite3"
        result["index_catch_up_s"] = _wait_until("the index", lambda: _indexed(index) >= lines, 600)
        bot.send_signal(signal.SIGTERM)
        result["exit"] = bot.wait(timeout=30)
        blaster.wait(timeout=15)
    finally:
        if loader is not None:
            loader.stop()
        _stop(bot, blaster)
    result["problems"] = bench_logbot.stderr_problems(work / "bot.stderr")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--after", type=float, default=5.0, help="seconds of load after the flood")
    parser.add_argument("--json", help="write the raw results here")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    results: dict[str, list[dict[str, Any]]] = {"load": [], "idle": []}
    try:
        for _ in range(args.runs):
            for load in (True, False):
                run = one_run(args.lines, args.clients, tmp, load, args.after)
                results["load" if load else "idle"].append(run)
                web = run.get("web", {})
                lost = (run["text"]["bad"], run["jsonl"]["bad"])
                print(
                    f"{'web load' if load else 'web idle'}: bot {run['rate']:,.0f} lines/s, "
                    f"lost/duplicated (text, jsonl) {lost}, exit {run['exit']}, index caught "
                    f"up {run['index_catch_up_s']:.1f} s after the PONG"
                    + (
                        f"; day page ({BIG_LINES:,} lines): {web['per_second']:.1f} req/s, "
                        f"median {web['median_ms']:.0f} ms, p95 {web['p95_ms'] or 0:.0f} ms, "
                        f"{web['errors']} errors, over {run['seconds']:.1f} s"
                        if web
                        else ""
                    ),
                    flush=True,
                )
                if web:
                    idle = run["web_after"]
                    print(
                        f"    then, the bot idle: {idle['per_second']:.1f} req/s, median "
                        f"{idle['median_ms'] or 0:.0f} ms, p95 {idle['p95_ms'] or 0:.0f} ms"
                    )
                for problem in run["problems"][:5]:
                    print("   ", problem)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
