"""What ``format_text`` (or ``format_jsonl``) costs per line: ordinary, non-ASCII,
coloured and hostile lines.

A micro-benchmark of the text format alone (the end-to-end figure is
``bench_logbot.py``'s): the best of ``--repeat`` timings of ``--number`` calls per kind
of line, in ns per line, so the price of escaping control characters (paid by the
lines that have them) and of the check that skips it (paid by every line) are seen
apart.  ``--tree`` imports logbot from another checkout (e.g. the commit before a
change) to compare, in the same way on the same machine.  ``--format jsonl`` times
the jsonl format instead.  The last row, "new time", formats ordinary lines 1 ms apart
(what the per-time caches cannot spare; the other rows repeat one time) after a text
line of the same record, as the writer does: its figure is the pair's, less the text
line's, in both trees.  Run by hand:

    python3 bench/bench_formats.py
    python3 bench/bench_formats.py --tree /tmp/before --format jsonl
"""

from __future__ import annotations

import argparse
import datetime
import functools
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

LINES = {
    "ascii": "hello there, how is everyone doing today? the build is green again",
    "non-ascii": "ça marche très bien, merci — 日本語のテキストも大丈夫です",
    "mirc colours": "\x02bold\x02 and \x0304,01red on black\x03 and \x1ditalic\x1d text",
    "\\o/ (kept)": "\\o/ the path is C:\\Users\\alice\\Documents, all good, thanks",
    "\\n (doubled)": "\\o/ the path is C:\\Users\\alice\\notes.txt, use \\n for a newline",
    "escapes": "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07hidden\x1b[8m text\x9b0m",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--number", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--format", choices=["text", "jsonl"], default="text")
    args = parser.parse_args()
    sys.path.insert(0, str(args.tree.resolve()))
    from logbot.logs.formats import format_jsonl, format_text
    from logbot.logs.record import LogRecord

    fmt = format_text if args.format == "text" else format_jsonl
    when = datetime.datetime(2026, 11, 27, 9, 15, 0, 123000, tzinfo=datetime.UTC)
    print(f"format_{args.format} from {args.tree}: ns per line, best of {args.repeat}")
    for kind, text in LINES.items():
        record = LogRecord(
            when, "server", "message", "libera", "#chan", "alice", "~al", "host", None, text
        )
        best = min(
            timeit.repeat(
                functools.partial(fmt, record, datetime.UTC),
                number=args.number,
                repeat=args.repeat,
            )
        )
        print(f"  {kind:<14} {best / args.number * 1e9:7.0f}")
    step = datetime.timedelta(milliseconds=1)
    text = LINES["ascii"]
    records = [
        LogRecord(
            when + i * step, "server", "message", "libera", "#chan", "alice", "~al", "h", None, text
        )
        for i in range(args.number)
    ]

    def stream(second: Callable[[LogRecord, datetime.tzinfo], str] | None) -> None:
        for r in records:
            format_text(r, datetime.UTC)
            if second is not None:
                second(r, datetime.UTC)

    def best_of(second: Callable[[LogRecord, datetime.tzinfo], str] | None) -> float:
        return min(timeit.repeat(functools.partial(stream, second), number=1, repeat=args.repeat))

    extra = best_of(None) if fmt is format_text else best_of(fmt) - best_of(None)
    print(f"  {'new time':<14} {extra / args.number * 1e9:7.0f}")


if __name__ == "__main__":
    main()
