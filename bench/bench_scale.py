"""``logbot run`` at scale: 10,000 channels, an idle bot, and the write latency of a line.

Three measurements of the real ``python -m logbot run -c config.yaml`` process (the
logbot of ``BENCH_LOGBOT_TREE``, as for ``bench_logbot.py``), each a subcommand, each
against ``blaster_server.py`` on 127.0.0.1, with the bot on CPU 0 and the server on
CPU 1 (``taskset``, ``--nice N`` as in ``bench_logbot.py``).  Config: one network,
formats text + jsonl, flush per line, the default plugins, every other setting the
bot's default unless said below.

scale
    ``blaster_server.py --channels 10000 --users 20 --tags --caps "server-time
    message-tags account-tag"``: the bot joins ``#c0000``..``#c9999`` (20 users of
    their own each: 200,000 memberships), then gets one tagged message in each channel
    and ``PING :mem-done``.  Figures: ``VmRSS`` and ``VmHWM`` (``/proc/PID/status``) at
    the server's ``done`` event (the PONG to ``mem-done``: every channel's line was
    written) and 1 s later; the time from the server's ``registered`` event (it sent
    001) to its ``joined`` (it answered the last channel's JOIN: the server writes its
    answers with a blocking ``sendall``, so this also waits for the bot to read them)
    and to ``done``; the JOIN lines the bot sent (counted by the server) and the most
    channels in one; the bot's user + system CPU seconds up to ``done`` (and from
    ``registered``).  Every channel's message must be in its text log once and in its
    jsonl log.

    ``line_rate`` (flood control) is the one setting a 10,000-channel user would
    choose, and it decides the JOIN time: the bot batches channels into 512-byte
    ``JOIN #a,#b,...`` lines (``logbot/irc/split.py`` ``join_lines``: 72 names of 6
    characters per line, 139 lines for 10,000), and each line is paced like any other.
    ``--line-rates 0,default`` measures both: ``0`` (flood control off, what
    ``bench_logbot.py``'s memory case uses: a server that exempts the bot, as one that
    holds 10,000 channels on one connection has to) and ``default`` (the key left out:
    a burst of 4, then 1 line/s; registration leaves the bucket in debt and the JOINs
    may borrow down to -4, so 3 lines leave with 001 and the rest at 1 a second: the
    pace ``logbot/irc/flood.py`` says stays under ngircd's, InspIRCd's and Ergo's
    throttles, so the realistic server-allowed rate for a server one knows nothing
    about).  A number is a ``line_rate`` too (``3``: ngircd's 3 lines/s; then the
    bucket holds 1 token and a JOIN borrows 1).  The 10 s target can only be met with
    ``0`` (or some 14 lines/s and more): at 1 line/s the 139 lines take 136 s.

    The bot tracks at most ``networks[].max_members`` memberships on a connection (the
    setting's default is ``MAX_MEMBERS``, 50,000, ``logbot/irc/limits.py``), so at
    10,000 x 20 with the default it says so once on stderr and leaves most of the
    200,000 users untracked (channel lines are logged all the same; a QUIT or NICK of an
    untracked user is logged in no channel).  ``--members N`` writes ``max_members: N``
    into the network's config (the bot is the plain ``python -m logbot run``): with
    250,000, what 10,000 channels cost with every user known.  ``--profile FILE``:
    cProfile of the bot from ``registered`` to ``done`` (``bench_logbot.py
    profiled-bot``, ``bench_logbot.profiled_bot``: ``logbot run`` in a process that
    switches cProfile on at SIGUSR1 and dumps it at SIGUSR2), the top ``--top``
    functions printed.

idle
    The bot joined to 1,000 channels (20 users each, one message logged in each), then
    ``--settle`` seconds (10: past the ``seen`` store's write, 5 s after the last
    message), then nothing for ``--seconds`` (30): the bot's CPU use over that window
    (user + system, ``/proc/PID/stat``, in 10 ms ticks; and to the nanosecond from
    ``/proc/PID/task/*/schedstat``) in % of one core, the times it was run and its
    context switches (all threads), and the PINGs it sent (the server answers ``PING
    <token>`` with ``PONG blaster <token>`` and reports it: ``--report-pings``).  Then a
    second window of the same length under ``strace -f -C -tt -T -p PID`` (unless
    ``--no-strace``): the system calls by count (``epoll_wait`` among them) and each
    wake-up of the loop: an ``epoll_wait`` that returned, its timeout argument (the time
    to the next timer), whether it timed out (a timer) or a descriptor was ready, and
    the calls that followed.  What wakes an idle bot: its lag probe, a PING every
    ``ping_interval`` (30 s; the first 5 s after 001, ``logbot/bot/ircbot.py``
    ``first_lag_probe``), which is also the keepalive's PING, and the server's PONG to
    it; and the live files' day check every 60 s (``logbot/logs/livefiles.py``
    ``DAY_CHECK_INTERVAL``), which walks every channel and makes no system call.

latency
    One channel; once joined, the server sends ``--rate`` (1,000) tagged PRIVMSG lines
    a second for ``--seconds`` (10) seconds, each at its own deadline (start + n / rate,
    ``time.perf_counter``), the ``time`` tag the wall time of the send.  Every
    ``--ping-every``-th (10th) line is followed in the same ``send()`` by ``PING
    :lat-<n>``.  The bot writes every line of a read to its files before it sends any
    reply (``bench/README.md``, "Order"), so the time from just before that ``send()``
    to the arrival of the bot's PONG bounds from above the time the line took to reach
    both log files (it includes both processes' wake-ups, across CPUs): p50, p90, p99,
    p99.9 and max of those samples, in ms (nearest rank).  Afterwards every line must
    be in the text log exactly once and in the jsonl log once with its msgid and
    account.  The bot's default flood control (``--line-rate`` to change it; a PONG
    is never held by it).  The server's own lateness against its schedule is shown
    too (``sends late``): a late send is not a late write, but a server process that
    was not running when a PONG came makes that sample longer.  The ``seen`` plugin's
    store is saved in the loop every 5 s while lines come (``logbot/plugins/store.py``,
    ``flush_delay``; two ``fsync`` calls, about 2 ms here): a line that arrives then
    waits for it.

    ``--floor``: the same measurement against ``latency_floor.py`` instead of the bot:
    the least Python program that logs a line before it answers (registers and joins
    as the bot does, then a plain ``select.epoll`` loop: per read, each PRIVMSG as one
    text line ``HH:MM:SS <nick> text``, all of the read's lines in one ``os.write`` to
    one file, then the read's PINGs answered).  Its percentiles are the floor of the
    method on this machine: the two processes' wake-ups across CPUs, the loopback, the
    server's own timing; what the bot's figures add above them is the bot's.  Its log
    is checked like the bot's text log (every line once); it writes no jsonl.

Run (any Python with logbot importable; here the project's virtualenv)::

    .venv/bin/python bench/bench_scale.py scale --line-rates 0,default --json /tmp/scale.json
    .venv/bin/python bench/bench_scale.py scale --channels 1000         # quick
    .venv/bin/python bench/bench_scale.py scale --members 250000        # every user tracked
    .venv/bin/python bench/bench_scale.py scale --channels 2000 --profile /tmp/scale.prof
    .venv/bin/python bench/bench_scale.py idle --seconds 30 --json /tmp/idle.json
    .venv/bin/python bench/bench_scale.py latency --seconds 10 --nice -10 --json /tmp/lat.json
    .venv/bin/python bench/bench_scale.py latency --floor --nice -10    # the method's floor
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_logbot as lb
import blaster_server
from benchproc import NICE, child

CAPS = lb.CAPS
FORMATS = ["text", "jsonl"]


# -- processes ------------------------------------------------------------------------------


def start_server(args: list[str]) -> tuple[subprocess.Popen, lb.Lines, int]:
    """``blaster_server.py`` with ``args``, pinned to CPU 1; its event lines and port."""
    proc = subprocess.Popen(
        child([str(HERE / "blaster_server.py"), *args], 1), stdout=subprocess.PIPE, text=True
    )
    out = lb.Lines(proc)
    try:
        port = int(out.next(30).split()[1])
    except Exception:
        lb._stop(proc)
        raise
    return proc, out, port


def start_bot(
    work: Path, config: Path, profile: Path | None = None, argv: list[str] | None = None
) -> subprocess.Popen:
    """``python -m logbot run -c config`` pinned to CPU 0; stdout and stderr to a file.
    ``profile``: through ``bench_logbot.py profiled-bot`` instead; ``argv``: this
    Python program instead (the floor)."""
    if argv is None:
        argv = ["-m", "logbot", "run", "-c", str(config)]
        if profile is not None:
            argv = [str(HERE / "bench_logbot.py"), "profiled-bot", str(config), str(profile)]
    with open(work / "bot.stderr", "wb") as err:
        return subprocess.Popen(
            child(argv, 0),
            cwd=work,
            env=lb._env(),
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
        )


def parse_rate(text: str) -> float | None:
    """A ``--line-rates`` item: ``default`` (None: the key left out) or lines/s."""
    return None if text in ("default", "null", "none") else float(text)


def rate_label(rate: float | None) -> str:
    return "default (burst 4, 1/s)" if rate is None else f"{rate:g}"


def config_for(
    work: Path,
    port: int,
    channels: list[str],
    line_rate: float | None | str = 0,
    members: int | None = None,
) -> Path:
    """``bench_logbot.write_config`` (text + jsonl, default plugins) with ``line_rate``
    (None: the bot's default, the key left out) and, unless None, ``max_members``."""
    path = work / "config.yaml"
    lb.write_config(path, work / "logs", port, channels, FORMATS)
    config = json.loads(path.read_text())
    if line_rate is None:
        config["networks"][0].pop("line_rate", None)
    else:
        config["networks"][0]["line_rate"] = line_rate
    if members is not None:
        config["networks"][0]["max_members"] = members
    path.write_text(json.dumps(config, indent=1))
    return path


def wait_event(
    out: lb.Lines, name: str, timeout: float, others: list[dict] | None = None
) -> dict[str, Any]:
    """The server's next ``name`` event within ``timeout`` seconds; the events read on
    the way go to ``others``."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"no {name!r} event within {timeout:g} s")
        ev = json.loads(out.next(left))
        if ev.get("event") == name:
            return ev
        if others is not None:
            others.append(ev)


def drain(out: lb.Lines) -> list[dict]:
    """The event lines the server printed so far (without waiting)."""
    events = []
    while True:
        try:
            line = out.queue.get_nowait()
        except Exception:
            return events
        if line is None:
            return events
        events.append(json.loads(line))


def stop_bot(bot: subprocess.Popen, server: subprocess.Popen) -> int:
    """SIGTERM the bot (it QUITs); its exit status.  The server exits at the QUIT."""
    bot.send_signal(signal.SIGTERM)
    status = bot.wait(timeout=30)
    server.wait(timeout=15)
    return status


def cpu_seconds(status: dict[str, Any]) -> float:
    return status.get("cpu_user", 0.0) + status.get("cpu_sys", 0.0)


def switches(pid: int) -> dict[str, float]:
    """Of all the threads of ``pid``: voluntary + involuntary context switches
    (``status``), and from ``schedstat`` the nanoseconds on a CPU (the CPU time to the
    nanosecond, where ``stat`` counts 10 ms ticks) and the times it was run."""
    out = {"switches": 0, "cpu_ns": 0, "runs": 0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
            sched = (task / "schedstat").read_text().split()
        except OSError:
            continue
        for line in text.splitlines():
            if "ctxt_switches:" in line:
                out["switches"] += int(line.split()[1])
        out["cpu_ns"] += int(sched[0])
        out["runs"] += int(sched[2])
    return out


def threads(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def quantile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least ``q`` of them at or below it."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def print_profile(path: Path, top: int) -> None:
    import pstats

    stats = pstats.Stats(str(path))
    calls = sum(v[1] for v in stats.stats.values())  # type: ignore[attr-defined]
    print(f"\ncProfile of the bot from registered to done: {calls:,} function calls")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


# -- scale ----------------------------------------------------------------------------------

_MESSAGE = re.compile(r"^\S+ +<n(\d{4})u\d\d> (\d+) hello")


def check_channels(root: Path, count: int) -> dict[str, int]:
    """Channels whose one message is in the text logs exactly once, and the jsonl
    message lines."""
    seen = bytearray(count)
    for path in root.rglob("*.log"):
        for line in path.read_text(encoding="utf-8").splitlines():
            m = _MESSAGE.match(line)
            if m and int(m.group(2)) < count and seen[int(m.group(2))] < 255:
                seen[int(m.group(2))] += 1
    jsonl = 0
    for path in root.rglob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if json.loads(line).get("type") == "message":
                jsonl += 1
    return {"text": sum(1 for s in seen if s == 1), "jsonl": jsonl}


def join_timeout(channels: int, rate: float | None) -> float:
    """A bound for the JOINs: 120 s, plus twice the time the pacing needs."""
    lines = channels * 7 // 500 + 2
    per_second = 1.0 if rate is None else rate
    return 120.0 + (0.0 if per_second == 0 else 2 * lines / per_second)


def scale(
    channels: int,
    users: int,
    line_rate: float | None,
    tmp: Path,
    members: int | None = None,
    profile: Path | None = None,
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="scale-", dir=tmp))  # new each run (see bench_logbot)
    result: dict[str, Any] = {
        "channels": channels,
        "users": users,
        "line_rate": line_rate,
        "label": rate_label(line_rate)
        + (f", max_members {members:,}" if members is not None else ""),
        "members": members,
    }
    server = bot = None
    lb.quiesce()
    try:
        server, out, port = start_server(
            ["--channels", str(channels), "--users", str(users), "--caps", CAPS, "--tags"]
        )
        names = [blaster_server.channel_name(i) for i in range(channels)]
        bot = start_bot(work, config_for(work, port, names, line_rate, members), profile)
        started = time.time()
        registered = wait_event(out, "registered", 60)
        if profile is not None:
            bot.send_signal(signal.SIGUSR1)
        result["at_registered"] = lb.proc_status(bot.pid)
        joined = wait_event(out, "joined", join_timeout(channels, line_rate))
        done = wait_event(out, "done", 300)
        if profile is not None:
            bot.send_signal(signal.SIGUSR2)
        result["at_done"] = lb.proc_status(bot.pid)
        if profile is not None:
            lb._wait_for_file(profile, 60)
        result["threads"] = threads(bot.pid)
        result["registered_after_start"] = registered["t"] - started
        result["first_join"] = (joined.get("first_join") or joined["t"]) - registered["t"]
        result["joined"] = joined["t"] - registered["t"]
        result["done"] = done["t"] - registered["t"]
        result["join_lines"] = joined.get("join_lines")
        result["max_per_join"] = joined.get("max_per_join")
        time.sleep(1.0)
        result["settled"] = lb.proc_status(bot.pid)
        result["logged"] = check_channels(work / "logs", channels)
        result["exit"] = stop_bot(bot, server)
    except Exception as e:  # (reported as FAILED)
        result["failed"] = f"{type(e).__name__}: {e}"
    finally:
        lb._stop(bot, server)
    result["problems"] = lb.stderr_problems(work / "bot.stderr")
    if "failed" not in result:
        bad = []
        logged = result["logged"]
        if logged["text"] != channels or logged["jsonl"] != channels:
            bad.append(f"{logged['text']} text / {logged['jsonl']} jsonl messages of {channels}")
        if result["exit"] != 0:
            bad.append(f"exit status {result['exit']}")
        result["failed"] = "; ".join(bad)
    return result


def print_scale(results: list[dict]) -> None:
    print(
        "\n| line_rate | channels | VmRSS at done | VmHWM | 1 s later | registered -> "
        "first JOIN | -> joined | -> done | JOIN lines (most channels in one) | "
        "CPU to done (from registered) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for r in results:
        if r.get("failed"):
            print(f"| {r['label']} | {r['channels']:,} | FAILED: {r['failed']} |||||||")
            continue
        d, s, reg = r["at_done"], r["settled"], r["at_registered"]
        print(
            f"| {r['label']} | {r['channels']:,} | {d['VmRSS'] / 1024:.1f} MiB | "
            f"{d['VmHWM'] / 1024:.1f} MiB | {s['VmRSS'] / 1024:.1f} MiB | "
            f"{r['first_join']:.2f} s | {r['joined']:.2f} s | {r['done']:.2f} s | "
            f"{r['join_lines']} ({r['max_per_join']}) | {cpu_seconds(d):.2f} s "
            f"({cpu_seconds(d) - cpu_seconds(reg):.2f} s) |"
        )
    for r in results:
        for line in r.get("problems", [])[:5]:
            print(f"  line_rate {r['label']} stderr: {line}")


# -- idle -----------------------------------------------------------------------------------

_SYSCALL = re.compile(r"^(\d+)\s+(\d\d):(\d\d):(\d\d\.\d+) (?:<\.\.\. )?(\w+)")
_EPOLL_END = re.compile(r", (-?\d+)\)\s+= (-?\d+).*?(?:<(\d+\.\d+)>)?$")
_READY_FD = re.compile(r"u32=(\d+)")


def parse_strace(text: str) -> dict[str, Any]:
    """``strace -f -C -tt`` output: the summary's calls per system call, and each
    return of ``epoll_wait`` (a wake-up of the loop) with the calls after it."""
    calls: dict[str, int] = {}
    wakeups: list[dict[str, Any]] = []
    summary = False
    for line in text.splitlines():
        if line.startswith("% time"):
            summary = True
            continue
        if summary:
            fields = line.split()
            if len(fields) >= 5 and fields[0][0].isdigit() and fields[-1] != "total":
                calls[fields[-1]] = int(fields[3])
            continue
        m = _SYSCALL.match(line)
        if not m:
            continue
        name = m.group(5)
        seconds = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
        if name in ("epoll_wait", "epoll_pwait"):
            end = _EPOLL_END.search(line)
            if end is None:  # "<unfinished ...>": its end comes as "resumed"
                continue
            wakeups.append(
                {
                    "t": seconds,  # when it was entered (strace -tt)
                    "slept": float(end.group(3) or 0),  # how long it took (strace -T)
                    "tid": int(m.group(1)),
                    "timeout_ms": int(end.group(1)),
                    "ready": int(end.group(2)),
                    "fds": [int(fd) for fd in _READY_FD.findall(line)],
                    "then": [],
                }
            )
        elif wakeups and len(wakeups[-1]["then"]) < 8:
            wakeups[-1]["then"].append(re.sub(r" <\d+\.\d+>$", "", line[m.start(5) :])[:160])
    if wakeups:
        t0 = wakeups[0]["t"]
        for w in wakeups:
            w["t"] = round(w["t"] - t0, 6)
    return {"calls": calls, "wakeups": wakeups}


def descriptors(pid: int) -> dict[int, str]:
    out = {}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            out[int(fd.name)] = os.readlink(fd)
        except OSError:
            pass
    return out


def window(pid: int, seconds: float) -> dict[str, Any]:
    """CPU and context switches of ``pid`` over ``seconds`` of doing nothing here."""
    before, ctx0, wall0, t0 = lb.proc_status(pid), switches(pid), time.time(), time.monotonic()
    time.sleep(seconds)
    after, ctx1, wall1, t1 = lb.proc_status(pid), switches(pid), time.time(), time.monotonic()
    cpu = cpu_seconds(after) - cpu_seconds(before)
    return {
        "seconds": t1 - t0,
        "wall": [wall0, wall1],
        "cpu_seconds": cpu,
        "cpu_user": after["cpu_user"] - before["cpu_user"],
        "cpu_sys": after["cpu_sys"] - before["cpu_sys"],
        "cpu_percent": 100 * cpu / (t1 - t0),
        "sched_cpu_seconds": (ctx1["cpu_ns"] - ctx0["cpu_ns"]) / 1e9,
        "sched_cpu_percent": 100 * (ctx1["cpu_ns"] - ctx0["cpu_ns"]) / 1e9 / (t1 - t0),
        "runs": ctx1["runs"] - ctx0["runs"],
        "switches": ctx1["switches"] - ctx0["switches"],
        "VmRSS": after.get("VmRSS"),
    }


def pings_in(events: list[dict], wall: list[float]) -> list[dict]:
    return [e for e in events if e.get("event") == "ping" and wall[0] <= e["t"] <= wall[1]]


def idle(
    channels: int, users: int, seconds: float, settle: float, use_strace: bool, tmp: Path
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="idle-", dir=tmp))
    result: dict[str, Any] = {"channels": channels, "users": users, "seconds": seconds}
    server = bot = tracer = None
    lb.quiesce()
    try:
        server, out, port = start_server(
            ["--channels", str(channels), "--users", str(users), "--caps", CAPS, "--tags"]
            + ["--report-pings"]
        )
        names = [blaster_server.channel_name(i) for i in range(channels)]
        bot = start_bot(work, config_for(work, port, names))
        events: list[dict] = []
        registered = wait_event(out, "registered", 60, events)
        done = wait_event(out, "done", 120, events)
        result["done"] = done["t"] - registered["t"]
        result["threads"] = threads(bot.pid)
        time.sleep(settle)
        result["plain"] = window(bot.pid, seconds)
        if use_strace and shutil.which("strace"):
            trace = work / "strace.txt"
            result["fds"] = {str(k): v for k, v in sorted(descriptors(bot.pid).items())}
            tracer = subprocess.Popen(
                ["strace", "-f", "-C", "-tt", "-T", "-s", "48", "-o", str(trace)]
                + ["-p", str(bot.pid)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(0.5)  # attached (strace stops and resumes every thread)
            result["traced"] = window(bot.pid, seconds)
            tracer.send_signal(signal.SIGINT)  # detach; the summary goes to the file
            tracer.wait(timeout=15)
            result["strace"] = parse_strace(trace.read_text(errors="replace"))
        events += drain(out)
        for key in ("plain", "traced"):
            if key in result:
                result[key]["pings"] = pings_in(events, result[key]["wall"])
        result["exit"] = stop_bot(bot, server)
    except Exception as e:  # (reported as FAILED)
        result["failed"] = f"{type(e).__name__}: {e}"
    finally:
        lb._stop(tracer, bot, server)
    result["problems"] = lb.stderr_problems(work / "bot.stderr")
    if "failed" not in result:
        result["failed"] = "" if result["exit"] == 0 else f"exit status {result['exit']}"
    return result


def print_idle(r: dict) -> None:
    if r.get("failed") and "plain" not in r:
        print(f"\nidle: FAILED: {r['failed']}")
        return
    print(
        f"\nIdle bot, {r['channels']:,} channels x {r['users']} users (all joined and "
        f"logged {r['done']:.2f} s after registration; {r['threads']} thread(s)):\n"
    )
    print(
        "| window | seconds | CPU user + sys (stat) | % of a core | CPU on schedstat | "
        "times run / context switches | PINGs the bot sent |\n|---|---:|---:|---:|---:|---:|---|"
    )
    for key, label in (("plain", "plain"), ("traced", "under strace")):
        w = r.get(key)
        if w is None:
            continue
        pings = ", ".join(f"{p['token']} at +{p['t'] - w['wall'][0]:.1f} s" for p in w["pings"])
        print(
            f"| {label} | {w['seconds']:.1f} | {w['cpu_seconds']:.3f} s "
            f"({w['cpu_user']:.2f} + {w['cpu_sys']:.2f}) | {w['cpu_percent']:.3f} % | "
            f"{w['sched_cpu_seconds'] * 1000:.2f} ms ({w['sched_cpu_percent']:.4f} %) | "
            f"{w['runs']} / {w['switches']} | {pings or 'none'} |"
        )
    trace = r.get("strace")
    if trace:
        calls = trace["calls"]
        print(
            "\nSystem calls in the traced window: "
            + (
                ", ".join(f"{n} {c}" for n, c in sorted(calls.items(), key=lambda x: -x[1]))
                or "none"
            )
        )
        fds = r.get("fds", {})
        print(
            "\n(each return of epoll_wait: when it woke, relative to the first call seen, the "
            "timeout it was given, what woke it, and the next calls; the first is often "
            "Python's retry of the wait strace's attach interrupted, with the time left)"
        )
        print("\n| woke at | epoll_wait timeout | woken by | then |\n|---:|---:|---|---|")
        for w in trace["wakeups"][:30]:
            why = (
                "timer (timed out)"
                if w["ready"] == 0
                else ", ".join(f"fd {fd} ({fds.get(str(fd), '?')})" for fd in w["fds"])
            )
            then = "; ".join(s.replace("|", "/") for s in w["then"][:4])
            woke = w["t"] + w["slept"]
            print(f"| +{woke:.3f} s | {w['timeout_ms']:,} ms | {why} | {then} |")
    if r.get("failed"):
        print(f"FAILED: {r['failed']}")
    for line in r.get("problems", [])[:5]:
        print(f"  stderr: {line}")


# -- latency --------------------------------------------------------------------------------


def latency(
    rate: float, seconds: float, every: int, line_rate: float | None, tmp: Path, floor: bool
) -> dict[str, Any]:
    """``floor``: ``latency_floor.py`` instead of the bot (its one text log checked)."""
    work = Path(tempfile.mkdtemp(prefix="latency-", dir=tmp))
    lines = int(rate * seconds)
    result: dict[str, Any] = {
        "rate": rate,
        "seconds": seconds,
        "lines": lines,
        "ping_every": every,
        "line_rate": line_rate,
        "floor": floor,
    }
    server = bot = None
    lb.quiesce()
    try:
        server, out, port = start_server(
            ["--channels", "1", "--users", "20", "--caps", CAPS, "--tags"]
            + ["--paced-rate", str(rate), "--paced-seconds", str(seconds)]
            + ["--ping-every", str(every)]
        )
        channel = blaster_server.channel_name(0)
        if floor:
            log = work / "logs" / "floor.log"
            argv = [str(HERE / "latency_floor.py"), str(port), channel, str(log), CAPS]
            bot = start_bot(work, work / "config.yaml", argv=argv)
        else:
            bot = start_bot(work, config_for(work, port, [channel], line_rate))
        wait_event(out, "registered", 60)
        wait_event(out, "done", 60)
        before = lb.proc_status(bot.pid)
        lat = wait_event(out, "latency", seconds + 120)
        after = lb.proc_status(bot.pid)
        result["server"] = lat
        result["bot_cpu_percent"] = (
            100 * (cpu_seconds(after) - cpu_seconds(before)) / (lat["span"] + 0.5)
        )
        result["text"] = lb.check_text(work / "logs", lines)
        if not floor:
            result["jsonl"] = check_paced_jsonl(work / "logs", lines)
        result["exit"] = stop_bot(bot, server)
    except Exception as e:  # (reported as FAILED)
        result["failed"] = f"{type(e).__name__}: {e}"
    finally:
        lb._stop(bot, server)
    result["problems"] = lb.stderr_problems(work / "bot.stderr")
    if "failed" not in result:
        samples = result["server"]["samples_ms"]
        result["ms"] = (
            {
                "p50": quantile(samples, 0.5),
                "p90": quantile(samples, 0.9),
                "p99": quantile(samples, 0.99),
                "p99.9": quantile(samples, 0.999),
                "max": max(samples),
            }
            if samples
            else {}
        )
        bad = []
        for fmt in ("text",) if floor else ("text", "jsonl"):
            check = result[fmt]
            if check["logged"] != lines or check["bad"]:
                bad.append(f"{fmt}: {check['logged']} logged, {check['bad']} missing/duplicated")
            if check.get("wrong"):
                bad.append(f"{fmt}: {check['wrong']} without the msgid/account/server time sent")
        if result["server"]["missing"]:
            bad.append(f"{result['server']['missing']} PINGs without a PONG")
        if result["exit"] != 0:
            bad.append(f"exit status {result['exit']}")
        result["failed"] = "; ".join(bad)
    return result


def check_paced_jsonl(root: Path, lines: int) -> dict[str, int]:
    """``bench_logbot.check_jsonl`` for the paced lines only (those of ``<userNN>``;
    the message ``done`` waited for is someone else's): each once, with the msgid and
    account sent and a server time (``wrong`` counts those without)."""
    seen = bytearray(lines)
    count = wrong = 0
    for path in root.rglob("*.jsonl"):
        with open(path, encoding="utf-8") as f:
            for line in f:
                obj = json.loads(line)
                if obj.get("type") != "message" or not obj.get("nick", "").startswith("user"):
                    continue
                count += 1
                n = int(obj["text"].split(" ", 1)[0])
                if n < lines and seen[n] < 255:
                    seen[n] += 1
                if (
                    obj.get("msgid") != lb.irc_blaster.msgid(n)
                    or obj.get("account") != obj["nick"]
                    or obj.get("time_source") != "server"
                ):
                    wrong += 1
    return {"logged": count, "bad": sum(1 for s in seen if s != 1), "wrong": wrong}


def print_latency(r: dict) -> None:
    if "server" not in r:
        print(f"\nlatency: FAILED: {r['failed']}")
        return
    s = r["server"]
    what = (
        "the floor (latency_floor.py: one text line per PRIVMSG, one os.write per read, "
        "then the PONGs; no logbot)"
        if r.get("floor")
        else "text + jsonl, flush per line, default plugins, "
        f"line_rate {rate_label(r['line_rate'])}"
    )
    print(
        f"\nWrite latency bound (send -> PONG), {r['lines']:,} lines at {r['rate']:,.0f}/s "
        f"over {s['span']:.2f} s, a PING after every {r['ping_every']}th: "
        f"{len(s['samples_ms'])} samples; {what}\n"
    )
    ms = r.get("ms", {})
    who = "floor CPU" if r.get("floor") else "bot CPU"
    print(f"| p50 | p90 | p99 | p99.9 | max | {who} | sends late p50 / p99 / max | logged |")
    print("|---:|---:|---:|---:|---:|---:|---|---|")
    late = s["late_ms"]
    logged = ", ".join(
        f"{fmt} {r[fmt]['logged']:,} ({r[fmt]['bad']} bad)" for fmt in ("text", "jsonl") if fmt in r
    )
    print(
        " | ".join(
            [f"| {ms[k]:.3f} ms" if k == "p50" else f"{ms[k]:.3f} ms" for k in ms]
            + [f"{r['bot_cpu_percent']:.1f} % of a core"]
            + [f"{late['p50']:.3f} / {late['p99']:.3f} / {late['max']:.3f} ms", logged]
        )
        + " |"
    )
    if r.get("failed"):
        print(f"FAILED: {r['failed']}")
    for line in r.get("problems", [])[:5]:
        print(f"  stderr: {line}")


# -- the driver -----------------------------------------------------------------------------


def main() -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", help="write the raw results to this file")
    common.add_argument("--nice", type=int, help="run the bot and the server at this niceness")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("scale", parents=[common], help="10,000 channels: memory, join time")
    p.add_argument("--channels", type=int, default=10_000)
    p.add_argument("--users", type=int, default=20)
    p.add_argument(
        "--line-rates", default="0", help="comma-separated: 0 (off), default, or lines/s"
    )
    p.add_argument(
        "--members",
        type=int,
        help="networks[].max_members in the config (unset: the default, 50,000)",
    )
    p.add_argument("--profile", help="cProfile the bot from registered to done into this file")
    p.add_argument("--top", type=int, default=25, help="--profile: functions shown")
    p = sub.add_parser("idle", parents=[common], help="CPU and wake-ups of an idle bot")
    p.add_argument("--channels", type=int, default=1000)
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--seconds", type=float, default=30.0, help="each measured window")
    p.add_argument("--settle", type=float, default=10.0, help="seconds after done, unmeasured")
    p.add_argument("--no-strace", action="store_true", help="no second window under strace")
    p = sub.add_parser("latency", parents=[common], help="per-line write latency bound")
    p.add_argument("--rate", type=float, default=1000.0, help="lines per second")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--ping-every", type=int, default=10)
    p.add_argument("--line-rate", default="default", help="the bot's line_rate (default: unset)")
    p.add_argument(
        "--floor", action="store_true", help="latency_floor.py instead of the bot: the floor"
    )
    args = parser.parse_args()
    if args.nice is not None:
        NICE[:] = ["nice", "-n", str(args.nice)]
    print(
        f"load average: {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}, logbot from {lb.TREE}"
    )
    results: dict[str, Any] = {"mode": args.mode, "tree": lb.TREE}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp_name:
        tmp = Path(tmp_name)
        if args.mode == "scale":
            runs = []
            for item in args.line_rates.split(","):
                profile = Path(args.profile) if args.profile else None
                if profile is not None and profile.exists():
                    profile.unlink()
                rate = parse_rate(item.strip())
                r = scale(args.channels, args.users, rate, tmp, args.members, profile)
                runs.append(r)
                print(f"  line_rate {r['label']}: {'FAILED' if r['failed'] else 'ok'}", flush=True)
                if profile is not None and profile.exists():
                    print_profile(profile, args.top)
            results["scale"] = runs
            print_scale(runs)
        elif args.mode == "idle":
            r = idle(args.channels, args.users, args.seconds, args.settle, not args.no_strace, tmp)
            results["idle"] = r
            print_idle(r)
        else:
            rate = parse_rate(args.line_rate)
            r = latency(args.rate, args.seconds, args.ping_every, rate, tmp, args.floor)
            results["latency"] = r
            print_latency(r)
    results["load_average_end"] = os.getloadavg()[0]
    print(f"\nload average at the end: {results['load_average_end']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
