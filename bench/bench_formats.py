"""What ``format_text`` costs per line: ordinary, non-ASCII, coloured and hostile lines.

A micro-benchmark of the text format alone (the end-to-end figure is
``bench_logbot.py``'s): the best of ``--repeat`` timings of ``--number`` calls per kind
of line, in ns per line, so the price of escaping control characters (paid by the
lines that have them) and of the check that skips it (paid by every line) are seen
apart.  ``--tree`` imports logbot from another checkout (e.g. the commit before a
change) to compare, in the same way on the same machine.  Run by hand:

    python3 bench/bench_formats.py
    python3 bench/bench_formats.py --tree /tmp/before
"""

from __future__ import annotations

import argparse
import datetime
import functools
import sys
import timeit
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
    args = parser.parse_args()
    sys.path.insert(0, str(args.tree.resolve()))
    from logbot.logs.formats import format_text
    from logbot.logs.record import LogRecord

    when = datetime.datetime(2026, 11, 27, 9, 15, 0, 123000, tzinfo=datetime.UTC)
    print(f"format_text from {args.tree}: ns per line, best of {args.repeat}")
    for kind, text in LINES.items():
        record = LogRecord(
            when, "server", "message", "libera", "#chan", "alice", "~al", "host", None, text
        )
        best = min(
            timeit.repeat(
                functools.partial(format_text, record, datetime.UTC),
                number=args.number,
                repeat=args.repeat,
            )
        )
        print(f"  {kind:<14} {best / args.number * 1e9:7.0f}")


if __name__ == "__main__":
    main()
