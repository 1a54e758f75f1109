"""The ``health`` section: where ``/healthz`` and ``/metrics`` are served, if anywhere.

Three keys: ``port`` (1..65535, or null for no listener: the default), ``host``
(the address to listen on, 127.0.0.1 by default: the endpoints tell anyone who can
reach them which networks the bot is on) and ``pending_grace`` (seconds log lines may
wait for an unwritable file before ``/healthz`` answers 503; 30 by default).
``logbot run --health-port`` and ``--health-host`` win over the first two.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from logbot.config.reader import Reader
from logbot.config.settings import HealthOptions
from logbot.config.values import Section, checked, to_int, to_number

__all__ = ["HEALTH_KEYS", "check_host", "read_health"]

HEALTH_KEYS = tuple(f.name for f in dataclasses.fields(HealthOptions))

_HOST = re.compile(r"[A-Za-z0-9._:%-]+")


def check_host(host: str) -> str | None:
    """None if ``host`` can be listened on as written (an IP address or a name)."""
    if _HOST.fullmatch(host) and len(host) <= 253:
        return None
    return "expected an IP address or a host name (such as 127.0.0.1, ::1 or 0.0.0.0)"


def read_health(reader: Reader, path: str, value: Any) -> HealthOptions:
    """Read the ``health`` section at ``path``; ``None`` (absent or empty): no listener."""
    defaults = HealthOptions()
    section = Section.open(reader, path, value, HEALTH_KEYS)
    if section is None:
        return defaults
    return HealthOptions(
        port=section.get("port", to_int(1, 65535), defaults.port, nullable=True),
        host=section.get("host", checked(check_host), defaults.host),
        pending_grace=section.get("pending_grace", to_number(ge=0), defaults.pending_grace),
    )
