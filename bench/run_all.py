"""Run every benchmark side by side (logbot, uvloop, asyncio, Twisted and the bare
epoll floor) and print the tables.

    /tmp/benchvenv/bin/python bench/run_all.py [--only echo,syscalls,memory,timers]
        [--loops logbot,uvloop,asyncio,twisted,floor] [--json FILE]

Run it with the benchmark virtualenv's Python (see bench/README.md): Twisted and uvloop
are imported from there and never from the project's own environment; a loop whose
module is not importable (``--loops`` names it, or it is in the default set) is skipped
with a note.  Everything listens and connects on 127.0.0.1; every loop here is bounded
in count and in time.

The loops (``--loops`` picks a subset, in any order; they always run in this one):

* ``logbot``:  ``bench/echo_servers.py logbot``, logbot's reactor;
* ``uvloop``:  ``bench/echo_servers.py uvloop``, the asyncio protocol on uvloop (C);
* ``asyncio``: ``bench/echo_servers.py asyncio``, the default asyncio loop;
* ``twisted``: ``bench/echo_servers.py twisted``, Twisted's epoll reactor;
* ``floor``:   ``bench/echo_floor.py``, a bare ``select.epoll`` echo with no protocol
  objects: the least any Python loop can do per round trip (echo, syscalls and
  memory only: it has no timers).

The benchmarks (``--only`` picks a subset):

* echo:     ``bench/loadgen.c`` (compiled with ``gcc -O2`` into a temporary directory)
            drives each echo server at 1, 100, 1,000 and 10,000 connections; one fresh
            server process per measurement, server pinned to CPU 0 and load generator
            to CPU 1 with ``taskset`` when it exists.
* syscalls: a fresh server per loop at 100 connections; after the load generator's
            warm-up, ``strace -c -f -p SERVER`` for ``--strace-seconds`` (2 s), then
            its summary divided by the round trips the server did meanwhile, which
            are its successful send calls (``sendto``/``write``/...: every round trip
            is exactly one send of 16 bytes).  strace slows the server a lot: only the
            counts mean something, not the rate.
* memory:   the server's VmRSS before and after the load generator holds 15,000 idle
            connections open, divided by 15,000.
* timers:   ``bench/timer_bench.py`` in a fresh process per run, pinned to CPU 0; the
            median of ``--timer-runs`` runs (interleaved across the loops); logbot's
            heap rebuild (``bench/rebuild_pause.py``) when logbot is among the loops.

``--table-from FILE`` reprints the tables of an earlier ``--json FILE`` (files from
before uvloop, the floor or syscalls simply lack those columns and tables).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Self

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "127.0.0.1"
LOOPS = ("logbot", "uvloop", "asyncio", "twisted", "floor")
#: The loops bench/timer_bench.py has (the floor is an echo server and nothing else).
TIMER_LOOPS = ("logbot", "uvloop", "asyncio", "twisted")
#: Each loop's name in the tables.
LABELS = {
    "logbot": "logbot",
    "uvloop": "uvloop",
    "asyncio": "asyncio",
    "twisted": "Twisted",
    "floor": "floor (bare epoll, no protocol)",
}
#: Its name in a ratio column's header.
SHORT = {**LABELS, "floor": "floor"}
#: The module a loop needs beyond logbot (installed in the benchmark virtualenv only).
NEEDS = {"uvloop": "uvloop", "twisted": "twisted"}
#: The ratio columns: logbot against each of these, in this order, when both ran.
RATIOS = ("uvloop", "twisted", "asyncio", "floor")
#: ``--only``'s choices, in the order they run (and all of them by default).
BENCHMARKS = ("echo", "syscalls", "memory", "timers")
#: The syscalls benchmark: connections, and the calls that send an echo (each round
#: trip is exactly one of them, so their successful count is the round trips).
SYSCALL_CONNS = 100
SEND_CALLS = ("sendto", "send", "write", "writev", "sendmsg")
ECHO_CONNS = (1, 100, 1000, 10000)
IDLE_CONNS = 15000
NOFILE = 20000
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Upper bounds on waiting for a child: nothing here may hang.
START_TIMEOUT = 20.0
ACCEPT_TIMEOUT = 60.0
STRACE_TIMEOUT = 30.0


# -- helpers -----------------------------------------------------------------------------


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


#: ``--nice``: run the measured children at this niceness (negative needs root), so
#: that other work on the machine disturbs the figures less.
NICE: int | None = None


def available(loops: list[str]) -> list[str]:
    """``loops`` without those whose module this Python cannot import (with a note)."""
    out = []
    for loop in loops:
        module = NEEDS.get(loop)
        if module and importlib.util.find_spec(module) is None:
            print(
                f"{loop}: {module} is not importable by {sys.executable}: skipped "
                f"(install it into the benchmark virtualenv, see bench/README.md)",
                flush=True,
            )
            continue
        out.append(loop)
    return out


def label(loop: str) -> str:
    return LABELS.get(loop, loop)


def pinned(cpu: int, argv: list[str]) -> list[str]:
    """``argv`` under ``taskset -c cpu`` (when taskset exists and there are 2+ CPUs)
    and under ``nice -n NICE`` when ``--nice`` was given."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        argv = ["taskset", "-c", str(cpu), *argv]
    if NICE is not None:
        argv = ["nice", "-n", str(NICE), *argv]
    return argv


