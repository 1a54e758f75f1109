"""100,000 timers, half cancelled: CPU cost and loop pauses, on one event loop.

    python bench/timer_bench.py {logbot,asyncio,twisted,uvloop} [--timers N] [--seed S]

Prints one line ``RESULT {json}``.  bench/run_all.py runs it once per loop, each in a
fresh process (so one loop's garbage does not bill the next), pinned to one CPU.

What it does, the same way on every loop:

1. Before the loop runs: draw N random delays in [0, 1) s and a random half of the
   indices to cancel (seeded, so every loop gets the same schedule).  Not timed.
2. From the first callback of the running loop (``callWhenRunning`` / ``call_soon``):
   schedule N ``callLater`` calls at those delays, then cancel the chosen half.
3. Let the loop run until the last remaining call has fired, then stop it.

Figures:

* ``cpu``: ``time.process_time()`` from the start of step 2 to the last firing:
  scheduling, cancelling, and every loop iteration until the end (``cpu_schedule``,
  ``cpu_cancel`` and ``cpu_run`` split it).
* ``max_late_ms``: the longest a call fired after its due time, among calls due after
  step 2 had returned (those due while step 2 itself was running are late because the
  benchmark held the loop, not because of the loop; ``setup_ms`` says how long that
  was).  A timer that fires late means the loop paused: it was busy elsewhere (say,
  rebuilding its heap) when it should have been running the call.  ``p99_late_ms``
  is the 99th percentile of the same.
* ``max_gap_ms``: the longest time between two consecutive firings, less the time
  between their due times: the longest stretch the loop went without running a due
  call.  On a machine shared with other work that includes time the process was not
  scheduled at all, so ``--pauses`` also records ``time.process_time()`` at every
  firing (which costs CPU: the ``cpu`` figure of such a run is not comparable) and
  gives ``max_pause_ms``: for each pair of consecutive firings the smaller of that
  wall-clock gap and the CPU time the process spent between them, i.e. the longest
  stretch the loop itself was busy elsewhere while a call was due.

Each callback does the same tiny amount of work on every loop: it stores the clock.
``uvloop`` is the asyncio variant on uvloop's loop (benchmark-only, like Twisted); its
clock and timers have millisecond resolution, which rounds its late/gap/pause figures.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import random
import sys
import time

N_TIMERS = 100_000

#: (perf_counter at start, milliseconds) of every cyclic garbage collection, and of
#: the full (generation 2) ones: a pause may be the collector's, not the loop's.
GC_PAUSES: list[tuple[float, float]] = []
GC_FULL: list[tuple[float, float]] = []
_gc_start = [0.0]


def _gc_callback(phase: str, info: dict) -> None:
    if phase == "start":
        _gc_start[0] = time.perf_counter()
    else:
        t0 = _gc_start[0]
        entry = (t0, (time.perf_counter() - t0) * 1000)
        GC_PAUSES.append(entry)
        if info.get("generation") == 2:
            GC_FULL.append(entry)


gc.callbacks.append(_gc_callback)


def make_schedule(n: int, seed: int) -> tuple[list[float], list[int]]:
    rng = random.Random(seed)
    delays = [rng.random() for _ in range(n)]
    cancel = rng.sample(range(n), n // 2)
    return delays, cancel


class Run:
    """The benchmark body, parametrised by one loop's callLater/clock/stop."""

    def __init__(self, n: int, seed: int, pauses: bool = False) -> None:
        self.n = n
        self.pauses = pauses
        self.fired_cpu = [0.0] * n
        self.delays, self.cancel = make_schedule(n, seed)
        self.fired = [0.0] * n
        self.remaining = n - len(self.cancel)
        self.handles: list = []
        self.marks: dict[str, float] = {}

    def setup(self, call_later, clock, stop) -> None:
        self.clock = clock
        self.stop = stop
        fired = self.fired
        fired_cpu = self.fired_cpu
        process_time = time.process_time
        run = self

        def fire(i: int) -> None:
            fired[i] = clock()
            run.remaining -= 1
            if not run.remaining:
                run.marks["cpu_end"] = time.process_time()
                stop()

        def fire_pauses(i: int) -> None:
            fired_cpu[i] = process_time()
            fire(i)

        callback = fire_pauses if self.pauses else fire

        self.marks["wall_start"] = clock()
        self.marks["cpu_start"] = time.process_time()
        handles = [call_later(d, callback, i) for i, d in enumerate(self.delays)]
        self.marks["cpu_scheduled"] = time.process_time()
        for i in self.cancel:
            handles[i].cancel()
        self.marks["cpu_cancelled"] = time.process_time()
        self.marks["wall_setup_end"] = clock()
        self.marks["perf_setup_end"] = time.perf_counter()
        self.handles = handles

    def result(self, name: str, when) -> dict:
        m = self.marks
        cancelled = set(self.cancel)
        pairs = sorted(
            (when(h), self.fired[i], self.fired_cpu[i])
            for i, h in enumerate(self.handles)
            if i not in cancelled
        )
        setup_end = m["wall_setup_end"]
        late = sorted(f - d for d, f, _ in pairs if d >= setup_end)
        max_gap, max_gap_at, max_pause = 0.0, 0.0, 0.0
        for (d0, f0, c0), (d1, f1, c1) in itertools.pairwise(pairs):
            if d0 < setup_end:
                continue
            gap = (f1 - f0) - (d1 - d0)
            if gap > max_gap:
                max_gap, max_gap_at = gap, f0 - setup_end
            if self.pauses:
                max_pause = max(max_pause, min(gap, c1 - c0))
        gc_setup = [ms for t, ms in GC_PAUSES if t < m["perf_setup_end"]]
        gc_run = [ms for t, ms in GC_PAUSES if t >= m["perf_setup_end"]]
        return {
            "loop": name,
            "timers": self.n,
            "cancelled": len(self.cancel),
            "fired": len(pairs),
            "cpu": m["cpu_end"] - m["cpu_start"],
            "cpu_schedule": m["cpu_scheduled"] - m["cpu_start"],
            "cpu_cancel": m["cpu_cancelled"] - m["cpu_scheduled"],
            "cpu_run": m["cpu_end"] - m["cpu_cancelled"],
            "setup_ms": (setup_end - m["wall_start"]) * 1000,
            "max_late_ms": late[-1] * 1000 if late else 0.0,
            "p99_late_ms": late[int(len(late) * 0.99)] * 1000 if late else 0.0,
            "max_gap_ms": max_gap * 1000,
            "max_gap_at_s": max_gap_at,
            "pauses_mode": self.pauses,
            "max_pause_ms": max_pause * 1000 if self.pauses else None,
            "gc_max_ms_setup": max(gc_setup, default=0.0),
            "gc_max_ms_run": max(gc_run, default=0.0),
            "gc_full_run": sum(1 for t, ms in GC_FULL if t >= m["perf_setup_end"]),
        }


