"""A local IRC "server" that registers one client and blasts PRIVMSG lines at it.

Listens on 127.0.0.1 (an ephemeral port, printed as ``PORT <n>`` on stdout), accepts
one client, and speaks just enough IRC to register it:

* ``CAP LS`` -> ``CAP * LS :`` (no capabilities), waits for ``CAP END``;
* ``NICK`` + ``USER`` -> 001, 005 (CASEMAPPING=rfc1459, PREFIX, CHANTYPES), 376;
* ``JOIN #chan`` -> the JOIN echo, a 353 NAMES list of the blasting users, 366.

Then it sends ``--lines`` PRIVMSG lines to the channel in one ``sendall`` (the whole
buffer is built before the client connects), followed by ``PING :blaster-done``, and
waits for the client's ``PONG``.  The time from the first byte of the blast to that
PONG is the client's end-to-end time: the client handles lines in order, so its PONG
leaves only after every PRIVMSG before it was handled (logged and flushed).  It prints
one JSON line (``{"lines": ..., "seconds": ..., "rate": ...}``) and closes.

Options that change nothing unless given (``bench/bench_logbot.py`` uses them):

* ``--caps "server-time message-tags account-tag"``: offer these in ``CAP LS`` and
  ``ACK`` a ``CAP REQ`` of any of them (``NAK`` otherwise);
* ``--tags``: every PRIVMSG carries ``@time=...;msgid=...;account=<nick>``, the time
  ``--time-step-ms`` later than the line before (from today's 10:00:00.000Z);
* ``--hold``: after the PONG, print the result and keep the connection open until the
  client sends ``QUIT`` (answered with ``ERROR``) or closes, so the client can be
  checked and stopped while still connected.

Options for ``bench/bench_pg_feed.py`` (two bots on two blasters, one of them killed):

* ``--wait-go``: once the client has joined, print ``READY`` and wait for a line on
  stdin before the blast (so two blasters start their floods together);
* ``--reconnect``: if the client goes away before its PONG (``kill -9``), accept it
  again, register it, answer its JOIN, and send the rest: the lines from the first one
  the kernel had not wholly taken when the connection broke (those in the dead
  client's socket buffers are lost to it, as on a real network), then the PING.  The
  result then says ``reconnects`` and ``resumed_from`` (line numbers).

Run: ``python bench/irc_blaster.py --lines 200000 --channel '#bench'``.
"""

from __future__ import annotations

import argparse
import bisect
import datetime
import itertools
import json
import os
import random
import socket
import sys
import time
from typing import Any

NICKS = 50
WORDS = (  # noqa: SIM905  (a sentence reads better than a list of 35 strings)
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud "
    "exercitation ullamco laboris nisi aliquip ex ea commodo consequat"
).split()


def users(count: int = NICKS) -> list[tuple[str, str]]:
    """(nick, full source) of the blasting users."""
    return [(f"user{i:02d}", f"user{i:02d}!~u{i}@host-{i}.example.net") for i in range(count)]


def _tag_base_ms() -> int:
    """Where line 0's ``time`` tag falls, in Unix milliseconds: ``BENCH_TAG_BASE_MS``
    when set (the bench sets it once, so the blaster and the checks agree), else ten
    seconds before now, to the second.

    The stamps must fall within the bot's ``server_time_tolerance`` (a day) of its clock,
    or it logs its own time instead and the bench measures another path; and they must
    not be older than the plugins' ``STALE_AFTER`` (2 minutes), or every plugin skips
    the line as playback and the "default plugins" row measures no plugin at all (a
    fixed 10:00 of today did that to every run made after 10:02 UTC)."""
    env = os.environ.get("BENCH_TAG_BASE_MS")
    if env:
        return int(env)
    return (int(time.time()) - 10) * 1000


TAG_BASE_MS = _tag_base_ms()
#: The UTC day of line 0 (blaster_server.py's stamps).
TAG_DAY = datetime.datetime.fromtimestamp(TAG_BASE_MS / 1000, datetime.UTC).strftime("%Y-%m-%d")
_TAG_BASE = datetime.datetime.fromtimestamp(TAG_BASE_MS / 1000, datetime.UTC)


def tag_time(n: int, step_ms: int) -> str:
    """The ``time`` tag of line ``n``: ``TAG_BASE_MS`` plus ``n * step_ms``."""
    when = _TAG_BASE + datetime.timedelta(milliseconds=n * step_ms)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def msgid(n: int) -> str:
    return f"b{n:019d}"


