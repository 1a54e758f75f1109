"""A local IRC "server" with many channels, for the bot's memory benchmark.

Listens on 127.0.0.1 (an ephemeral port, printed as ``PORT <n>``), accepts one client
and registers it (``CAP LS`` offering ``--caps``, ``ACK`` of what is requested, 001,
005, 376).  Every channel named in the client's ``JOIN`` lines (comma-separated lists)
that is one of ``#c0000`` .. ``#c<N-1>`` gets the JOIN echo, a topic (332, 333), a 353
naming the client and ``--users`` users of its own (distinct nicks in every channel:
20 users x 1,000 channels = 20,000 users), and 366.  Once all ``--channels`` are
joined it sends one PRIVMSG in each channel (with ``--tags``: ``@time``, ``msgid``,
``account``), then ``PING :mem-done``.  It keeps the connection until the client
sends ``QUIT`` (answered with ``ERROR``) or closes.

Progress goes to stdout as JSON lines with the wall time (``time.time()``):
``{"event": "registered"|"joined"|"done", "t": ...}``; ``done`` follows the client's
PONG to ``mem-done``, so every message before it was handled (logged).

The ``joined`` event also says how many JOIN lines the client sent (``join_lines``),
the most channels one of them named (``max_per_join``) and when the first came
(``first_join``, wall time).  It answers the client's ``PING <token>`` with
``PONG blaster <token>`` at any time, and keeps the connection open until ``QUIT``.

Options that change nothing unless given (``bench/bench_scale.py`` uses them):

* ``--report-pings``: a ``{"event": "ping", "t": ..., "token": ...}`` line for every
  PING the client sends (its keepalive and lag probe);
* ``--paced-rate R --paced-seconds S``: once ``done``, wait ``--paced-delay`` seconds,
  then send ``R * S`` PRIVMSG lines to ``#c0000`` (those of ``irc_blaster.py``:
  ``<userNN> N ...``, tagged with ``--tags``: ``@time`` the wall time of the send,
  ``msgid``, ``account``), R a second, each at its own deadline (start + n / R, by
  ``time.perf_counter``; a late line goes at once, the schedule does not slip).
  Every ``--ping-every``-th line (line 0 first) is followed in the same ``send()`` by
  ``PING :lat-<n>``; the time from just before that ``send()`` to the arrival of the
  client's PONG is the sample for line n.  Then ``PING :lat-end``; at its PONG one
  ``{"event": "latency", ...}`` line: ``samples_ms`` (with ``sample_lines``), the
  lines sent, how late the sends were (``late_ms``: p50, p99, max) and the span.

Run: ``python bench/blaster_server.py --channels 1000 --users 20 --tags \\
--caps "server-time message-tags account-tag"``.
"""

from __future__ import annotations

import argparse
import gc
import json
import select
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any

import irc_blaster
from irc_blaster import TAG_DAY, Registration, _lines


def channel_name(i: int) -> str:
    return f"#c{i:04d}"


def channel_users(i: int, users: int) -> list[str]:
    return [f"n{i:04d}u{k:02d}" for k in range(users)]


def event(name: str, **extra: object) -> None:
    print(json.dumps({"event": name, "t": time.time(), **extra}), flush=True)


def join_reply(me: str, nick: str, channel: str, users: list[str]) -> str:
    return (
        f":{me} JOIN {channel}\r\n"
        f":blaster 332 {nick} {channel} :The topic of {channel}, a channel for benchmarks\r\n"
        f":blaster 333 {nick} {channel} {users[0]}!~{users[0]}@op.example.net 1764237600\r\n"
        f":blaster 353 {nick} = {channel} :@{nick} {' '.join(users)}\r\n"
        f":blaster 366 {nick} {channel} :End of /NAMES list.\r\n"
    )


def message(i: int, users: list[str], tags: bool) -> str:
    nick = users[i % len(users)]
    line = (
        f":{nick}!~{nick}@host-{i}.example.net PRIVMSG {channel_name(i)} "
        f":{i} hello from {nick}, one line in every channel\r\n"
    )
    if tags:
        line = f"@time={TAG_DAY}T10:00:00.{i % 1000:03d}Z;msgid=m{i:019d};account={nick} {line}"
    return line


@dataclass
class Paced:
    """``--paced-*``: the latency phase after ``done`` (see the module docstring)."""

    rate: float
    seconds: float
    every: int = 10
    delay: float = 0.5
    tags: bool = True