def bench_logbot(run: Run) -> dict:
    from logbot.reactor.loop import Reactor

    r = Reactor("epoll")
    r.callWhenRunning(run.setup, r.callLater, r.seconds, r.stop)
    r.run(installSignalHandlers=False)
    return run.result("logbot", lambda h: h.getTime())


def bench_asyncio(run: Run, name: str = "asyncio") -> dict:
    import asyncio

    if name == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    loop.call_soon(run.setup, loop.call_later, loop.time, loop.stop)
    loop.run_forever()
    loop.close()
    # uvloop's call_later of a delay that rounds to 0 ms is a call_soon: a Handle with
    # no when(); such a call was due while the setup still ran (left out of the figures).
    return run.result(name, lambda h: h.when() if hasattr(h, "when") else run.marks["wall_start"])


def bench_uvloop(run: Run) -> dict:
    """The asyncio variant on uvloop's loop.  Its clock (``loop.time()``, libuv's
    ``uv_now``) and its timers have millisecond resolution, so its late/gap/pause
    figures are rounded to the millisecond; the CPU figures are not affected."""
    return bench_asyncio(run, "uvloop")


def bench_twisted(run: Run) -> dict:
    from twisted.internet import epollreactor

    epollreactor.install()
    from twisted.internet import reactor

    reactor.callWhenRunning(run.setup, reactor.callLater, reactor.seconds, reactor.stop)
    reactor.run(installSignalHandlers=False)
    return run.result("twisted", lambda h: h.getTime())


LOOPS = {
    "logbot": bench_logbot,
    "asyncio": bench_asyncio,
    "twisted": bench_twisted,
    "uvloop": bench_uvloop,
}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("loop", choices=sorted(LOOPS))
    ap.add_argument("--timers", type=int, default=N_TIMERS)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument(
        "--pauses",
        action="store_true",
        help="also record CPU time per firing (for max_pause_ms; costs CPU)",
    )
    args = ap.parse_args(argv[1:])
    run = Run(args.timers, args.seed, args.pauses)
    result = LOOPS[args.loop](run)
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
