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

Run: ``python bench/blaster_server.py --channels 1000 --users 20 --tags \\
--caps "server-time message-tags account-tag"``.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time

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


def serve(
    listener: socket.socket, count: int, users: int, caps: tuple[str, ...], tags: bool
) -> None:
    conn, _ = listener.accept()
    conn.settimeout(300)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    send = conn.sendall
    wanted = {channel_name(i): i for i in range(count)}
    joined: set[str] = set()
    reg = Registration(
        send,
        caps,
        f"CASEMAPPING=rfc1459 CHANTYPES=# PREFIX=(ov)@+ CHANLIMIT=#:{max(count, 100)}"
        " NETWORK=Blaster",
    )
    done = False
    for line in _lines(conn, bytearray()):
        words = line.split(" ")
        command = words[0].upper()
        if reg.handle(words):
            pass
        elif command == "PONG" and "mem-done" in line and not done:
            done = True
            event("done")
        elif command == "QUIT":
            send(b"ERROR :Closing link (quit)\r\n")
            break
        elif command == "JOIN" and reg.registered and len(words) > 1:
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
                event("joined", channels=count)
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
    args = parser.parse_args()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(60)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    serve(listener, args.channels, args.users, tuple(args.caps.split()), args.tags)
    listener.close()
    sys.exit(0)


if __name__ == "__main__":
    main()
