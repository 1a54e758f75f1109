"""What a hostile IRC server can make the core hold and spend (issue 15, items 5-7).

Each flood is fed to ``IRCConnection.receive_data`` in 64 KiB reads, no sockets, in a
process of its own (so that one flood's memory is not another's), twice: once for the
CPU time (``time.process_time`` around the feeding only), once under ``tracemalloc``
for the memory the connection still holds afterwards (``retained``) and the most it
held on the way (``peak``).  The first run also reports the longest single read
(wall time): how long the loop, and every other network on it, waited at most.  The
bytes of the flood are made before either measurement starts, and the events of each
read are dropped at once, as the bot does.

Floods:

names
    1,000,000 ``353`` (NAMES) entries with ``userhost-in-names`` masks, in one channel.
names-spread
    1,000,000 such entries spread over 1,000 channels we are in.
joins
    100,000 ``JOIN`` lines (``extended-join``) of distinct users into one channel.
self-joins
    100,000 ``JOIN`` lines of our own nick into distinct channels.
isupport
    1,200,000 ``005`` tokens, all distinct.
cap-ls
    1,200,000 ``CAP LS`` entries in a multi-line listing, before registration.
sasl
    8 MB of ``AUTHENTICATE`` chunks of 400 bytes during a PLAIN exchange.
casemap
    200 ``005`` lines flipping CASEMAPPING between ``ascii`` and ``rfc1459``, with
    50,000 members tracked (in 1,000 channels, set up before the measurement).
commands
    1,000,000 distinct unknown commands with a raw filter set (as ``IRCClient`` does).
overlong
    10,000 lines of 600 bytes: how many warnings reach the log (item 7).
scram
    one SCRAM-SHA-256 server-first message asking for 1,000,000 iterations: the CPU
    time of handling it (item 6).

Run::

    .venv/bin/python bench/bench_irc_floods.py                 # every flood
    .venv/bin/python bench/bench_irc_floods.py --only sasl,scram
    .venv/bin/python bench/bench_irc_floods.py --tree /tmp/before   # another checkout

``--tree`` imports ``logbot`` from that folder instead (``git archive HEAD logbot |
tar -x -C /tmp/before`` gives the committed code, to compare with a change).
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

CHUNK = 65536
FLOODS = (
    "names",
    "names-spread",
    "joins",
    "self-joins",
    "isupport",
    "cap-ls",
    "sasl",
    "casemap",
    "commands",
    "overlong",
    "scram",
)


def _lines(lines: list[str]) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode()


def _registered(**kwargs: Any) -> Any:
    from logbot.irc.core import IRCConnection
    from logbot.irc.flood import FloodControl

    conn = IRCConnection("bot", flood=FloodControl(enabled=False), **kwargs)
    conn.connection_made(0.0)
    conn.receive_data(
        _lines(
            [
                ":srv CAP * LS :multi-prefix userhost-in-names extended-join",
                ":srv CAP * ACK :multi-prefix userhost-in-names extended-join",
                ":srv 001 bot :Welcome bot!~b@bot.host",
                ":srv 005 bot PREFIX=(ov)@+ CHANTYPES=# CASEMAPPING=ascii :are supported",
                ":srv 376 bot :End of MOTD",
            ]
        ),
        0.0,
    )
    conn.data_to_send(0.0)
    return conn


def _names_lines(entries: int, channels: list[str]) -> list[str]:
    """353 lines of about 500 bytes, the entries dealt to ``channels`` in turn."""
    out: list[str] = []
    per_line = 12  # "+n0000000!u0000000@h0000000.example.net " is 40 bytes
    n = 0
    line_no = 0
    while n < entries:
        channel = channels[line_no % len(channels)]
        names = [
            f"+n{i:07d}!u{i:07d}@h{i:07d}.example.net" for i in range(n, min(n + per_line, entries))
        ]
        out.append(f":srv 353 bot = {channel} :" + " ".join(names))
        n += len(names)
        line_no += 1
    return out


def setup(name: str) -> tuple[Any, bytes, Callable[[], Any] | None]:
    """The connection, the flood's bytes, and (for ``scram``) the step to time."""
    if name in ("names", "names-spread"):
        count = 1 if name == "names" else 1000
        channels = [f"#c{i}" for i in range(count)]
        conn = _registered()
        conn.receive_data(_lines([f":bot!~b@bot.host JOIN {c}" for c in channels]), 0.0)
        return conn, _lines(_names_lines(1_000_000, channels)), None
    if name == "joins":
        conn = _registered()
        conn.receive_data(_lines([":bot!~b@bot.host JOIN #big"]), 0.0)
        flood = [
            f":n{i:07d}!u{i:07d}@h{i:07d}.example.net JOIN #big acct{i} :Real Name {i}"
            for i in range(100_000)
        ]
        return conn, _lines(flood), None
    if name == "self-joins":
        conn = _registered()
        return conn, _lines([f":bot!~b@bot.host JOIN #chan{i:07d}" for i in range(100_000)]), None
    if name == "isupport":
        conn = _registered()
        per_line = 40
        flood = [
            ":srv 005 bot "
            + " ".join(f"T{i:07d}=v" for i in range(n, n + per_line))
            + " :are supported"
            for n in range(0, 1_200_000, per_line)
        ]
        return conn, _lines(flood), None
    if name == "cap-ls":
        from logbot.irc.core import IRCConnection
        from logbot.irc.flood import FloodControl

        conn = IRCConnection("bot", flood=FloodControl(enabled=False))
        conn.connection_made(0.0)
        conn.data_to_send(0.0)
        per_line = 30  # "cap0000000=x " is 13 bytes: 407 in all
        flood = [
            ":srv CAP * LS * :" + " ".join(f"cap{i:07d}=x" for i in range(n, n + per_line))
            for n in range(0, 1_200_000, per_line)
        ]
        flood.append(":srv CAP * LS :server-time")
        return conn, _lines(flood), None
    if name == "sasl":
        from logbot.irc.core import IRCConnection
        from logbot.irc.flood import FloodControl
        from logbot.irc.sasl import SaslConfig, Secret

        config = SaslConfig("bot", Secret("pw"), ("PLAIN",))
        conn = IRCConnection("bot", sasl=config, flood=FloodControl(enabled=False))
        conn.connection_made(0.0)
        conn.receive_data(_lines([":srv CAP * LS :sasl", ":srv CAP * ACK :sasl"]), 0.0)
        conn.data_to_send(0.0)
        chunk = "A" * 400
        return conn, _lines([f"AUTHENTICATE {chunk}"] * 20_000), None
    if name == "casemap":
        channels = [f"#c{i}" for i in range(1000)]
        conn = _registered()
        conn.receive_data(_lines([f":bot!~b@bot.host JOIN {c}" for c in channels]), 0.0)
        feed(conn, _lines(_names_lines(49_000, channels)))
        flood = [
            f":srv 005 bot CASEMAPPING={('ascii', 'rfc1459')[i % 2]} :are supported"
            for i in range(200)
        ]
        return conn, _lines(flood), None
    if name == "commands":
        conn = _registered()
        conn.set_raw_filter(lambda command: command == "NICK")
        return conn, _lines([f":srv X{i:07d} a b" for i in range(1_000_000)]), None
    if name == "overlong":
        conn = _registered()
        return conn, _lines([":srv NOTICE bot :" + "x" * 600] * 10_000), None
    if name == "scram":
        from logbot.irc.message import Message
        from logbot.irc.sasl import SaslConfig, SaslSession, Secret

        config = SaslConfig("bot", Secret("pw"), ("SCRAM-SHA-256",))
        session = SaslSession(config, None, scram_nonce="abc")
        session.start(0.0)
        session.handle(Message("AUTHENTICATE", ("+",)), 0.0)
        salt = base64.b64encode(b"salt").decode()
        first = base64.b64encode(f"r=abcdef,s={salt},i=1000000".encode()).decode()

        def step() -> Any:
            return session.handle(Message("AUTHENTICATE", (first,)), 0.0)

        return session, b"", step
    raise SystemExit(f"unknown flood {name!r}")


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def feed(conn: Any, data: bytes) -> float:
    """Feed ``data`` in reads of CHUNK bytes; the longest read, in seconds (how long
    the loop, and every other network on it, waited at most)."""
    longest = 0.0
    clock = time.perf_counter
    for i in range(0, len(data), CHUNK):
        began = clock()
        conn.receive_data(data[i : i + CHUNK], 1.0)
        longest = max(longest, clock() - began)
    return longest