def compile_loadgen(tmp: str) -> str:
    exe = os.path.join(tmp, "loadgen")
    subprocess.run(["gcc", "-O2", "-Wall", "-o", exe, os.path.join(HERE, "loadgen.c")], check=True)
    return exe


def read_line(proc: subprocess.Popen, prefix: str, timeout: float) -> str:
    """The next stdout line of ``proc`` that starts with ``prefix`` (bounded in time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{proc.args!r} exited (code {proc.poll()}) before {prefix!r}")
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    raise RuntimeError(f"no {prefix!r} from {proc.args!r} within {timeout:.0f} s")


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)


def cpu_times() -> dict[str, list[int]]:
    """Per-CPU jiffies from /proc/stat: {"cpu0": [user, nice, system, idle, ...], ...}."""
    with open("/proc/stat") as f:
        return {
            ln.split()[0]: [int(x) for x in ln.split()[1:]]
            for ln in f
            if ln.startswith("cpu") and ln[3].isdigit()
        }


def idle_share(t0: dict[str, list[int]], t1: dict[str, list[int]]) -> dict[str, float]:
    """Idle share of each CPU between two ``cpu_times()`` snapshots."""
    out = {}
    for cpu, a in t0.items():
        d = [y - x for x, y in zip(a, t1[cpu], strict=True)]
        out[cpu] = (d[3] + d[4]) / (sum(d[:8]) or 1)  # idle + iowait over all but guest
    return out


def vm_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Server:
    """One echo server child process (a context manager that always ends it)."""

    def __init__(self, loop: str) -> None:
        self.loop = loop
        if loop == "floor":
            script = [os.path.join(HERE, "echo_floor.py")]
        else:
            script = [os.path.join(HERE, "echo_servers.py"), loop]
        self.proc = subprocess.Popen(
            pinned(0, [sys.executable, *script, "0"]),
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(read_line(self.proc, "LISTENING ", START_TIMEOUT))
        self.pid = self.proc.pid

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


# -- echo ----------------------------------------------------------------------------------


def echo_once(loadgen: str, loop: str, conns: int, warmup: float, duration: float) -> dict:
    with Server(loop) as server:
        lg = subprocess.Popen(
            pinned(
                1,
                [
                    loadgen,
                    "echo",
                    HOST,
                    str(server.port),
                    str(conns),
                    str(warmup),
                    str(duration),
                    "16",
                ],
            ),
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            limit = ACCEPT_TIMEOUT + warmup + duration
            read_line(lg, "MEASURE", limit)
            t0, c0, s0 = time.monotonic(), cpu_ticks(server.pid), cpu_times()
            result = json.loads(read_line(lg, "RESULT ", duration + 10))
            t1, c1, s1 = time.monotonic(), cpu_ticks(server.pid), cpu_times()
            lg.wait(30)
        finally:
            if lg.poll() is None:
                lg.kill()
                lg.wait()
    result["loop"] = loop
    result["server_cpu"] = (c1 - c0) / CLK_TCK / (t1 - t0)
    result["cpu_idle"] = idle_share(s0, s1)
    return result


def bench_echo(loadgen: str, args: argparse.Namespace) -> list[dict]:
    results = []
    for conns in args.conns:
        for loop in args.loops:
            runs = [
                echo_once(loadgen, loop, conns, args.warmup, args.duration)
                for _ in range(args.echo_runs)
            ]
            best = max(runs, key=lambda r: r["rtps"])
            best["runs"] = [round(r["rtps"]) for r in runs]
            best["runs_detail"] = [
                {k: r[k] for k in ("rtps", "server_cpu", "client_cpu", "cpu_idle")} for r in runs
            ]
            results.append(best)
            idle = " ".join(f"{cpu} {share:.0%}" for cpu, share in best["cpu_idle"].items())
            print(
                f"  echo {loop:8} {conns:6} conns: {best['rtps']:10,.0f} round trips/s "
                f"(runs {best['runs']}; server CPU {best['server_cpu']:.0%}, loadgen CPU "
                f"{best['client_cpu']:.0%}, idle {idle}, errors {best['errors']})",
                flush=True,
            )
    return results


# -- syscalls --------------------------------------------------------------------------------


def parse_strace_summary(text: str) -> dict[str, tuple[int, int]]:
    """``{syscall: (calls, errors)}`` from the summary of ``strace -c -U
    name,calls,errors`` (``"total"`` among them)."""
    counts = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) in (2, 3) and f[1].isdigit() and all(x.isdigit() for x in f[2:]):
            counts[f[0]] = (int(f[1]), int(f[2]) if len(f) == 3 else 0)
    if "total" not in counts:
        raise RuntimeError(f"no summary in strace's output: {text!r}")
    return counts


def strace_summary(pid: int, seconds: float) -> tuple[dict[str, tuple[int, int]], float]:
    """Attach ``strace -c -f`` to ``pid`` for ``seconds`` (from the moment it has
    attached), stop it with SIGINT: its summary, and the seconds it was attached."""
    st = subprocess.Popen(
        ["strace", "-c", "-f", "-U", "name,calls,errors", "-p", str(pid)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # "strace: Process PID attached" (one per thread) once it is tracing; EOF if
        # it could not attach (its error message is in the lines read).
        head = []
        while True:
            line = st.stderr.readline()
            head.append(line)
            if not line or " attached" in line:
                break
        if not line:
            raise RuntimeError(f"strace did not attach to {pid}: {''.join(head)!r}")
        t0 = time.monotonic()
        time.sleep(seconds)
        st.send_signal(signal.SIGINT)
        t1 = time.monotonic()
        rest = st.communicate(timeout=STRACE_TIMEOUT)[1]
    finally:
        if st.poll() is None:
            st.kill()
            st.wait()
    return parse_strace_summary("".join(head) + rest), t1 - t0


def syscalls_once(loadgen: str, loop: str, conns: int, warmup: float, seconds: float) -> dict:
    """System calls per echo round trip of one fresh server, counted by strace for
    ``seconds`` after the load generator's warm-up."""
    with Server(loop) as server:
        # The load generator runs on 2 s past the strace window, so that the window
        # holds no connection's close; its own figures (slowed by strace) are not used.
        lg = subprocess.Popen(
            pinned(
                1,
                [
                    loadgen,
                    "echo",
                    HOST,
                    str(server.port),
                    str(conns),
                    str(warmup),
                    str(seconds + 2.0),
                    "16",
                ],
            ),
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            read_line(lg, "MEASURE", ACCEPT_TIMEOUT + warmup)
            counts, window = strace_summary(server.pid, seconds)
            read_line(lg, "RESULT ", seconds + 2.0 + STRACE_TIMEOUT)
            lg.wait(30)
        finally:
            if lg.poll() is None:
                lg.kill()
                lg.wait()
    total = counts.pop("total")[0]
    round_trips = sum(counts[c][0] - counts[c][1] for c in SEND_CALLS if c in counts)
    if not round_trips:
        raise RuntimeError(f"{loop}: strace saw no send in {window:.1f} s: {counts}")
    calls = dict(sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0])))
    return {
        "loop": loop,
        "conns": conns,
        "window_s": window,
        "round_trips": round_trips,
        "total_calls": total,
        "calls": {name: c for name, (c, _e) in calls.items()},
        "errors": {name: e for name, (_c, e) in calls.items() if e},
        "per_round_trip": total / round_trips,
    }


