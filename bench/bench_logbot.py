"""The logging bot end to end: ``logbot run`` against the seed's ircLogBot, and its memory.

Two measurements, each in one run:

e2e
    Lines per second from the first byte of a blast of 200,000 PRIVMSG lines to the
    bot's PONG of the ``PING :blaster-done`` that follows them (``irc_blaster.py``).
    ``logbot run`` is a real ``python -m logbot run -c config.yaml`` process; the
    blaster offers ``server-time message-tags account-tag`` and tags every line with
    ``@time=...;msgid=...;account=<nick>`` (rows "tagged"), so the bot does the whole
    tag work (time, msgid, account into both formats).  The core handles a
    connection's lines in order and answers the PING after the PRIVMSGs before it were
    written (flush "line": one ``write(2)`` per line and format), so the log files are
    checked right after the PONG, while the bot is still connected: each of the lines
    must be there exactly once (text: lines with ``<user``; jsonl: objects with type
    "message", and with tags their msgid, account and time), else the run is FAILED.
    Then SIGTERM; the bot must QUIT and exit 0.  The seed's ircLogBot (the program of
    ``bench_irc.py``) runs on logbot's reactor and on Twisted for comparison.  Every
    process is pinned (bot on CPU 0, blaster on CPU 1) when ``taskset`` exists.
mem
    ``logbot run`` joins 1,000 channels on ``blaster_server.py`` (``#c0000``..
    ``#c0999``, each with a topic and 20 users of its own), gets one message in each
    (so every channel has its log files open, up to ``max_open_files``), and once all
    are logged its ``VmRSS`` and ``VmHWM`` are read from ``/proc/PID/status``.  Also
    with 1 channel (the baseline).
profile
    cProfile of the ``logbot run`` process (text + jsonl, tagged) over the blast only
    (enabled by SIGUSR1 once the bot has joined, dumped by SIGUSR2 after the PONG);
    the top functions by tottime.
order
    ``logbot run`` under ``strace``: whether any log line was written after the PONG
    was sent (the e2e figures and their check assume none is).

Run (Twisted only in the benchmark venv)::

    /tmp/benchvenv/bin/python bench/bench_logbot.py                  # e2e + mem, best of 3
    /tmp/benchvenv/bin/python bench/bench_logbot.py --runs 5 --nice -10 --json /tmp/lb.json
    /tmp/benchvenv/bin/python bench/bench_logbot.py --only mem
    /tmp/benchvenv/bin/python bench/bench_logbot.py profile --top 25
    /tmp/benchvenv/bin/python bench/bench_logbot.py order --lines 20000   # needs strace
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TREE = os.environ.get("BENCH_LOGBOT_TREE") or str(REPO)  # the logbot the bot runs
sys.path.insert(0, str(HERE))
sys.path.append(str(REPO))

import irc_blaster
from benchproc import NICE, child, have_twisted

# Every blaster this run starts stamps its lines from the base the checks here use.
os.environ["BENCH_TAG_BASE_MS"] = str(irc_blaster.TAG_BASE_MS)

CHANNEL = "#bench"
CAPS = "server-time message-tags account-tag"

#: name -> what runs.  kind "logbot": ``logbot run``; kind "seed": bench_irc.py's bot.
CASES: dict[str, dict[str, Any]] = {
    "logbot-text": {
        "kind": "logbot",
        "formats": ["text"],
        "tagged": True,
        "label": "logbot run, text, flush per line, tagged",
    },
    "logbot-both": {
        "kind": "logbot",
        "formats": ["text", "jsonl"],
        "tagged": True,
        "label": "logbot run, text + jsonl, flush per line, tagged",
    },
    "logbot-both-no-plugins": {
        "kind": "logbot",
        "formats": ["text", "jsonl"],
        "tagged": True,
        "plugins": [],
        "label": "logbot run, text + jsonl, tagged, no plugins",
    },
    # The same with the search index on: ``logbot run`` starts ``logbot index --follow``
    # (logbot.bot.archive_child), which reads the jsonl files as they grow.
    "logbot-both-indexed": {
        "kind": "logbot",
        "formats": ["text", "jsonl"],
        "tagged": True,
        "index": True,
        "label": "logbot run, text + jsonl, tagged, index child following",
    },
    "logbot-both-untagged": {
        "kind": "logbot",
        "formats": ["text", "jsonl"],
        "tagged": False,
        "label": "logbot run, text + jsonl, flush per line, no tags",
    },
    "seed-logbot": {
        "kind": "seed",
        "impl": "logbot",
        "tagged": False,
        "label": "seed ircLogBot on logbot's reactor",
    },
    "seed-logbot-tagged": {
        "kind": "seed",
        "impl": "logbot",
        "tagged": True,
        "label": "seed ircLogBot on logbot's reactor, tagged",
    },
    "seed-twisted": {
        "kind": "seed",
        "impl": "twisted",
        "tagged": False,
        "label": "seed ircLogBot on Twisted",
    },
    # Not run by default (--cases): every line tagged with the same time, so the
    # formats' per-timestamp caches always hit (the default tags step by 1 ms).
    "logbot-both-same-time": {
        "kind": "logbot",
        "formats": ["text", "jsonl"],
        "tagged": True,
        "time_step_ms": 0,
        "label": "logbot run, text + jsonl, tagged, one time for all",
    },
}
DEFAULT_CASES = [
    "logbot-text",
    "logbot-both",
    "logbot-both-no-plugins",
    "logbot-both-indexed",
    "logbot-both-untagged",
    "seed-logbot",
    "seed-logbot-tagged",
    "seed-twisted",
]
# Twisted's IRCClient does not parse IRCv3 tags (a tagged line is not a PRIVMSG to it),
# so there is no tagged Twisted row.

MEM_CASES: list[dict[str, Any]] = [
    {"name": "1 channel", "channels": 1, "max_open_files": None},
    {
        "name": "1,000 channels, max_open_files 512 (default)",
        "channels": 1000,
        "max_open_files": None,
    },
    {"name": "1,000 channels, max_open_files 1000", "channels": 1000, "max_open_files": 1000},
    {
        "name": "1,000 channels, max_open_files 2000 (all files open)",
        "channels": 1000,
        "max_open_files": 2000,
    },
]


# -- processes ------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (TREE, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, PYTHONPATH=path)
    env.pop("LOGBOT_CONFIG", None)
    return env


class Lines:
    """A child's stdout lines, read by a thread, with a timeout per line."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        out = proc.stdout

        def read() -> None:
            for line in out:
                self.queue.put(line)
            self.queue.put(None)

        threading.Thread(target=read, daemon=True).start()

    def next(self, timeout: float) -> str:
        try:
            line = self.queue.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"no output within {timeout} s") from None
        if line is None:
            raise RuntimeError("the child closed its output")
        return line


