"""The floor of ``bench_scale.py latency``: the least program that logs a line before it
answers a PING.

    python bench/latency_floor.py PORT CHANNEL LOGFILE [CAPS]

Connects to ``blaster_server.py`` on 127.0.0.1:PORT as a client does (``CAP LS 302``,
``NICK``, ``USER``; ``CAP REQ`` of ``CAPS``, the space-separated capabilities it asks
for, at the server's ``CAP LS``; ``CAP END`` at its ``ACK`` or ``NAK``; ``JOIN
CHANNEL`` at 001), then runs a plain ``select.epoll`` loop on the one socket: per
wake-up one ``recv``; of the complete lines received, each PRIVMSG becomes one text line
``HH:MM:SS <nick> text`` (the nick from the prefix, the text after the ``:``, the
clock read once per read), and all of them go to LOGFILE in one ``os.write`` (opened
``O_APPEND``); only after that write are the read's ``PING :x`` answered, with ``PONG
:x``, in one ``send``.  No logbot imports, no tags parsed, no buffering of a partial
send (a PONG always fits), no reconnection.  SIGTERM: ``QUIT``, then wait (at most 5 s)
for the server to close, exit 0.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import sys
import time


class Stop(Exception):
    pass


def on_term(signum: int, frame: object) -> None:
    raise Stop


def main(argv: list[str]) -> int:
    port, channel, logfile = int(argv[1]), argv[2], argv[3]
    caps = argv[4] if len(argv) > 4 else ""
    nick = "floorbot"
    os.makedirs(os.path.dirname(os.path.abspath(logfile)), exist_ok=True)
    log = os.open(logfile, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    signal.signal(signal.SIGTERM, on_term)
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    sock.send(f"CAP LS 302\r\nNICK {nick}\r\nUSER {nick} 0 * :latency floor\r\n".encode())
    ep = select.epoll()
    ep.register(sock.fileno(), select.EPOLLIN)
    poll, recv, send, write = ep.poll, sock.recv, sock.send, os.write
    buf = b""
    try:
        while True:
            poll()
            data = recv(65536)
            if not data:
                return 1  # the server closed before we quit
            buf += data
            *lines, buf = buf.split(b"\n")
            out: list[bytes] = []
            replies: list[bytes] = []
            clock = None
            for raw in lines:
                line = raw.rstrip(b"\r")
                if line[:1] == b"@":  # the tags: not parsed
                    line = line.partition(b" ")[2]
                words = line.split(b" ", 3)
                if len(words) == 4 and words[1] == b"PRIVMSG":
                    if clock is None:
                        clock = time.strftime("%H:%M:%S").encode()
                    who = words[0][1:].partition(b"!")[0]
                    text = words[3][1:] if words[3][:1] == b":" else words[3]
                    out.append(b"%s <%s> %s\n" % (clock, who, text))
                elif words[0] == b"PING":
                    replies.append(b"PONG " + line[5:] + b"\r\n")
                elif len(words) > 2 and words[1] == b"CAP":
                    verb = words[3].split(b" ", 1)[0] if len(words) > 3 else b""
                    if verb == b"LS" and caps:
                        replies.append(f"CAP REQ :{caps}\r\n".encode())
                    elif verb in (b"LS", b"ACK", b"NAK"):
                        replies.append(b"CAP END\r\n")
                elif len(words) > 1 and words[1] == b"001":
                    replies.append(f"JOIN {channel}\r\n".encode())
            if out:
                write(log, b"".join(out))
            if replies:
                send(b"".join(replies))
    except Stop:
        pass
    sock.setblocking(True)
    sock.settimeout(5)
    sock.sendall(b"QUIT :bye\r\n")
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()
    os.close(log)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
