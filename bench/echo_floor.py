"""The floor of a pure-Python echo server: epoll, recv, send and nothing else.

    python bench/echo_floor.py [PORT]

The least a Python program on the ``select`` module can do per round trip: one
``epoll.poll()`` per batch, then per ready socket one ``recv`` and one ``send`` of
what came, with no protocol object, no transport, no buffering of a partial send
(the load generator's 16-byte messages always fit); an error on ``recv`` or ``send``
(a reset) is taken as EOF, nothing else is handled.  It is not a server anyone should
run, only the bound below which no Python event loop's echo can go: ``run_all.py
--loops floor`` measures it beside the others.  Prints ``LISTENING <port>`` like
``echo_servers.py``.
"""

from __future__ import annotations

import select
import socket
import sys

from echo_servers import BACKLOG, HOST, announce, raise_nofile


def main(argv: list[str]) -> int:
    raise_nofile()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, int(argv[1]) if len(argv) > 1 else 0))
    listener.listen(BACKLOG)
    listener.setblocking(False)
    ep = select.epoll()
    ep.register(listener.fileno(), select.EPOLLIN)
    lfd = listener.fileno()
    socks: dict[int, socket.socket] = {}
    announce(listener.getsockname()[1])
    poll = ep.poll
    while True:
        for fd, _ev in poll():
            if fd == lfd:
                while True:
                    try:
                        conn, _ = listener.accept()
                    except BlockingIOError:
                        break
                    conn.setblocking(False)
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    socks[conn.fileno()] = conn
                    ep.register(conn.fileno(), select.EPOLLIN)
                continue
            sock = socks[fd]
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if data:
                try:
                    sock.send(data)
                except OSError:  # reset by the peer (the load generator exiting): as EOF
                    data = b""
            if not data:
                ep.unregister(fd)
                del socks[fd]
                sock.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
