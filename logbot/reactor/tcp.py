"""TCP in one import: the connection transport (:mod:`~logbot.reactor.tcp_connection`,
where the hot path and its reasons are), the client connector
(:mod:`~logbot.reactor.tcp_client`) and the listening port
(:mod:`~logbot.reactor.tcp_server`).

Why three modules and this one: the connector and the port both build on the
connection, so the connection sits below them and this module only gathers the names
the reactor and the endpoints use; nothing imports back up.
"""

from __future__ import annotations

from logbot.reactor.flow import HIGH_WATER, LOW_WATER
from logbot.reactor.tcp_client import Connector
from logbot.reactor.tcp_connection import (
    ACCEPTS_PER_EVENT,
    READ_SIZE,
    Connection,
    connect_error,
    make_address,
    start_connection,
)
from logbot.reactor.tcp_server import Port

__all__ = [
    "ACCEPTS_PER_EVENT",
    "HIGH_WATER",
    "LOW_WATER",
    "READ_SIZE",
    "Connection",
    "Connector",
    "Port",
    "connect_error",
    "make_address",
    "start_connection",
]