def _stop(*procs: subprocess.Popen | None) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (kB), the number of open descriptors and the CPU seconds (user,
    system) so far of ``pid``."""
    out: dict[str, Any] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        tick = os.sysconf("SC_CLK_TCK")
        out["cpu_user"], out["cpu_sys"] = int(fields[11]) / tick, int(fields[12]) / tick
    except OSError:
        pass
    return out


def write_config(
    path: Path,
    root: Path,
    port: int,
    channels: list[str],
    formats: list[str],
    max_open_files: int | None = None,
    plugins: list[str] | None = None,
    index: bool = False,
) -> None:
    """``plugins``: the names to enable (None: the default, every bundled plugin);
    ``index``: the search index on (an index child follows the files)."""
    logging: dict[str, Any] = {"root": str(root), "formats": formats}
    if max_open_files is not None:
        logging["max_open_files"] = max_open_files
    config = {
        "reactor": "auto",
        "logging": logging,
        "networks": [
            {
                "name": "bench",
                "servers": [f"127.0.0.1:{port}"],
                "nick": "benchbot",
                "channels": channels,
                "line_rate": 0,
            }
        ],
        "plugins": {"data_dir": str(path.parent / "data")},
    }
    if plugins is not None:
        config["plugins"]["enabled"] = plugins
    if index:
        config["index"] = {"enabled": True, "path": str(path.parent / "index.sqlite3")}
    path.write_text(json.dumps(config, indent=1))  # JSON is YAML


def stderr_problems(path: Path) -> list[str]:
    """The bot's stderr lines at WARNING or above, and tracebacks."""
    if not path.exists():
        return []
    return [
        line
        for line in path.read_text(errors="replace").splitlines()
        if re.search(r" (WARNING|ERROR|CRITICAL) |Traceback", line)
    ]