def breakdown(r: dict, floor: float = 0.001) -> str:
    """``"recvfrom 1.00, sendto 1.00, epoll_wait 0.01"``: calls per round trip, each
    syscall down to ``floor`` per round trip, the rest summed as "other"."""
    rt = r["round_trips"]
    parts, other = [], 0.0
    for name, calls in r["calls"].items():
        x = calls / rt
        if x >= floor:
            parts.append(f"{name} {x:.2f}" if round(x, 2) >= 0.01 else f"{name} {x:.3f}")
        else:
            other += x
    if other:
        parts.append(f"other {other:.3f}")
    return ", ".join(parts)


def bench_syscalls(loadgen: str, args: argparse.Namespace) -> list[dict]:
    results = []
    for loop in args.loops:
        r = syscalls_once(loadgen, loop, SYSCALL_CONNS, args.warmup, args.strace_seconds)
        results.append(r)
        errors = ", ".join(f"{k} {v:,}" for k, v in r["errors"].items()) or "none"
        print(
            f"  syscalls {loop:8} {SYSCALL_CONNS} conns: {r['per_round_trip']:.2f} per round "
            f"trip ({r['total_calls']:,} calls, {r['round_trips']:,} round trips in "
            f"{r['window_s']:.1f} s under strace; failed calls: {errors}): {breakdown(r)}",
            flush=True,
        )
    return results