def run_one(name: str, mode: str) -> dict[str, Any]:
    counter = _Count()
    logging.getLogger().addHandler(counter)
    logging.getLogger().setLevel(logging.WARNING)
    conn, data, step = setup(name)
    result: dict[str, Any] = {"flood": name, "mode": mode}
    if mode == "mem":
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        step() if step is not None else feed(conn, data)
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["retained_mib"] = (current - base) / 2**20
        result["peak_mib"] = (peak - base) / 2**20
    else:
        began, wall = time.process_time(), time.perf_counter()
        longest = feed(conn, data) if step is None else (step(), time.perf_counter() - wall)[1]
        result["cpu_s"] = time.process_time() - began
        result["longest_read_ms"] = longest * 1000
        result["warnings"] = counter.count
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(FLOODS), help="comma-separated floods")
    parser.add_argument("--tree", help="import logbot from this folder")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="cpu", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        if args.tree:
            sys.path.insert(0, args.tree)
        print(json.dumps(run_one(args.one, args.mode)))
        return
    extra = ["--tree", args.tree] if args.tree else []
    here = os.path.abspath(__file__)
    print(
        f"{'flood':<14}{'CPU s':>9}{'longest read ms':>17}{'retained MiB':>14}"
        f"{'peak MiB':>10}{'warnings':>10}"
    )
    for name in args.only.split(","):
        row: dict[str, Any] = {}
        for mode in ("cpu", "mem"):
            cmd = [sys.executable, here, "--one", name, "--mode", mode, *extra]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            row.update(json.loads(out.strip().splitlines()[-1]))
        print(
            f"{name:<14}{row['cpu_s']:>9.2f}{row['longest_read_ms']:>17.1f}"
            f"{row['retained_mib']:>14.1f}"
            f"{row['peak_mib']:>10.1f}{row['warnings']:>10}",
            flush=True,
        )


if __name__ == "__main__":
    main()
