"""How long logbot's timer heap rebuild holds the loop, at 100,000 timers.

    python bench/rebuild_pause.py [--timers N]

Schedules N timers at random times, cancels half of them plus one: that last cancel
crosses the "more stale than live entries" line and rebuilds the heap in one go.  Prints
how long that single ``cancel()`` took (the pause a loop would see), and for comparison
the median of the other cancels.  No loop runs; nothing touches the network.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

from logbot.reactor.timers import TimerQueue


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv[1:])
    rng = random.Random(args.seed)
    queue = TimerQueue(time.monotonic)
    calls = [queue.schedule(rng.random(), print, (), {}) for _ in range(args.timers)]
    victims = rng.sample(range(args.timers), args.timers // 2 + 1)
    costs = []
    for i in victims[:-1]:
        t0 = time.perf_counter()
        calls[i].cancel()
        costs.append(time.perf_counter() - t0)
    before = len(queue._heap)
    t0 = time.perf_counter()
    calls[victims[-1]].cancel()
    pause = time.perf_counter() - t0
    print(
        f'RESULT {{"timers": {args.timers}, "heap_before": {before}, '
        f'"heap_after": {len(queue._heap)}, "rebuild_ms": {pause * 1000:.2f}, '
        f'"median_cancel_us": {statistics.median(costs) * 1e6:.2f}}}'
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