def _now_tag() -> str:
    """The wall time now as a ``server-time`` tag value (UTC, milliseconds)."""
    ms = int(time.time() * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


def paced(
    conn: socket.socket, buf: bytearray, reg: Registration, spec: Paced, report_pings: bool
) -> dict[str, Any]:
    """Send the paced lines (reading the client's replies between them); the latency
    event's fields.  Complete lines read from ``buf`` are consumed, a partial one stays
    for the caller's line reader."""
    count = int(spec.rate * spec.seconds)
    channel = channel_name(0)
    bodies = irc_blaster.privmsg_lines(count, channel)
    period = 1.0 / spec.rate
    sent_at: dict[int | str, float] = {}
    arrived: dict[int | str, float] = {}
    late: list[float] = []
    clock = time.perf_counter

    def read() -> None:
        data = conn.recv(65536)
        now = clock()
        if not data:
            raise SystemExit("blaster: the client closed during the paced lines")
        buf.extend(data)
        while b"\n" in buf:
            raw, _, rest = bytes(buf).partition(b"\n")
            buf[:] = rest
            words = raw.rstrip(b"\r").decode("utf-8", "replace").split(" ")
            command = words[0].upper()
            if command == "PONG" and len(words) > 1:
                token = words[-1].lstrip(":")
                if token.startswith("lat-"):
                    key = token[4:]
                    arrived[int(key) if key.isdigit() else key] = now
            elif command == "PING":
                reg.handle(words)
                if report_pings:
                    event("ping", token=words[-1].lstrip(":"))

    gc.disable()
    try:
        start = clock() + spec.delay
        deadline = start
        n = 0
        while n < count:
            now = clock()
            if now < deadline:
                ready, _, _ = select.select([conn], [], [], deadline - now)
                if ready:
                    read()
                continue
            line = bodies[n]
            if spec.tags:
                nick = f"user{n % irc_blaster.NICKS:02d}"
                tag = f"@time={_now_tag()};msgid={irc_blaster.msgid(n)};account={nick} "
                line = tag.encode() + line
            if n % spec.every == 0:
                line += f"PING :lat-{n}\r\n".encode()
                sent = clock()
                sent_at[n] = sent
            else:
                sent = clock()
            conn.sendall(line)
            late.append(sent - deadline)
            n += 1
            deadline = start + n * period
        span = clock() - start
        sent_at["end"] = clock()
        conn.sendall(b"PING :lat-end\r\n")
        limit = sent_at["end"] + 60
        while "end" not in arrived and clock() < limit:
            ready, _, _ = select.select([conn], [], [], limit - clock())
            if ready:
                read()
    finally:
        gc.enable()
    keys = sorted(k for k in sent_at if isinstance(k, int))
    got = [k for k in keys if k in arrived]
    return {
        "lines": count,
        "rate": spec.rate,
        "span": span,
        "sample_lines": got,
        "samples_ms": [(arrived[k] - sent_at[k]) * 1000 for k in got],
        "missing": len(keys) - len(got),
        "end_ms": (arrived["end"] - sent_at["end"]) * 1000 if "end" in arrived else None,
        "late_ms": {
            "p50": _quantile(late, 0.5) * 1000,
            "p99": _quantile(late, 0.99) * 1000,
            "max": max(late) * 1000,
        },
    }


def serve(
    listener: socket.socket,
    count: int,
    users: int,
    caps: tuple[str, ...],
    tags: bool,
    report_pings: bool = False,
    pace: Paced | None = None,
) -> None:
    conn, _ = listener.accept()
    conn.settimeout(300)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    send = conn.sendall
    wanted = {channel_name(i): i for i in range(count)}
    joined: set[str] = set()
    join_lines = max_per_join = 0
    first_join: float | None = None
    reg = Registration(
        send,
        caps,
        f"CASEMAPPING=rfc1459 CHANTYPES=# PREFIX=(ov)@+ CHANLIMIT=#:{max(count, 100)}"
        " NETWORK=Blaster",
    )
    done = False
    buf = bytearray()
    for line in _lines(conn, buf):
        words = line.split(" ")
        command = words[0].upper()
        if reg.handle(words):
            if report_pings and command == "PING":
                event("ping", token=words[-1].lstrip(":"))
        elif command == "PONG" and "mem-done" in line and not done:
            done = True
            event("done")
            if pace is not None:
                event("latency", **paced(conn, buf, reg, pace, report_pings))
        elif command == "QUIT":
            send(b"ERROR :Closing link (quit)\r\n")
            break
        elif command == "JOIN" and reg.registered and len(words) > 1:
            join_lines += 1
            if first_join is None:
                first_join = time.time()
            max_per_join = max(max_per_join, len(words[1].split(",")))
            out = []
            for channel in words[1].split(","):
                if channel in wanted and channel not in joined:
                    joined.add(channel)
                    out.append(
                        join_reply(reg.me, reg.nick, channel, channel_users(wanted[channel], users))
                    )
            if out:
                send("".join(out).encode())
            if len(joined) == count and out:
                event(
                    "joined",
                    channels=count,
                    join_lines=join_lines,
                    max_per_join=max_per_join,
                    first_join=first_join,
                )
                send(
                    "".join(
                        message(i, channel_users(i, users), tags) for i in range(count)
                    ).encode()
                    + b"PING :mem-done\r\n"
                )
        if reg.welcome_if_ready():
            event("registered")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--users", type=int, default=20, help="users per channel")
    parser.add_argument("--caps", default="", help="capabilities to offer (space-separated)")
    parser.add_argument("--tags", action="store_true", help="tag every PRIVMSG")
    parser.add_argument(
        "--report-pings", action="store_true", help="an event line for every PING of the client"
    )
    parser.add_argument(
        "--paced-rate", type=float, default=0.0, help="after done: lines/s to #c0000 (0: none)"
    )
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--ping-every", type=int, default=10, help="a lat- PING after every Nth")
    parser.add_argument("--paced-delay", type=float, default=0.5, help="seconds after done")
    args = parser.parse_args()
    pace = (
        Paced(args.paced_rate, args.paced_seconds, args.ping_every, args.paced_delay, args.tags)
        if args.paced_rate > 0
        else None
    )
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(60)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    serve(
        listener,
        args.channels,
        args.users,
        tuple(args.caps.split()),
        args.tags,
        args.report_pings,
        pace,
    )
    listener.close()
    sys.exit(0)


if __name__ == "__main__":
    main()