def privmsg_lines(
    count: int, channel: str, seed: int = 1, tags: bool = False, time_step_ms: int = 1
) -> list[bytes]:
    """``count`` PRIVMSG lines from the users to ``channel``: 2-14 words each, a
    number in every line (each is unique), about 1 in 20 with a non-ASCII word.
    With ``tags``, each starts with ``@time=...;msgid=...;account=<nick>``."""
    rng = random.Random(seed)
    people = users()
    out = []
    for n in range(count):
        words = rng.choices(WORDS, k=rng.randint(2, 14))
        if n % 20 == 7:
            words.append("naïve café ✓")
        text = f"{n} " + " ".join(words)
        nick, source = people[n % len(people)]
        line = f":{source} PRIVMSG {channel} :{text}\r\n"
        if tags:
            line = f"@time={tag_time(n, time_step_ms)};msgid={msgid(n)};account={nick} {line}"
        out.append(line.encode())
    return out


def _lines(sock: socket.socket, buf: bytearray):
    """Yield received lines (str, without CRLF) until the peer closes."""
    while True:
        while b"\n" in buf:
            line, _, rest = bytes(buf).partition(b"\n")
            buf[:] = rest
            yield line.rstrip(b"\r").decode("utf-8", "replace")
        data = sock.recv(65536)
        if not data:
            return
        buf += data


class Registration:
    """The server's side of registration, as much as a benchmark client needs (shared with
    ``blaster_server.py``): CAP LS/REQ/END with ``caps``, NICK, USER and PING; then, once
    NICK and USER came and CAP is closed, 001, 005 (``isupport``) and 376."""

    def __init__(
        self,
        send: Any,
        caps: tuple[str, ...] = (),
        isupport: str = "CASEMAPPING=rfc1459 CHANTYPES=# PREFIX=(ov)@+ NETWORK=Blaster",
    ) -> None:
        self.send, self.caps, self.isupport = send, caps, isupport
        self.nick: str | None = None
        self.user: str | None = None
        self.cap_open = self.registered = False

    @property
    def me(self) -> str:
        return f"{self.nick}!~{self.user}@127.0.0.1"

    def handle(self, words: list[str]) -> bool:
        """Answer one line (split on spaces) if it is about registration; True if it was."""
        command = words[0].upper()
        send = self.send
        if command == "CAP" and len(words) > 1 and words[1].upper() == "LS":
            self.cap_open = True
            send(f":blaster CAP * LS :{' '.join(self.caps)}\r\n".encode())
        elif command == "CAP" and len(words) > 2 and words[1].upper() == "REQ":
            wanted = " ".join(words[2:]).lstrip(":")
            verdict = "ACK" if set(wanted.split()) <= set(self.caps) else "NAK"
            send(f":blaster CAP {self.nick or '*'} {verdict} :{wanted}\r\n".encode())
        elif command == "CAP" and len(words) > 1 and words[1].upper() == "END":
            self.cap_open = False
        elif command == "NICK":
            self.nick = words[1].lstrip(":")
        elif command == "USER":
            self.user = words[1]
        elif command == "PING":
            send(f":blaster PONG blaster {' '.join(words[1:])}\r\n".encode())
        else:
            return False
        return True

    def welcome_if_ready(self) -> bool:
        """Send the welcome once NICK and USER came and CAP is closed; True when sent."""
        if self.registered or not (self.nick and self.user) or self.cap_open:
            return False
        self.registered = True
        nick = self.nick
        self.send(
            f":blaster 001 {nick} :Welcome to the blaster {self.me}\r\n"
            f":blaster 005 {nick} {self.isupport} :are supported by this server\r\n"
            f":blaster 376 {nick} :End of MOTD\r\n".encode()
        )
        return True


def _join(conn: socket.socket, channel: str, caps: tuple[str, ...]) -> Any:
    """Register the client on ``conn`` and answer its JOIN; its line generator."""
    conn.settimeout(300)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    send = conn.sendall
    buf = bytearray()
    lines = _lines(conn, buf)
    reg = Registration(send, caps)
    for line in lines:
        words = line.split(" ")
        if not reg.handle(words) and words[0].upper() == "JOIN" and reg.registered:
            nick = reg.nick
            names = " ".join(n for n, _ in users())
            send(
                f":{reg.me} JOIN {channel}\r\n"
                f":blaster 353 {nick} = {channel} :@{nick} {names}\r\n"
                f":blaster 366 {nick} {channel} :End of /NAMES list.\r\n".encode()
            )
            break
        reg.welcome_if_ready()
    else:
        raise SystemExit("blaster: the client closed before it joined")
    return lines


