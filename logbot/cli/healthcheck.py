"""``logbot health``: ask a running bot's ``/healthz`` and say it in one line.

Made for a container's HEALTHCHECK: exit 0 when the bot answers 200 (every network
registered), 1 otherwise (503, another status, connection refused, timeout).  It
uses ``http.client`` directly, not ``urllib``: a proxy set in the environment
(``http_proxy``) must never stand between a health check and 127.0.0.1.  A bot that
listens on every address (``0.0.0.0``, ``::``) is asked on the loopback address.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

__all__ = ["MAX_BODY", "check", "connect_host", "summarize"]

MAX_BODY = 1024 * 1024  # bytes of /healthz read at most
_WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


def connect_host(host: str) -> str:
    """The address to ask for a listener on ``host``."""
    return _WILDCARDS.get(host, host)


def url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/healthz"


def check(host: str, port: int, timeout: float) -> tuple[int, str]:
    """``(exit status, one line)`` for the bot listening on ``host:port``."""
    host = connect_host(host)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/healthz", headers={"Accept": "application/json"})
        response = connection.getresponse()
        status, body = response.status, response.read(MAX_BODY)
    except (OSError, http.client.HTTPException) as e:
        why = getattr(e, "strerror", None) or str(e) or type(e).__name__
        if isinstance(e, TimeoutError):
            why = f"no answer within {timeout:g} s"
        return 1, f"unhealthy: cannot reach {url(host, port)}: {why}"
    finally:
        connection.close()
    try:
        report = json.loads(body)
    except ValueError:
        report = None
    return (0 if status == 200 else 1), summarize(status, report)


def summarize(status: int, report: Any) -> str:
    """One line from the status and the ``/healthz`` body (None if it was not JSON)."""
    networks = report.get("networks") if isinstance(report, dict) else None
    if not isinstance(networks, dict):
        word = "healthy" if status == 200 else "unhealthy"
        return f"{word}: HTTP {status} (not a logbot health report)"
    if status == 200:
        return "healthy: " + (", ".join(networks) or "no networks")
    down = []
    for name, state in networks.items():
        if not isinstance(state, dict) or state.get("registered") is True:
            continue
        why = str(state.get("state") or "not registered")
        if state.get("last_error"):
            why += f": {state['last_error']}"
        down.append(f"{name} ({why})")
    logs = report.get("logs")
    if isinstance(logs, dict) and logs.get("overdue"):
        channels = ", ".join(map(str, logs.get("channels") or ())) or "?"
        down.append(
            f"logs ({logs.get('pending')} lines unwritten for "
            f"{logs.get('pending_seconds')} s: {channels})"
        )
    return "unhealthy: " + ("; ".join(down) or f"HTTP {status}")