# -- memory ----------------------------------------------------------------------------------


def stable_rss(pid: int, timeout: float = 5.0) -> int:
    """VmRSS once two readings 0.3 s apart agree (or after ``timeout``)."""
    last = vm_rss_kib(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = vm_rss_kib(pid)
        if now == last:
            break
        last = now
    return last


def memory_once(loadgen: str, loop: str, conns: int, msg: int = 0) -> dict:
    """RSS growth of one fresh server for ``conns`` idle connections; with ``msg`` each
    connection first does one echo round trip of ``msg`` bytes."""
    with Server(loop) as server:
        # Warm up the accept and echo paths (lazy imports, first allocations) first.
        subprocess.run(
            pinned(1, [loadgen, "echo", HOST, str(server.port), "1", "0.1", "0.2"]),
            stdout=subprocess.DEVNULL,
            check=True,
            timeout=30,
        )
        time.sleep(0.5)
        fds0 = open_fds(server.pid)
        before = stable_rss(server.pid)
        lg = subprocess.Popen(
            pinned(1, [loadgen, "idle", HOST, str(server.port), str(conns), "120", str(msg)]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            read_line(lg, "READY ", ACCEPT_TIMEOUT)
            deadline = time.monotonic() + ACCEPT_TIMEOUT
            while open_fds(server.pid) < fds0 + conns:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{loop}: only {open_fds(server.pid) - fds0} of "
                        f"{conns} connections accepted"
                    )
                time.sleep(0.1)
            time.sleep(0.5)
            after = stable_rss(server.pid)
            held = open_fds(server.pid) - fds0
        finally:
            lg.stdin.close()  # EOF: the load generator resets its connections and exits
            try:
                lg.wait(30)
            except subprocess.TimeoutExpired:
                lg.kill()
                lg.wait()
    return {
        "loop": loop,
        "conns": held,
        "used": bool(msg),
        "rss_before_kib": before,
        "rss_after_kib": after,
        "bytes_per_conn": (after - before) * 1024 / conns,
    }


def bench_memory(loadgen: str, args: argparse.Namespace) -> list[dict]:
    results = []
    for msg in (0, 16):
        for loop in args.loops:
            r = memory_once(loadgen, loop, args.idle, msg)
            results.append(r)
            print(
                f"  memory {loop:8} {r['conns']} idle "
                f"({'after one round trip' if msg else 'never used'}): "
                f"{r['rss_before_kib'] / 1024:.1f} MiB -> "
                f"{r['rss_after_kib'] / 1024:.1f} MiB, {r['bytes_per_conn']:,.0f} bytes each",
                flush=True,
            )
    return results


# -- timers ------------------------------------------------------------------------------------


def timers_once(loop: str, n: int, pauses: bool = False) -> dict:
    out = subprocess.run(
        pinned(
            0,
            [
                sys.executable,
                os.path.join(HERE, "timer_bench.py"),
                loop,
                "--timers",
                str(n),
                *(["--pauses"] if pauses else []),
            ],
        ),
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def bench_timers(args: argparse.Namespace) -> list[dict]:
    """CPU runs (plain) and pause runs (``--pauses``), interleaved across the loops."""
    loops = [loop for loop in args.loops if loop in TIMER_LOOPS]
    if not loops:
        print(f"  timers: none of {', '.join(args.loops)} has timers: skipped", flush=True)
    runs: dict[str, list[dict]] = {loop: [] for loop in loops}
    pause_runs: dict[str, list[dict]] = {loop: [] for loop in loops}
    for _ in range(args.timer_runs):
        for loop in loops:
            runs[loop].append(timers_once(loop, args.timers))
            pause_runs[loop].append(timers_once(loop, args.timers, pauses=True))
    results = []
    for loop in loops:
        rs, ps = runs[loop], pause_runs[loop]
        r = dict(sorted(rs, key=lambda x: x["cpu"])[len(rs) // 2])  # the median run
        r["cpu_runs"] = [round(x["cpu"], 3) for x in rs]
        r["max_gap_ms_worst"] = max(x["max_gap_ms"] for x in rs + ps)
        r["max_pause_ms_worst"] = max(x["max_pause_ms"] for x in ps)
        r["max_pause_ms_median"] = statistics.median(x["max_pause_ms"] for x in ps)
        results.append(r)
        print(
            f"  timers {loop:8} CPU {r['cpu']:.3f} s (runs {r['cpu_runs']}), longest "
            f"pause {r['max_pause_ms_worst']:.1f} ms (median run "
            f"{r['max_pause_ms_median']:.1f} ms; wall-clock gap "
            f"{r['max_gap_ms_worst']:.1f} ms)",
            flush=True,
        )
    return results


def bench_rebuild(args: argparse.Namespace) -> list[dict]:
    """logbot's one-shot heap rebuild (bench/rebuild_pause.py), three runs."""
    results = []
    for _ in range(3):
        out = subprocess.run(
            pinned(
                0,
                [
                    sys.executable,
                    os.path.join(HERE, "rebuild_pause.py"),
                    "--timers",
                    str(args.timers),
                ],
            ),
            stdout=subprocess.PIPE,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
        results.append(json.loads(line[len("RESULT ") :]))
    ms = sorted(r["rebuild_ms"] for r in results)
    print(
        f"  rebuild  logbot   heap of {args.timers:,}: {ms[1]:.1f} ms (runs "
        f"{', '.join(f'{x:.1f}' for x in ms)})",
        flush=True,
    )
    return results


# -- report --------------------------------------------------------------------------------------


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), ""
            )
    except OSError:
        pass
    versions = {}
    for name in ("twisted", "uvloop"):
        try:
            versions[name] = importlib.import_module(name).__version__
        except ImportError:
            versions[name] = "not installed"
    return (
        f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, "
        f"Python {platform.python_version()}, Twisted {versions['twisted']}, "
        f"uvloop {versions['uvloop']}"
    )


def loops_in(rows: list[dict]) -> list[str]:
    """The loops that have rows, in LOOPS order (any unknown name from a --json file
    last)."""
    present = {r["loop"] for r in rows}
    return [loop for loop in LOOPS if loop in present] + sorted(present - set(LOOPS))


def echo_tables(rows: list[dict]) -> list[str]:
    out = []
    by = {(r["loop"], r["conns"]): r for r in rows}
    conns = sorted({r["conns"] for r in rows})
    loops = loops_in(rows)
    ratios = [loop for loop in RATIOS if loop in loops] if "logbot" in loops else []
    dash = "–"

    def header(cells: list[str], align: str) -> None:
        out.append("| connections | " + " | ".join(cells) + " |")
        out.append("|---:|" + "".join(f"{align}|" for _ in cells))

    def row(c: int, cells: list[str]) -> None:
        out.append(f"| {c:,} | " + " | ".join(cells) + " |")

    out.append("Echo round trips per second (16-byte messages, one in flight per connection)")
    header(
        [label(loop) for loop in loops] + [f"logbot / {SHORT[loop]}" for loop in ratios],
        "---:",
    )
    for c in conns:
        rtps = {loop: by[(loop, c)]["rtps"] for loop in loops if (loop, c) in by}
        lb = rtps.get("logbot")
        row(
            c,
            [f"{rtps[loop]:,.0f}" if loop in rtps else dash for loop in loops]
            + [f"{lb / rtps[loop]:.2f}x" if lb and rtps.get(loop) else dash for loop in ratios],
        )
    out.append("")
    out.append(
        "Server CPU per round trip in microseconds (the server process's user + "
        "system time while measuring / round trips; lower is better), and the "
        "server / load generator CPU use (1.00 = one full core)"
    )
    out.append(
        "| connections | "
        + " | ".join(
            [label(loop) for loop in loops] + [f"{SHORT[loop]} / logbot" for loop in ratios]
        )
        + " |"
    )
    out.append("|---:|" + "---|" * len(loops) + "---:|" * len(ratios))
    for c in conns:
        us = {
            loop: by[(loop, c)]["server_cpu"] / by[(loop, c)]["rtps"] * 1e6
            for loop in loops
            if (loop, c) in by and by[(loop, c)]["rtps"]
        }
        cells = [
            f"{us[loop]:.1f} µs ({by[(loop, c)]['server_cpu']:.2f} / "
            f"{by[(loop, c)]['client_cpu']:.2f})"
            if loop in us
            else dash
            for loop in loops
        ]
        lb = us.get("logbot")
        cells += [f"{us[loop] / lb:.2f}x" if lb and loop in us else dash for loop in ratios]
        row(c, cells)
    out.append("")
    out.append(
        "Idle share of CPU 0 (server) / CPU 1 (load generator) during the best run, "
        "and the round trips/s of every run"
    )
    header([label(loop) for loop in loops], "---")
    for c in conns:
        cells = []
        for loop in loops:
            r = by.get((loop, c))
            if r is None:
                cells.append(dash)
                continue
            idle = r.get("cpu_idle", {})
            cells.append(
                f"{idle.get('cpu0', 0):.0%} / {idle.get('cpu1', 0):.0%}; "
                + ", ".join(f"{x / 1000:.0f}K" for x in r.get("runs", []))
            )
        row(c, cells)
    out.append("")
    return out


def syscall_table(rows: list[dict]) -> list[str]:
    conns = ", ".join(f"{c:,}" for c in sorted({r["conns"] for r in rows}))
    window = max(r["window_s"] for r in rows)
    out = [
        f"System calls per echo round trip ({conns} connections; `strace -c -f` attached "
        f"to the server for {window:.1f} s after the warm-up; round trips = the server's "
        f"successful {'/'.join(SEND_CALLS)} calls, one per round trip; strace slows the "
        "server, so only the counts mean something)",
        "| loop | syscalls per round trip | per round trip, by syscall | round trips | syscalls |",
        "|---|---:|---|---:|---:|",
    ]
    order = {loop: i for i, loop in enumerate(LOOPS)}
    for r in sorted(rows, key=lambda r: order.get(r["loop"], len(LOOPS))):
        out.append(
            f"| {label(r['loop'])} | {r['per_round_trip']:.2f} | {breakdown(r)} "
            f"| {r['round_trips']:,} | {r['total_calls']:,} |"
        )
    out.append("")
    return out


def table(results: dict) -> str:
    out = []
    if results.get("echo"):
        out += echo_tables(results["echo"])
    if results.get("syscalls"):
        out += syscall_table(results["syscalls"])
    if results.get("memory"):
        out.append(
            "Memory per idle connection (server VmRSS after - before, / connections; "
            "'used': each connection did one 16-byte echo first)"
        )
        out.append("| loop | connections | used | RSS before | RSS after | bytes per connection |")
        out.append("|---|---:|---|---:|---:|---:|")
        for r in results["memory"]:
            out.append(
                f"| {label(r['loop'])} | {r['conns']:,} | {'yes' if r.get('used') else 'no'} "
                f"| {r['rss_before_kib'] / 1024:.1f} MiB"
                f" | {r['rss_after_kib'] / 1024:.1f} MiB | {r['bytes_per_conn']:,.0f} |"
            )
        out.append("")
    if results.get("timers"):
        out.append(
            "100,000 timers, half cancelled (CPU: the median run; pause: the worst "
            "and the median of the --pauses runs; gap: worst wall-clock gap, which "
            "includes time the process was not scheduled)"
        )
        out.append(
            "| loop | CPU total | schedule | cancel | run | CPU of each run | "
            "longest pause (worst / median) | wall gap |"
        )
        out.append("|---|---:|---:|---:|---:|---|---:|---:|")
        for r in results["timers"]:
            out.append(
                f"| {label(r['loop'])} | {r['cpu']:.3f} s | {r['cpu_schedule']:.3f} s | "
                f"{r['cpu_cancel']:.3f} s | {r['cpu_run']:.3f} s | "
                f"{', '.join(f'{x:.3f}' for x in r['cpu_runs'])} | "
                f"{r['max_pause_ms_worst']:.1f} / {r['max_pause_ms_median']:.1f} ms | "
                f"{r['max_gap_ms_worst']:.1f} ms |"
            )
        out.append("")
    if results.get("rebuild"):
        ms = sorted(r["rebuild_ms"] for r in results["rebuild"])
        out.append(
            f"logbot heap rebuild (the cancel that crosses half stale, "
            f"{results['rebuild'][0]['heap_before']:,} entries): median {ms[1]:.1f} ms"
            f" (runs {', '.join(f'{x:.1f}' for x in ms)})"
        )
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        description="logbot's reactor against uvloop, asyncio, Twisted and a bare epoll floor"
    )
    ap.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated subset of {', '.join(BENCHMARKS)}",
    )
    ap.add_argument(
        "--loops",
        default=",".join(LOOPS),
        help=f"comma-separated subset of {', '.join(LOOPS)} (always run in that order; "
        "the floor has no timers)",
    )
    ap.add_argument(
        "--conns",
        default=",".join(map(str, ECHO_CONNS)),
        help="echo connection counts (comma-separated)",
    )
    ap.add_argument("--warmup", type=float, default=1.0, help="echo warm-up seconds")
    ap.add_argument("--duration", type=float, default=5.0, help="echo measured seconds")
    ap.add_argument("--echo-runs", type=int, default=1, help="runs per echo cell (best kept)")
    ap.add_argument("--idle", type=int, default=IDLE_CONNS, help="idle connections")
    ap.add_argument("--timers", type=int, default=100_000, help="timers per timer run")
    ap.add_argument("--timer-runs", type=int, default=5, help="timer runs per loop")
    ap.add_argument(
        "--strace-seconds",
        type=float,
        default=2.0,
        help="syscalls: seconds strace stays attached to each server",
    )
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument(
        "--table-from",
        metavar="FILE",
        help="only print the tables of a --json FILE from an earlier run",
    )
    ap.add_argument(
        "--nice",
        type=int,
        help="niceness of the measured processes "
        "(e.g. -10 as root, when other work shares the machine)",
    )
    args = ap.parse_args(argv[1:])
    args.conns = [int(c) for c in args.conns.split(",")]
    only = set(args.only.split(","))
    if not only <= set(BENCHMARKS):
        ap.error(f"--only takes {', '.join(BENCHMARKS)}")
    wanted = set(args.loops.split(","))
    if not wanted <= set(LOOPS):
        ap.error(f"--loops takes {', '.join(LOOPS)}")
    if (
        args.warmup + args.duration > 60
        or not 0 < args.strace_seconds <= 10
        or max(args.conns) > 15000
        or args.idle > 15000
    ):
        ap.error(
            "keep it bounded: warm-up + duration <= 60 s, strace 10 s at most, "
            "at most 15,000 connections"
        )

    if args.table_from:
        with open(args.table_from) as f:
            print(table(json.load(f)))
        return 0
    global NICE
    NICE = args.nice
    raise_nofile()
    print(f"machine: {machine()}", flush=True)
    load = os.getloadavg()[0]
    print(f"load average before the run: {load:.2f}", flush=True)
    if load > 0.5:
        print(
            "warning: the machine is busy; figures will be noisy (try --nice -10, or "
            "rerun when it is idle)",
            flush=True,
        )
    if not shutil.which("taskset"):
        print("taskset not found: server and load generator are not pinned", flush=True)
    args.loops = available([loop for loop in LOOPS if loop in wanted])
    if not args.loops:
        print("no loop left to run", flush=True)
        return 1
    if "syscalls" in only and not shutil.which("strace"):
        print("strace not found: the syscalls benchmark is skipped", flush=True)
        only.discard("syscalls")
    results: dict = {"machine": machine(), "load_before": load, "nice": NICE, "loops": args.loops}
    with tempfile.TemporaryDirectory(prefix="logbot-bench-") as tmp:
        loadgen = compile_loadgen(tmp) if only & {"echo", "syscalls", "memory"} else ""
        if "echo" in only:
            results["echo"] = bench_echo(loadgen, args)
        if "syscalls" in only:
            results["syscalls"] = bench_syscalls(loadgen, args)
        if "memory" in only:
            results["memory"] = bench_memory(loadgen, args)
        if "timers" in only:
            results["timers"] = bench_timers(args)
            if "logbot" in args.loops:
                results["rebuild"] = bench_rebuild(args)
    print()
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