def _wait_pong(lines: Any) -> bool:
    """Read until the PONG to ``blaster-done``; False if the client closed first."""
    return any(line.upper().startswith("PONG") and "blaster-done" in line for line in lines)


def _blast_resumable(
    listener: socket.socket,
    conn: socket.socket,
    lines: Any,
    channel: str,
    blast: bytes,
    caps: tuple[str, ...],
    ends: list[int],
) -> tuple[socket.socket, Any, float, list[int]]:
    """``--reconnect``: send ``blast`` and the PING, and wait for the PONG; when the
    client goes away first, accept it again and go on from the first line the kernel had
    not wholly taken.  (conn, lines, seconds to send, lines resumed from)."""
    view = memoryview(blast)
    offset = 0
    resumed: list[int] = []
    send_seconds = 0.0
    while True:
        t0 = time.perf_counter()
        try:
            while offset < len(blast):
                offset += conn.send(view[offset : offset + (1 << 20)])
            conn.sendall(b"PING :blaster-done\r\n")
            send_seconds += time.perf_counter() - t0
            if _wait_pong(lines):
                return conn, lines, send_seconds, resumed
        except OSError:
            pass
        conn.close()
        done = bisect.bisect_right(ends, offset)  # lines wholly passed to the kernel
        offset = ends[done - 1] if done else 0
        resumed.append(done)
        conn, _ = listener.accept()
        lines = _join(conn, channel, caps)
        time.sleep(0.2)


def serve(
    listener: socket.socket,
    channel: str,
    blast: bytes,
    count: int,
    caps: tuple[str, ...] = (),
    hold: bool = False,
    wait_go: bool = False,
    ends: list[int] | None = None,
) -> dict:
    """``ends``: the end offset of each line in ``blast``, for ``--reconnect``."""
    conn, _ = listener.accept()
    lines = _join(conn, channel, caps)
    time.sleep(0.2)  # let the client settle (its JOIN reply is handled)
    if wait_go:
        print("READY", flush=True)
        sys.stdin.readline()
    start = time.perf_counter()
    resumed: list[int] | None = None
    if ends is None:
        send = conn.sendall
        send(blast)
        send(b"PING :blaster-done\r\n")
        sent = time.perf_counter()
        if not _wait_pong(lines):
            raise SystemExit("blaster: the client closed before it answered the final PING")
        send_seconds = sent - start
    else:
        conn, lines, send_seconds, resumed = _blast_resumable(
            listener, conn, lines, channel, blast, caps, ends
        )
    send = conn.sendall
    end = time.perf_counter()
    seconds = end - start
    result = {
        "lines": count,
        "bytes": len(blast),
        "seconds": seconds,
        "rate": count / seconds,
        "send_seconds": send_seconds,
    }
    if resumed is not None:
        result["reconnects"] = len(resumed)
        result["resumed_from"] = resumed
    if hold:
        print(json.dumps(result), flush=True)
        for line in lines:
            if line.upper().startswith("QUIT"):
                send(b"ERROR :Closing link (quit)\r\n")
                break
            if line.upper().startswith("PING"):
                send(f":blaster PONG blaster {line.split(' ', 1)[-1]}\r\n".encode())
    conn.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--channel", default="#bench")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--caps", default="", help="capabilities to offer (space-separated)")
    parser.add_argument("--tags", action="store_true", help="tag every PRIVMSG")
    parser.add_argument("--time-step-ms", type=int, default=1)
    parser.add_argument(
        "--hold", action="store_true", help="after the PONG, print the result and wait for QUIT"
    )
    parser.add_argument(
        "--wait-go", action="store_true", help="after the JOIN, print READY, wait for stdin"
    )
    parser.add_argument(
        "--reconnect",
        action="store_true",
        help="accept the client again if it goes away, and send the rest",
    )
    args = parser.parse_args()
    chunks = privmsg_lines(args.lines, args.channel, tags=args.tags, time_step_ms=args.time_step_ms)
    blast = b"".join(chunks)
    ends = list(itertools.accumulate(len(c) for c in chunks)) if args.reconnect else None
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(1)
    listener.settimeout(60)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    result = serve(
        listener,
        args.channel,
        blast,
        args.lines,
        tuple(args.caps.split()),
        args.hold,
        args.wait_go,
        ends,
    )
    listener.close()
    if not args.hold:
        print(json.dumps(result), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
