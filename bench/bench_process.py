"""Spawn-and-reap rate of ``true``: logbot's reactor against Python's ``subprocess``.

Each figure is processes per second, best of ``--repeat`` runs of ``-n`` processes:

* ``reactor seq``: one child at a time; ``processEnded`` spawns the next.
* ``reactor x32``: 32 children in flight; each ``processEnded`` spawns a replacement.
* ``subprocess run``: ``subprocess.run(["true"])`` in a loop.
* ``subprocess x32``: 32 ``Popen`` at a time, then ``wait()`` for each.

``--pipes`` gives every child the three default pipes (reactor: ``childFDs`` default;
subprocess: ``stdin/stdout/stderr=PIPE`` and ``communicate()``); without it the
children inherit our 0, 1 and 2 and no pipe is made.

    python bench/bench_process.py [-n 2000] [--repeat 3] [--backend epoll] [--pipes]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from logbot.reactor.loop import Reactor
from logbot.reactor.protocol import ProcessProtocol

INHERIT = {0: 0, 1: 1, 2: 2}


def bench_reactor(n: int, inflight: int, backend: str, pipes: bool) -> float:
    reactor = Reactor(backend)
    childFDs = None if pipes else INHERIT
    state = {"started": 0, "ended": 0}

    class PP(ProcessProtocol):
        def processEnded(self, reason: object) -> None:
            state["ended"] += 1
            if state["started"] < n:
                spawn()
            elif state["ended"] == n:
                reactor.stop()

    def spawn() -> None:
        state["started"] += 1
        reactor.spawnProcess(PP(), "true", ["true"], {}, childFDs=childFDs)

    def start() -> None:
        for _ in range(min(inflight, n)):
            spawn()

    reactor.callWhenRunning(start)
    t0 = time.perf_counter()
    reactor.run(installSignalHandlers=False)
    elapsed = time.perf_counter() - t0
    reactor.close()
    assert state["ended"] == n
    return n / elapsed


def bench_subprocess(n: int, inflight: int, pipes: bool) -> float:
    kw: dict = (
        {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        if pipes
        else {}
    )
    t0 = time.perf_counter()
    if inflight == 1:
        for _ in range(n):
            subprocess.run(["true"], check=True, **kw)
    else:
        done = 0
        while done < n:
            batch = [subprocess.Popen(["true"], **kw) for _ in range(min(inflight, n - done))]
            for p in batch:
                if pipes:
                    p.communicate()
                else:
                    p.wait()
            done += len(batch)
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backend", default="epoll")
    ap.add_argument("--pipes", action="store_true")
    a = ap.parse_args()
    cases = [
        ("reactor seq", lambda: bench_reactor(a.n, 1, a.backend, a.pipes)),
        ("reactor x32", lambda: bench_reactor(a.n, 32, a.backend, a.pipes)),
        ("subprocess run", lambda: bench_subprocess(a.n, 1, a.pipes)),
        ("subprocess x32", lambda: bench_subprocess(a.n, 32, a.pipes)),
    ]
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, n={a.n}, "
        f"backend={a.backend}, pipes={a.pipes}, best of {a.repeat}"
    )
    for name, f in cases:
        best = max(f() for _ in range(a.repeat))
        print(f"{name:16s} {best:8.0f} processes/s")


if __name__ == "__main__":
    main()
