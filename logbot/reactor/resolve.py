"""Name resolution that never blocks the loop.

``getaddrinfo`` blocks for as long as the resolver takes (seconds, on a bad network).
It runs in a short-lived daemon thread that hands its answer back with
``callFromThread``; the loop never waits.  IP literals are answered at once without a
thread.  Results keep getaddrinfo's order (RFC 6724: usually IPv6 first), and callers try
each address in turn.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import TYPE_CHECKING, Any, TypeAlias

from logbot.reactor import error

if TYPE_CHECKING:
    from logbot.reactor.deferred import Deferred

#: What a resolution gives: ``[(family, sockaddr), ...]``.
_Addresses: TypeAlias = list[tuple[int, tuple[Any, ...]]]


def literal(host: str, port: int) -> _Addresses | None:
    """``[(family, sockaddr)]`` when ``host`` is an IP literal, else None."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if ip.version == 6:
        return [(socket.AF_INET6, (str(ip), port, 0, 0))]
    return [(socket.AF_INET, (str(ip), port))]


def resolve(reactor: Any, host: str, port: int = 0, family: int = 0) -> Deferred[_Addresses]:
    """A Deferred that fires with ``[(family, sockaddr), ...]`` for ``host``.

    ``family`` restricts the answer (``socket.AF_INET`` for the TCP4 endpoints).
    Errbacks with ``error.DNSLookupError`` naming the host when nothing is found.
    """
    from logbot.reactor.defer import Deferred, fail, succeed

    found = literal(host, port)
    if found is not None:
        found = [a for a in found if not family or a[0] == family]
        if found:
            return succeed(found)
        return fail(error.DNSLookupError(host, "address family does not match"))

    d: Deferred[_Addresses] = Deferred()

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
        except (OSError, UnicodeError) as e:
            reactor.callFromThread(d.errback, error.DNSLookupError(host, str(e)))
            return
        seen = []
        for fam, _type, _proto, _name, addr in infos:
            if fam in (socket.AF_INET, socket.AF_INET6) and (fam, addr) not in seen:
                seen.append((fam, addr))
        if seen:
            reactor.callFromThread(d.callback, seen)
        else:
            reactor.callFromThread(d.errback, error.DNSLookupError(host, "no address"))

    threading.Thread(target=lookup, name=f"resolve {host}", daemon=True).start()
    return d
