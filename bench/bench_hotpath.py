"""The bot's per-line cost in process: no sockets, no other process, one core.

    python bench/bench_hotpath.py [--lines 200000] [--plugins default|none] [--runs 5]
    python bench/bench_hotpath.py --per-read 1 --lines 20000   # a line per read
    python bench/bench_hotpath.py --profile [--top 30]

Builds the bot as ``logbot.bot.testing.PluginHarness`` does (the real ``NetworkBot``,
``LogWriter``, ``PluginManager``; text + jsonl, flush per line) on a fake clock, joins
``#bench``, and feeds it ``irc_blaster.py``'s tagged lines in 64 KiB reads through
``client.dataReceived``, as the reactor would.  Prints microseconds per line (best of
``--runs``, each with a fresh bot).  It is what ``bench_logbot.py`` measures, less the
reactor and the socket: a quick way to see what a change to the hot path is worth,
before the end-to-end run says what it is worth to a user.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time

import irc_blaster
from logbot.bot.testing import PluginHarness

DEFAULT_PLUGINS = ["help", "ping", "version", "uptime", "hello", "seen", "last", "grep", "admin"]
READ = 65536


def reads(lines: int, per_read: int = 0) -> list[bytes]:
    """The blast cut into the reads a 64 KiB ``recv`` would return, or into reads of
    ``per_read`` lines each (1: a line per read, as at a few lines a second)."""
    chunks = irc_blaster.privmsg_lines(lines, "#bench", tags=True)
    if per_read:
        return [b"".join(chunks[i : i + per_read]) for i in range(0, len(chunks), per_read)]
    blob = b"".join(chunks)
    return [blob[i : i + READ] for i in range(0, len(blob), READ)]


def run(chunks: list[bytes], plugins: list[str], profile: cProfile.Profile | None) -> float:
    """Seconds to feed ``chunks`` to a fresh bot."""
    with tempfile.TemporaryDirectory() as tmp:
        h = PluginHarness(plugins, tmp=tmp, start=time.time(), rate_limits=False)
        try:
            h._bot_in("#bench")
            feed = h.client.dataReceived
            if profile is not None:
                profile.enable()
            start = time.perf_counter()
            for chunk in chunks:
                feed(chunk)
            took = time.perf_counter() - start
            if profile is not None:
                profile.disable()
        finally:
            h.close()
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--plugins", choices=["default", "none"], default="default")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--per-read", type=int, default=0, help="lines per read (0: 64 KiB reads)")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    plugins = DEFAULT_PLUGINS if args.plugins == "default" else []
    chunks = reads(args.lines, args.per_read)
    if args.profile:
        prof = cProfile.Profile()
        run(chunks, plugins, prof)
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)
        return 0
    times = [run(chunks, plugins, None) for _ in range(args.runs)]
    best = min(times)
    print(
        f"plugins {args.plugins}: {best / args.lines * 1e6:.2f} us/line best"
        f" ({args.lines / best:,.0f} lines/s); runs "
        + ", ".join(f"{t / args.lines * 1e6:.2f}" for t in times)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
