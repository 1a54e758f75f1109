"""``logbot health`` and the health options of ``logbot run``: exit statuses and lines."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from logbot.cli import main
from logbot.cli.healthcheck import check, connect_host, summarize

CONFIG = "networks:\n  - name: n\n    nick: x\n    servers: ['127.0.0.1:1']\n"


@pytest.fixture(autouse=True)
def _no_health_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOGBOT_HEALTH_PORT", "LOGBOT_HEALTH_HOST", "LOGBOT_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield int(s.getsockname()[1])


class Canned:
    """A listener on 127.0.0.1 that answers one request with ``response`` (a thread: the
    other end of the client under test, which blocks)."""

    def __init__(self, response: bytes) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = int(self.sock.getsockname()[1])
        self.request = b""
        self.thread = threading.Thread(target=self._serve, args=(response,), daemon=True)
        self.thread.start()

    def _serve(self, response: bytes) -> None:
        conn, _ = self.sock.accept()
        with conn:
            while b"\r\n\r\n" not in self.request:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                self.request += chunk
            conn.sendall(response)

    def close(self) -> None:
        self.thread.join(5)
        self.sock.close()


def http(status: str, body: dict[str, object] | bytes) -> bytes:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: "
        f"{len(data)}\r\nConnection: close\r\n\r\n"
    ).encode() + data


UP = {"registered": True, "connected": True, "state": "registered"}
DOWN = {
    "registered": False,
    "connected": False,
    "state": "disconnected",
    "last_error": "cannot connect to irc.example:6667: Connection refused",
}


def test_summaries() -> None:
    assert summarize(200, {"status": "ok", "networks": {"libera": UP, "oftc": UP}}) == (
        "healthy: libera, oftc"
    )
    assert summarize(503, {"networks": {"libera": UP, "oftc": DOWN}}) == (
        "unhealthy: oftc (disconnected: cannot connect to irc.example:6667: Connection refused)"
    )
    assert summarize(
        503,
        {
            "networks": {
                "a": {"registered": False, "state": "connecting"},
                "b": {"registered": False},
            }
        },
    ) == ("unhealthy: a (connecting); b (not registered)")
    assert summarize(404, None) == "unhealthy: HTTP 404 (not a logbot health report)"
    assert summarize(200, {"networks": {}}) == "healthy: no networks"
    assert connect_host("0.0.0.0") == "127.0.0.1" and connect_host("::") == "::1"
    assert connect_host("10.1.2.3") == "10.1.2.3"


@pytest.mark.parametrize(
    "response, status, line",
    [
        (http("200 OK", {"status": "ok", "networks": {"n": UP}}), 0, "healthy: n"),
        (
            http("503 Service Unavailable", {"status": "unhealthy", "networks": {"n": DOWN}}),
            1,
            "unhealthy: n (disconnected: cannot connect to irc.example:6667: Connection refused)",
        ),
        (
            http("404 Not Found", b"404 not found\n"),
            1,
            "unhealthy: HTTP 404 (not a logbot health report)",
        ),
    ],
)
def test_the_command_asks_healthz_and_exits_by_the_answer(
    response: bytes, status: int, line: str
) -> None:
    server = Canned(response)
    try:
        result = CliRunner().invoke(main, ["health", "--port", str(server.port)])
    finally:
        server.close()
    assert (result.exit_code, result.output) == (status, line + "\n")
    assert server.request.startswith(b"GET /healthz HTTP/1.1\r\n")


def test_nothing_listening_is_unhealthy(closed_port: int) -> None:
    result = CliRunner().invoke(main, ["health"], env={"LOGBOT_HEALTH_PORT": str(closed_port)})
    assert result.exit_code == 1
    assert result.output == (
        f"unhealthy: cannot reach http://127.0.0.1:{closed_port}/healthz: Connection refused\n"
    )


def test_no_answer_within_the_timeout_is_unhealthy(busy_port: int) -> None:
    # (a listener that never accepts nor answers: connected by the kernel, then silence)
    status, line = check("127.0.0.1", busy_port, timeout=0.2)
    assert status == 1
    assert (
        line == f"unhealthy: cannot reach http://127.0.0.1:{busy_port}/healthz: no answer "
        "within 0.2 s"
    )


def test_the_port_and_host_come_from_the_config_when_not_given(
    tmp_path: Path, closed_port: int
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG + f"health:\n  port: {closed_port}\n  host: 0.0.0.0\n")
    result = CliRunner().invoke(main, ["health", "-c", str(config)])
    assert result.exit_code == 1
    assert f"cannot reach http://127.0.0.1:{closed_port}/healthz" in result.output


def test_no_port_anywhere_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG)
    result = CliRunner().invoke(main, ["health", "-c", str(config)])
    assert result.exit_code == 2
    assert result.output == (
        "logbot: no health port: give --port, set LOGBOT_HEALTH_PORT or "
        f"set health.port in {config}\n"
    )
    missing = CliRunner().invoke(main, ["health", "-c", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "cannot read" in missing.output
    bad = CliRunner().invoke(main, ["health", "--port", "0"])
    assert bad.exit_code == 2


def test_run_exits_2_without_a_traceback_when_the_health_port_is_taken(
    tmp_path: Path, busy_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        CONFIG + f"logging:\n  root: {tmp_path / 'logs'}\n"
        f"plugins:\n  enabled: []\n  data_dir: {tmp_path / 'data'}\n"
    )
    with caplog.at_level(logging.INFO):
        result = CliRunner().invoke(
            main, ["run", "-c", str(config), "--health-port", str(busy_port)]
        )
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert (
        f"health: cannot listen on 127.0.0.1:{busy_port}: Address already in use; not starting"
    ) in caplog.text
    assert "Traceback" not in caplog.text + result.output


def test_run_refuses_a_bad_health_host(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "--health-host", "a b", "--health-port", "1"])
    assert result.exit_code == 2
    assert "expected an IP address or a host name" in result.output


def test_summarize_names_log_lines_unwritten_past_the_grace() -> None:
    logs = {
        "pending": 6,
        "pending_seconds": 31.5,
        "pending_grace": 30.0,
        "overdue": True,
        "channels": ["libera #a", "libera #b"],
    }
    report = {"status": "unhealthy", "unhealthy": ["logs"], "networks": {"libera": UP}}
    assert summarize(503, {**report, "logs": logs}) == (
        "unhealthy: logs (6 lines unwritten for 31.5 s: libera #a, libera #b)"
    )
    # Within the grace the lines are shown but are not why it is unhealthy.
    assert summarize(200, {"networks": {"libera": UP}, "logs": {**logs, "overdue": False}}) == (
        "healthy: libera"
    )
