"""The floor: the least Python that writes what the bot writes for a tagged line.

    python bench/bench_floor.py [--lines 200000] [--runs 5]

``bench_logbot.py``'s tagged lines, in 64 KiB reads, through one function that does
only what no logging bot in Python can skip to write the same two files: decode each
read and split it into lines; per line, cut the tags (``time``, ``msgid``,
``account``) and the prefix, parse the time, render the text line
(``2026-12-06T10:00:00  <nick> text``) and the jsonl object with the same fields and
escaping (``json``'s C string encoder, as ``logbot.logs.formats`` uses), encode both;
per read, one ``write`` per file.  No state, no policy, no plugins, no checks for
the other shapes a line can take, no escaping of control characters, no page-aligned
writes: it is not a bot, only a bound below which a bot's per-line work cannot go in
CPython.  Each variant is timed in process, best of ``--runs``:

* ``floor``: the above;
* ``floor, text only``: the text file alone;
* ``seed-like``: what the seed's ircLogBot does per line (split the prefix and the
  command, one ``strftime``-stamped line, a write and a flush per line), for scale.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from json.encoder import encode_basestring as enc  # type: ignore[attr-defined]

import irc_blaster

READ = 65536
UTC = datetime.UTC


def reads(lines: int) -> list[bytes]:
    blob = b"".join(irc_blaster.privmsg_lines(lines, "#bench", tags=True))
    return [blob[i : i + READ] for i in range(0, len(blob), READ)]


def floor(chunks: list[bytes], text_fd: int, json_fd: int | None) -> None:
    network = enc("bench")
    rest = b""
    fromiso = datetime.datetime.fromisoformat
    for chunk in chunks:
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        text_out = []
        json_out = []
        for line in data[:cut].decode("utf-8", "surrogateescape").splitlines():
            raw_tags, _, line = line[1:].partition(" ")
            tags = dict(kv.split("=", 1) for kv in raw_tags.split(";"))
            stamp = tags["time"]
            when = fromiso(stamp)
            source, _, line = line[1:].partition(" ")
            _command, _, line = line.partition(" ")
            channel, _, text = line.partition(" :")
            nick, _, userhost = source.partition("!")
            user, _, host = userhost.partition("@")
            text_out.append(f"{stamp[:19]}  <{nick}> {text}\n")
            if json_fd is not None:
                d = when - EPOCH
                ms = (d.days * 86400 + d.seconds) * 1000 + d.microseconds // 1000
                json_out.append(
                    f'{{"time":"{stamp[:23]}+00:00","time_ms":{ms},"time_source":"server"'
                    f',"type":"message","network":{network},"channel":{enc(channel)}'
                    f',"nick":{enc(nick)},"user":{enc(user)},"host":{enc(host)}'
                    f',"account":{enc(tags["account"])},"text":{enc(text)}'
                    f',"msgid":{enc(tags["msgid"])},"tags":{{"time":{enc(stamp)}'
                    f',"msgid":{enc(tags["msgid"])},"account":{enc(tags["account"])}}}}}\n'
                )
        os.write(text_fd, "".join(text_out).encode("utf-8", "surrogateescape"))
        if json_fd is not None:
            os.write(json_fd, "".join(json_out).encode("utf-8", "surrogateescape"))


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)


def seed_like(chunks: list[bytes], fd: int) -> None:
    """The seed's per-line work: LineReceiver's split, IRCClient's parse, the logger's
    strftime and a write + flush per line (an unbuffered write here)."""
    rest = b""
    for chunk in chunks:
        data = rest + chunk
        lines = data.split(b"\r\n")
        rest = lines.pop()
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            if line[:1] == "@":
                line = line.partition(" ")[2]
            prefix, _, line = line[1:].partition(" ")
            command, _, line = line.partition(" ")
            channel, _, text = line.partition(" :")
            nick = prefix.split("!", 1)[0]
            stamp = time.strftime("[%H:%M:%S]", time.localtime(time.time()))
            os.write(fd, f"{stamp} <{nick}> {text}\n".encode())


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    chunks = reads(args.lines)
    rows: dict[str, list[float]] = {"floor": [], "floor, text only": [], "seed-like": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            a = os.open(os.path.join(tmp, "a"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            b = os.open(os.path.join(tmp, "b"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            try:
                rows["floor"].append(timed(floor, chunks, a, b))
                rows["floor, text only"].append(timed(floor, chunks, a, None))
                rows["seed-like"].append(timed(seed_like, chunks, a))
            finally:
                os.close(a)
                os.close(b)
    print("| variant | us/line (best) | lines/s | all runs (us/line) |")
    print("|---|---:|---:|---|")
    for name, times in rows.items():
        best = min(times)
        runs = ", ".join(f"{t / args.lines * 1e6:.2f}" for t in times)
        print(f"| {name} | {best / args.lines * 1e6:.2f} | {args.lines / best:,.0f} | {runs} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
