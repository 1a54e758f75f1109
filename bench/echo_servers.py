"""Echo servers for the benchmarks: the same plain echo protocol on four event loops.

    python bench/echo_servers.py {logbot,asyncio,twisted,uvloop} [PORT]

Listens on 127.0.0.1:PORT (0, the default, picks a free port), prints ``LISTENING
<port>`` on standard output once it accepts connections, and serves until it is
killed (SIGTERM).  Each variant is the simplest echo each framework offers:

* ``logbot``:  a ``logbot.reactor.protocol.Protocol`` on ``Reactor("epoll")``;
* ``asyncio``: an ``asyncio.Protocol`` on the default event loop (``asyncio.run``;
  on Linux a ``SelectorEventLoop`` over epoll);
* ``twisted``: a ``twisted.internet.protocol.Protocol`` on Twisted's epoll reactor
  (Twisted is installed only in the benchmark's virtualenv, see README.md);
* ``uvloop``:  the same ``asyncio.Protocol`` on uvloop's loop (libuv, written in C;
  benchmark-only, like Twisted).

All of them listen with a backlog of 1024, so that opening 10,000-15,000 connections in a
burst measures the loop, not SYN retransmissions on a full accept queue.
"""

from __future__ import annotations

import resource
import sys
from collections.abc import Callable, Coroutine
from typing import Any

HOST = "127.0.0.1"
BACKLOG = 1024
NOFILE = 20000


def raise_nofile() -> None:
    """Raise the soft open-file limit towards NOFILE, within the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)
    if soft == resource.RLIM_INFINITY or soft >= want:
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def announce(port: int) -> None:
    sys.stdout.write(f"LISTENING {port}\n")
    sys.stdout.flush()


def serve_logbot(port: int) -> None:
    from logbot.reactor.loop import Reactor
    from logbot.reactor.protocol import Factory, Protocol

    class Echo(Protocol):
        def dataReceived(self, data: bytes) -> None:
            self.transport.write(data)

    reactor = Reactor("epoll")
    p = reactor.listenTCP(port, Factory.forProtocol(Echo), backlog=BACKLOG, interface=HOST)
    announce(p.getHost().port)
    reactor.run(installSignalHandlers=False)


def serve_asyncio(
    port: int, run: Callable[[Coroutine[Any, Any, None]], None] | None = None
) -> None:
    import asyncio

    class Echo(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            self.transport.write(data)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Echo, HOST, port, backlog=BACKLOG)
        announce(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()  # forever: the benchmark kills us

    (run or asyncio.run)(main())


def serve_twisted(port: int) -> None:
    from twisted.internet import epollreactor

    epollreactor.install()
    from twisted.internet import protocol, reactor

    class Echo(protocol.Protocol):
        def dataReceived(self, data: bytes) -> None:
            self.transport.write(data)

    p = reactor.listenTCP(port, protocol.Factory.forProtocol(Echo), backlog=BACKLOG, interface=HOST)
    announce(p.getHost().port)
    reactor.run(installSignalHandlers=False)


def serve_uvloop(port: int) -> None:
    """The asyncio protocol on uvloop's loop (libuv, C): the fastest loop Python has."""
    import uvloop

    serve_asyncio(port, uvloop.run)


SERVERS = {
    "logbot": serve_logbot,
    "asyncio": serve_asyncio,
    "twisted": serve_twisted,
    "uvloop": serve_uvloop,
}


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[1] not in SERVERS:
        sys.stderr.write(f"usage: {argv[0]} {{{','.join(SERVERS)}}} [PORT]\n")
        return 2
    raise_nofile()
    SERVERS[argv[1]](int(argv[2]) if len(argv) == 3 else 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
