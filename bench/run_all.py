"""Run every benchmark side by side (logbot, asyncio, Twisted) and print the tables.

    /tmp/benchvenv/bin/python bench/run_all.py [--only echo,memory,timers] [--json FILE]

Run it with the benchmark virtualenv's Python (see bench/README.md): Twisted is
imported from there and never from the project's own environment.  Everything listens
and connects on 127.0.0.1; every loop here is bounded in count and in time.

* echo:   ``bench/loadgen.c`` (compiled with ``gcc -O2`` into a temporary directory)
          drives ``bench/echo_servers.py`` at 1, 100, 1,000 and 10,000 connections;
          one fresh server process per measurement, server pinned to CPU 0 and load
          generator to CPU 1 with ``taskset`` when it exists.
* memory: the server's VmRSS before and after the load generator holds 15,000 idle
          connections open, divided by 15,000.
* timers: ``bench/timer_bench.py`` in a fresh process per run, pinned to CPU 0; the
          median of ``--timer-runs`` runs (interleaved across the loops).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Self

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "127.0.0.1"
LOOPS = ("logbot", "asyncio", "twisted")
ECHO_CONNS = (1, 100, 1000, 10000)
IDLE_CONNS = 15000
NOFILE = 20000
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Upper bounds on waiting for a child: nothing here may hang.
START_TIMEOUT = 20.0
ACCEPT_TIMEOUT = 60.0


# -- helpers -----------------------------------------------------------------------------


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


#: ``--nice``: run the measured children at this niceness (negative needs root), so
#: that other work on the machine disturbs the figures less.
NICE: int | None = None


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
        self.proc = subprocess.Popen(
            pinned(0, [sys.executable, os.path.join(HERE, "echo_servers.py"), loop, "0"]),
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
        for loop in LOOPS:
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
        for loop in LOOPS:
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
    runs: dict[str, list[dict]] = {loop: [] for loop in LOOPS}
    pause_runs: dict[str, list[dict]] = {loop: [] for loop in LOOPS}
    for _ in range(args.timer_runs):
        for loop in LOOPS:
            runs[loop].append(timers_once(loop, args.timers))
            pause_runs[loop].append(timers_once(loop, args.timers, pauses=True))
    results = []
    for loop in LOOPS:
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
    try:
        import twisted

        tw = twisted.__version__
    except ImportError:
        tw = "not installed"
    return (
        f"{os.cpu_count()} CPUs ({model}), Linux {platform.release()}, "
        f"Python {platform.python_version()}, Twisted {tw}"
    )


def table(results: dict) -> str:
    out = []
    if "echo" in results:
        by = {(r["loop"], r["conns"]): r for r in results["echo"]}
        conns = sorted({r["conns"] for r in results["echo"]})
        out.append("Echo round trips per second (16-byte messages, one in flight per connection)")
        out.append(
            "| connections | logbot | asyncio | Twisted | logbot / Twisted | logbot / asyncio |"
        )
        out.append("|---:|---:|---:|---:|---:|---:|")
        for c in conns:
            lb, ai, tw = (by[(loop, c)]["rtps"] for loop in LOOPS)
            out.append(
                f"| {c:,} | {lb:,.0f} | {ai:,.0f} | {tw:,.0f} | {lb / tw:.2f}x | {lb / ai:.2f}x |"
            )
        out.append("")
        out.append(
            "Server CPU per round trip in microseconds (the server process's user + "
            "system time while measuring / round trips; lower is better), and the "
            "server / load generator CPU use (1.00 = one full core)"
        )
        out.append("| connections | logbot | asyncio | Twisted | Twisted / logbot |")
        out.append("|---:|---|---|---|---:|")
        for c in conns:
            us = {loop: by[(loop, c)]["server_cpu"] / by[(loop, c)]["rtps"] * 1e6 for loop in LOOPS}
            cells = [
                f"{us[loop]:.1f} µs ({by[(loop, c)]['server_cpu']:.2f} / "
                f"{by[(loop, c)]['client_cpu']:.2f})"
                for loop in LOOPS
            ]
            out.append(
                f"| {c:,} | " + " | ".join(cells) + f" | {us['twisted'] / us['logbot']:.2f}x |"
            )
        out.append("")
        out.append(
            "Idle share of CPU 0 (server) / CPU 1 (load generator) during the best run, "
            "and the round trips/s of every run"
        )
        out.append("| connections | logbot | asyncio | Twisted |")
        out.append("|---:|---|---|---|")
        for c in conns:
            cells = []
            for loop in LOOPS:
                r = by[(loop, c)]
                idle = r.get("cpu_idle", {})
                cells.append(
                    f"{idle.get('cpu0', 0):.0%} / {idle.get('cpu1', 0):.0%}; "
                    + ", ".join(f"{x / 1000:.0f}K" for x in r.get("runs", []))
                )
            out.append(f"| {c:,} | " + " | ".join(cells) + " |")
        out.append("")
    if "memory" in results:
        out.append(
            "Memory per idle connection (server VmRSS after - before, / connections; "
            "'used': each connection did one 16-byte echo first)"
        )
        out.append("| loop | connections | used | RSS before | RSS after | bytes per connection |")
        out.append("|---|---:|---|---:|---:|---:|")
        for r in results["memory"]:
            out.append(
                f"| {r['loop']} | {r['conns']:,} | {'yes' if r.get('used') else 'no'} "
                f"| {r['rss_before_kib'] / 1024:.1f} MiB"
                f" | {r['rss_after_kib'] / 1024:.1f} MiB | {r['bytes_per_conn']:,.0f} |"
            )
        out.append("")
    if "timers" in results:
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
                f"| {r['loop']} | {r['cpu']:.3f} s | {r['cpu_schedule']:.3f} s | "
                f"{r['cpu_cancel']:.3f} s | {r['cpu_run']:.3f} s | "
                f"{', '.join(f'{x:.3f}' for x in r['cpu_runs'])} | "
                f"{r['max_pause_ms_worst']:.1f} / {r['max_pause_ms_median']:.1f} ms | "
                f"{r['max_gap_ms_worst']:.1f} ms |"
            )
        out.append("")
    if "rebuild" in results:
        ms = sorted(r["rebuild_ms"] for r in results["rebuild"])
        out.append(
            f"logbot heap rebuild (the cancel that crosses half stale, "
            f"{results['rebuild'][0]['heap_before']:,} entries): median {ms[1]:.1f} ms"
            f" (runs {', '.join(f'{x:.1f}' for x in ms)})"
        )
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="logbot's reactor against asyncio and Twisted")
    ap.add_argument(
        "--only",
        default="echo,memory,timers",
        help="comma-separated subset of echo, memory, timers",
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
    if not only <= {"echo", "memory", "timers"}:
        ap.error("--only takes echo, memory and/or timers")
    if args.warmup + args.duration > 60 or max(args.conns) > 15000 or args.idle > 15000:
        ap.error("keep it bounded: warm-up + duration <= 60 s, at most 15,000 connections")

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
    results: dict = {"machine": machine(), "load_before": load, "nice": NICE}
    with tempfile.TemporaryDirectory(prefix="logbot-bench-") as tmp:
        loadgen = compile_loadgen(tmp) if only & {"echo", "memory"} else ""
        if "echo" in only:
            results["echo"] = bench_echo(loadgen, args)
        if "memory" in only:
            results["memory"] = bench_memory(loadgen, args)
        if "timers" in only:
            results["timers"] = bench_timers(args)
            results["rebuild"] = bench_rebuild(args)
    print()
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