# -- checking the logs ----------------------------------------------------------------------

_TEXT = re.compile(r"^\S+ +<user(\d\d)> (\d+) ")  # the layouts: one space or two


def check_text(root: Path, lines: int) -> dict[str, int]:
    """Message lines in the ``.log`` files under ``root``; ``bad``: messages missing or
    there more than once."""
    seen = bytearray(lines)
    count = 0
    for path in root.rglob("*.log"):
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = _TEXT.match(line)
                if m:
                    count += 1
                    n = int(m.group(2))
                    if n < lines and seen[n] < 255:
                        seen[n] += 1
    return {"logged": count, "bad": sum(1 for s in seen if s != 1)}


def check_jsonl(root: Path, lines: int, tagged: bool, step_ms: int = 1) -> dict[str, int]:
    """As ``check_text`` for the ``.jsonl`` files; with ``tagged`` each message's msgid,
    account and time must be the ones the blaster sent (``wrong`` counts those that are
    not)."""
    seen = bytearray(lines)
    count = wrong = 0
    for path in root.rglob("*.jsonl"):
        with open(path, encoding="utf-8") as f:
            for line in f:
                obj = json.loads(line)
                if obj.get("type") != "message":
                    continue
                count += 1
                n = int(obj["text"].split(" ", 1)[0])
                if n < lines and seen[n] < 255:
                    seen[n] += 1
                if tagged and (
                    obj.get("msgid") != irc_blaster.msgid(n)
                    or obj.get("account") != obj.get("nick")
                    or obj.get("time_source") != "server"
                    or obj["time"][:23] != irc_blaster.tag_time(n, step_ms)[:23]
                ):
                    wrong += 1
    return {"logged": count, "bad": sum(1 for s in seen if s != 1), "wrong": wrong}


# -- end to end -----------------------------------------------------------------------------


def _blaster(
    lines: int, tagged: bool, hold: bool, step_ms: int = 1
) -> tuple[subprocess.Popen, Lines, int]:
    args = [str(HERE / "irc_blaster.py"), "--lines", str(lines), "--channel", CHANNEL]
    if tagged:
        args += ["--caps", CAPS, "--tags", "--time-step-ms", str(step_ms)]
    if hold:
        args.append("--hold")
    proc = subprocess.Popen(child(args, 1), stdout=subprocess.PIPE, text=True)
    out = Lines(proc)
    port = int(out.next(120).split()[1])  # the blast is built before it listens
    return proc, out, port


