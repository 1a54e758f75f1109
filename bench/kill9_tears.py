"""How often does ``kill -9`` leave a torn last line?  The log writer, killed at random.

A child process writes 300-line batches of ~200-byte messages through ``LogWriter`` to
a text and a jsonl file, as the bot does for each read from the server; the parent
kills it with SIGKILL after a random 50-300 ms, then looks at whether each file ends
in a newline.  The kernel can stop a ``write(2)`` at a page boundary of the file when
SIGKILL arrives; ``rotation.page_runs`` decides where those boundaries may fall.

Modes:

runs   what the writer does: a line that spans a page boundary is written alone
lines  no batching: one write per line
read   one write per file per batch (what page_runs avoids)

Run: ``python bench/kill9_tears.py --mode runs --iterations 400`` (about 3 minutes).
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
from datetime import datetime, UTC
import logbot.logs.writer as W
from logbot.logs.record import LogRecord
from logbot.config.settings import LogOptions
from logbot.reactor.task import Clock
mode = sys.argv[3]
if mode == "read":
    W.page_runs = lambda size, lengths, start, stop: [(start, stop)]
w = W.LogWriter(Clock(), root=sys.argv[2])
o = LogOptions(formats=("text", "jsonl"))
t = datetime(2026, 1, 1, tzinfo=UTC)
n = 0
print("ready", flush=True)
while True:
    if mode != "lines":
        w.hold()
    for _ in range(300):
        w.write(LogRecord(t, "server", "message", "net", "#c", "nick",
                          text=f"{n} " + "x" * 180), "#c", o)
        n += 1
    if mode != "lines":
        w.release()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["runs", "lines", "read"], default="runs")
    parser.add_argument("--iterations", type=int, default=400)
    args = parser.parse_args()
    torn = files = 0
    with tempfile.TemporaryDirectory() as base:
        for i in range(args.iterations):
            root = Path(base) / str(i)
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(REPO), str(root), args.mode],
                stdout=subprocess.PIPE,
            )
            assert child.stdout is not None
            child.stdout.readline()
            time.sleep(random.uniform(0.05, 0.3))
            child.send_signal(signal.SIGKILL)
            child.wait()
            for path in root.rglob("*.*"):
                files += 1
                data = path.read_bytes()
                torn += bool(data) and not data.endswith(b"\n")
    print(f"mode {args.mode}: {torn} of {files} files torn ({100 * torn / files:.2f} %)")


if __name__ == "__main__":
    main()
