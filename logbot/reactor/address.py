"""Socket addresses as values: what ``getPeer()``/``getHost()`` return.

Compatibility surface (Twisted's names): ``IPv4Address(type, host, port)`` and
``IPv6Address(type, host, port, flowInfo=0, scopeID=0)`` with the attributes
``type`` (``"TCP"`` or ``"UDP"``), ``host`` and ``port``.

They are frozen dataclasses, so they compare by value and can be dict keys or set
members (e.g. to count connections per peer); the TCP transport and the test fakes in
``testing`` build the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass

_TYPES = ("TCP", "UDP")


def _check_type(type_: str) -> None:
    if type_ not in _TYPES:
        raise ValueError(f"address type must be one of {_TYPES}, not {type_!r}")


@dataclass(frozen=True, slots=True)
class IPv4Address:
    """An IPv4 socket address; ``host`` is a dotted quad (or a name, before resolution)."""

    type: str
    host: str
    port: int

    def __post_init__(self) -> None:
        _check_type(self.type)


@dataclass(frozen=True, slots=True)
class IPv6Address:
    """An IPv6 socket address; ``host`` has no brackets (``"::1"``)."""

    type: str
    host: str
    port: int
    flowInfo: int = 0
    scopeID: int | str = 0

    def __post_init__(self) -> None:
        _check_type(self.type)