def logbot_e2e(case: dict, lines: int, tmp: Path, profile_to: Path | None = None) -> dict:
    """One ``logbot run`` against the blaster; checked right after the PONG."""
    work = tmp / "e2e"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    root = work / "logs"
    blaster = bot = None
    try:
        step_ms = case.get("time_step_ms", 1)
        blaster, out, port = _blaster(lines, case["tagged"], hold=True, step_ms=step_ms)
        config = work / "config.yaml"
        write_config(
            config,
            root,
            port,
            [CHANNEL],
            case["formats"],
            plugins=case.get("plugins"),
            index=case.get("index", False),
        )
        if profile_to is None:
            argv = ["-m", "logbot", "run", "-c", str(config)]
        else:
            argv = [__file__, "profiled-bot", str(config), str(profile_to)]
        with open(work / "bot.stderr", "wb") as err:
            bot = subprocess.Popen(
                child(argv, 0),
                cwd=work,
                env=_env(),
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
            )
        if profile_to is not None:
            _profile_on_join(bot, root)
        result = json.loads(out.next(300))
        after_pong = time.perf_counter()
        if profile_to is not None:
            bot.send_signal(signal.SIGUSR2)
        result["status"] = proc_status(bot.pid)
        result["text"] = check_text(root, lines) if "text" in case["formats"] else None
        result["jsonl"] = (
            check_jsonl(root, lines, case["tagged"], step_ms)
            if "jsonl" in case["formats"]
            else None
        )
        result["check_seconds"] = time.perf_counter() - after_pong
        if profile_to is not None:
            _wait_for_file(profile_to, 30)
        stop = time.perf_counter()
        bot.send_signal(signal.SIGTERM)
        result["exit"] = bot.wait(timeout=15)
        result["stop_seconds"] = time.perf_counter() - stop
        blaster.wait(timeout=15)
    finally:
        _stop(bot, blaster)
    result["problems"] = stderr_problems(work / "bot.stderr")
    failures = []
    for fmt in ("text", "jsonl"):
        check = result[fmt]
        if check is None:
            continue
        if check["logged"] != lines or check["bad"]:
            failures.append(f"{fmt}: {check['logged']} logged, {check['bad']} missing/duplicated")
        if check.get("wrong"):
            failures.append(f"{fmt}: {check['wrong']} with wrong msgid/account/time")
    if result["exit"] != 0:
        failures.append(f"exit status {result['exit']}")
    result["failed"] = "; ".join(failures)
    return result


def seed_e2e(case: dict, lines: int, tmp: Path) -> dict:
    """The seed's ircLogBot (bench_irc.py's program) until the blaster closes."""
    import bench_irc

    log_path = tmp / f"{case['impl']}.log"
    if log_path.exists():
        log_path.unlink()
    blaster = bot = None
    try:
        blaster, out, port = _blaster(lines, case["tagged"], hold=False)
        bot = subprocess.Popen(
            child([str(HERE / "bench_irc.py"), "bot", case["impl"], str(port), str(log_path)], 0),
            env=_env(),
        )
        result = json.loads(out.next(300))
        bot.wait(timeout=60)
        blaster.wait(timeout=15)
    finally:
        _stop(bot, blaster)
    logged, bad = bench_irc.check_log(str(log_path), lines)
    result["text"] = {"logged": logged, "bad": bad}
    result["exit"] = 0
    result["failed"] = (
        "" if logged == lines and not bad else (f"text: {logged} logged, {bad} missing/duplicated")
    )
    return result


def quiesce() -> None:
    """Write back the earlier runs' dirty pages now, so that the kernel does not do it
    (on this process's or the next bot's CPU time) during the next measurement."""
    os.sync()
    time.sleep(0.2)


def run_case(name: str, lines: int, tmp: Path) -> dict:
    case = CASES[name]
    quiesce()
    try:
        if case["kind"] == "logbot":
            return logbot_e2e(case, lines, tmp)
        return seed_e2e(case, lines, tmp)
    except Exception as e:  # (a broken run is a FAILED cell)
        return {"failed": f"{type(e).__name__}: {e}", "rate": 0.0}


# -- memory ---------------------------------------------------------------------------------


def memory(case: dict, tmp: Path, users: int) -> dict:
    import blaster_server

    # A new directory per run, none deleted until the end: ext4 makes a file created
    # soon after many were deleted expensive (its inode allocator skips recently
    # deleted inodes, ``recently_deleted`` in a perf profile: seconds of system time
    # for 2,000 files), which would be billed to the bot.
    work = Path(tempfile.mkdtemp(prefix="mem-", dir=tmp))
    root = work / "logs"
    count = case["channels"]
    server = bot = None
    result: dict[str, Any] = {"name": case["name"]}
    quiesce()
    try:
        server = subprocess.Popen(
            child(
                [
                    str(HERE / "blaster_server.py"),
                    "--channels",
                    str(count),
                    "--users",
                    str(users),
                    "--caps",
                    CAPS,
                    "--tags",
                ],
                1,
            ),
            stdout=subprocess.PIPE,
            text=True,
        )
        out = Lines(server)
        port = int(out.next(30).split()[1])
        config = work / "config.yaml"
        write_config(
            config,
            root,
            port,
            [blaster_server.channel_name(i) for i in range(count)],
            ["text", "jsonl"],
            case["max_open_files"],
        )
        started = time.time()
        with open(work / "bot.stderr", "wb") as err:
            bot = subprocess.Popen(
                child(["-m", "logbot", "run", "-c", str(config)], 0),
                cwd=work,
                env=_env(),
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
            )
        for _ in range(3):
            ev = json.loads(out.next(120))
            result[f"{ev['event']}_after"] = ev["t"] - started
            if ev["event"] == "done":
                break
        result["at_done"] = proc_status(bot.pid)
        text = root.rglob("*.log")
        messages = re.compile(r"^\S+ +<n(\d{4})u\d\d> (\d+) hello")
        seen = bytearray(count)
        for path in text:
            for line in path.read_text(encoding="utf-8").splitlines():
                m = messages.match(line)
                if m and int(m.group(2)) < count:
                    seen[int(m.group(2))] += 1
        jsonl = sum(
            1
            for p in root.rglob("*.jsonl")
            for line in p.read_text().splitlines()
            if json.loads(line)["type"] == "message"
        )
        result["logged"] = {
            "text": sum(1 for s in seen if s == 1),
            "jsonl": jsonl,
            "files": sum(1 for p in root.rglob("*") if p.is_file()),
        }
        time.sleep(1.0)
        result["settled"] = proc_status(bot.pid)
        bot.send_signal(signal.SIGTERM)
        result["exit"] = bot.wait(timeout=15)
        server.wait(timeout=15)
    except Exception as e:  # (reported as FAILED)
        result["failed"] = f"{type(e).__name__}: {e}"
    finally:
        _stop(bot, server)
    result["problems"] = stderr_problems(work / "bot.stderr")
    if "failed" not in result:
        logged = result["logged"]
        bad = (
            []
            if logged["text"] == count and logged["jsonl"] == count
            else [f"{logged['text']} text / {logged['jsonl']} jsonl messages of {count}"]
        )
        if result["exit"] != 0:
            bad.append(f"exit status {result['exit']}")
        result["failed"] = "; ".join(bad)
    return result


# -- profile --------------------------------------------------------------------------------


def _profile_on_join(bot: subprocess.Popen, root: Path) -> None:
    """SIGUSR1 (profiler on) once the bot wrote its join marker (the blaster waits
    0.2 s after the JOIN before the blast)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.stat().st_size for p in root.rglob("*.log")) if root.exists() else False:
            bot.send_signal(signal.SIGUSR1)
            return
        if bot.poll() is not None:
            raise RuntimeError("the bot exited before it joined")
        time.sleep(0.002)
    raise RuntimeError("the bot did not join")


def _wait_for_file(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # dump_stats writes in one go; let it finish


def profiled_bot(config: str, out: str) -> None:
    """``logbot run -c config`` with cProfile switched on by SIGUSR1 and dumped to
    ``out`` by SIGUSR2 (the bench sends them around the blast)."""
    import cProfile

    prof = cProfile.Profile()

    def on(signum: int, frame: Any) -> None:
        prof.enable()

    def off(signum: int, frame: Any) -> None:
        prof.disable()
        prof.dump_stats(out)

    signal.signal(signal.SIGUSR1, on)
    signal.signal(signal.SIGUSR2, off)
    from logbot.cli import main as cli

    cli(["run", "-c", config])


def profile(lines: int, top: int, keep: str | None) -> None:
    import pstats

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        out = Path(keep) if keep else tmp / "bot.prof"
        if out.exists():
            out.unlink()
        result = logbot_e2e(CASES["logbot-both"], lines, tmp, profile_to=out)
        print(
            f"{result['rate']:,.0f} lines/s under cProfile ({result['seconds']:.2f} s), "
            f"{result['failed'] or 'all lines logged'}"
        )
        stats = pstats.Stats(str(out))
        calls = sum(v[1] for v in stats.stats.values())  # type: ignore[attr-defined]
        print(f"{calls:,} function calls, {calls / lines:.1f} per line")
        stats.sort_stats("tottime").print_stats(top)


# -- order: is the PONG sent after the lines before the PING were written? -----------------


def order(lines: int) -> dict:
    """``logbot run`` (text + jsonl, tagged) under ``strace``: are there log writes
    after the ``sendto`` of the PONG to ``blaster-done``?  (There must be none: the
    end-to-end figure and the check right after the PONG rely on it.)"""
    if not shutil.which("strace"):
        return {"skipped": "no strace"}
    with tempfile.TemporaryDirectory() as tmp_name:
        work = Path(tmp_name)
        trace = work / "trace"
        blaster = bot = tracer = None
        try:
            blaster, out, port = _blaster(lines, True, hold=True)
            config = work / "config.yaml"
            write_config(config, work / "logs", port, [CHANNEL], ["text", "jsonl"])
            bot = subprocess.Popen(
                [sys.executable, "-m", "logbot", "run", "-c", str(config)],
                cwd=work,
                env=_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(0.03)  # attach before it connects (its imports take ~0.1 s)
            tracer = subprocess.Popen(
                [
                    "strace",
                    "-q",
                    "-e",
                    "trace=write,sendto,sendmsg",
                    "-s",
                    "24",
                    "-o",
                    str(trace),
                    "-p",
                    str(bot.pid),
                ]
            )
            result = json.loads(out.next(120))
            time.sleep(0.3)
            tracer.send_signal(signal.SIGINT)  # detach
            tracer.wait(timeout=15)
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=15)
            blaster.wait(timeout=15)
        finally:
            _stop(tracer, bot, blaster)
        calls = trace.read_text().splitlines()
    pong = next((i for i, c in enumerate(calls) if "PONG blaster-done" in c), None)
    if pong is None:
        return {"failed": "no PONG in the trace", "rate": result["rate"]}
    sock = calls[pong].split("(", 1)[1].split(",", 1)[0]
    log_writes = [
        i
        for i, c in enumerate(calls)
        if c.startswith("write(") and c.split("(", 1)[1].split(",", 1)[0] not in (sock, "1", "2")
    ]
    after = [calls[i] for i in log_writes if i > pong]
    return {
        "log_writes": len(log_writes),
        "after_pong": len(after),
        "first_after": after[:2],
        "rate": result["rate"],
    }


# -- the driver -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="logbot run end to end (vs the seed's bot)")
    parser.add_argument(
        "mode", nargs="?", default="all", choices=["all", "profile", "profiled-bot", "order"]
    )
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3, help="best of N per e2e row")
    parser.add_argument("--mem-runs", type=int, default=1, help="runs per memory row")
    parser.add_argument("--users", type=int, default=20, help="users per channel (mem)")
    parser.add_argument("--only", default="e2e,mem,order")
    parser.add_argument(
        "--cases",
        default=",".join(DEFAULT_CASES),
        help=f"e2e rows, by name, of: {', '.join(CASES)}",
    )
    parser.add_argument("--json", help="write the raw results to this file")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--keep-profile", help="profile: keep the .prof file here")
    parser.add_argument("--nice", type=int, help="run the measured processes at this niceness")
    args = parser.parse_args()
    if args.nice is not None:
        NICE[:] = ["nice", "-n", str(args.nice)]
    if args.mode == "profiled-bot":
        profiled_bot(args.rest[0], args.rest[1])
        return
    if args.mode == "profile":
        profile(args.lines, args.top, args.keep_profile)
        return
    if args.mode == "order":
        r = order(args.lines)
        print(json.dumps(r, indent=1))
        if r.get("after_pong") == 0:
            print("OK: every log write came before the PONG")
        else:
            print("NOT OK: log lines were written after the PONG (or the check failed)")
        return

    cases = [c for c in args.cases.split(",") if c]
    if not have_twisted():
        print("Twisted is not importable here: no Twisted row (use the benchmark venv)")
        cases = [c for c in cases if c != "seed-twisted"]
    print(
        f"load average: {os.getloadavg()[0]:.2f}, {args.lines:,} lines, best of {args.runs}, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    results: dict[str, Any] = {"e2e": {}, "mem": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if "e2e" in args.only:
            for _ in range(args.runs):
                for name in cases:
                    r = run_case(name, args.lines, tmp)
                    results["e2e"].setdefault(name, []).append(r)
                    print(
                        f"  {name}: "
                        + (
                            f"FAILED ({r['failed']})"
                            if r["failed"]
                            else f"{r['rate']:,.0f} lines/s"
                        ),
                        flush=True,
                    )
        if "mem" in args.only:
            for _ in range(args.mem_runs):
                for case in MEM_CASES:
                    r = memory(case, tmp, args.users)
                    results["mem"].append(r)
                    rss = r.get("settled", {})
                    print(
                        f"  {case['name']}: "
                        + (
                            f"FAILED ({r['failed']})"
                            if r["failed"]
                            else f"VmRSS {rss.get('VmRSS', 0) / 1024:.1f} MiB, "
                            f"VmHWM {rss.get('VmHWM', 0) / 1024:.1f} MiB"
                        ),
                        flush=True,
                    )
        if "order" in args.only:
            results["order"] = order(20_000)
    results["load_average_end"] = os.getloadavg()[0]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print_tables(results)
    print(f"\nload average at the end: {results['load_average_end']:.2f}")


def print_tables(results: dict) -> None:
    e2e = results["e2e"]
    if e2e:
        print("\nEnd to end, lines/s (best of the runs that logged every line exactly once):")
        print("| row | best | all runs | peak RSS (best) | exit / stop |\n|---|---:|---|---:|---|")
        best_rates = {}
        for name, runs in e2e.items():
            good = [r for r in runs if not r["failed"]]
            cells = ", ".join("FAILED" if r["failed"] else f"{r['rate']:,.0f}" for r in runs)
            if good:
                b = max(good, key=lambda r: r["rate"])
                best_rates[name] = b["rate"]
                rss = b.get("status", {}).get("VmHWM")
                stop = f"{b['exit']} / {b['stop_seconds']:.2f} s" if "stop_seconds" in b else ""
                print(
                    f"| {CASES[name]['label']} | {b['rate']:,.0f} | {cells} | "
                    f"{'' if rss is None else f'{rss / 1024:.1f} MiB'} | {stop} |"
                )
            else:
                print(f"| {CASES[name]['label']} | FAILED | {cells} | | |")
        for name, runs in e2e.items():
            for r in runs:
                if r["failed"]:
                    print(f"  {name} FAILED: {r['failed']}")
                for line in r.get("problems", [])[:5]:
                    print(f"  {name} stderr: {line}")
        if "seed-twisted" in best_rates:
            twisted = best_rates["seed-twisted"]
            print()
            for name, rate in best_rates.items():
                print(f"{name} / seed on Twisted: {rate / twisted:.2f}x")
    check = results.get("order")
    if check:
        if check.get("after_pong") == 0:
            print(
                f"\nOrder (strace, 20,000 lines): all {check['log_writes']} log writes "
                "came before the PONG"
            )
        else:
            print(f"\nOrder (strace, 20,000 lines): NOT OK: {check}")
    if results["mem"]:
        print("\nMemory of logbot run (text + jsonl, tagged lines, 20 users per channel):")
        print(
            "| case | VmRSS | VmHWM | open fds | joined after | all logged after | "
            "bot CPU user / sys | files |\n|---|---:|---:|---:|---:|---:|---|---:|"
        )
        for r in results["mem"]:
            if r["failed"]:
                print(f"| {r['name']} | FAILED: {r['failed']} | | | | | |")
                continue
            s, d = r["settled"], r["at_done"]
            print(
                f"| {r['name']} | {s['VmRSS'] / 1024:.1f} MiB | {s['VmHWM'] / 1024:.1f} MiB | "
                f"{s['fds']} | {r['joined_after']:.2f} s | {r['done_after']:.2f} s | "
                f"{d['cpu_user']:.2f} / {d['cpu_sys']:.2f} s | {r['logged']['files']} |"
            )
        for r in results["mem"]:
            for line in r.get("problems", [])[:5]:
                print(f"  {r['name']} stderr: {line}")


if __name__ == "__main__":
    main()
