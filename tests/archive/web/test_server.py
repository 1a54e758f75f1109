"""The web listener over real sockets on 127.0.0.1, and ``logbot web`` as a child process."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from logbot.archive.web.html import CSP
from logbot.archive.web.server import WebListenError, WebServer, serve
from logbot.reactor.loop import Reactor
from tests.archive.web.fake_index import FakeIndex
from tests.archive.web.helpers import options, record, write_log

WAIT = 10.0  # seconds any one exchange may take at most


@pytest.fixture
def index() -> FakeIndex:
    index = FakeIndex()
    for i in range(3000):  # a body far larger than one socket write
        index.add(record(f"2026-03-01T10:{i // 60 % 60:02d}:{i % 60:02d}", f"line {i} " * 5))
    return index


@pytest.fixture
def server(index: FakeIndex) -> Iterator[WebServer]:
    reactor = Reactor()
    server = WebServer(reactor, options(), index, "127.0.0.1", 0)
    server.start()
    yield server
    server.stop()
    reactor.close()


def exchange(server: WebServer, request: bytes) -> bytes:
    """Send ``request``, turn the reactor until the server closes; the answer."""
    assert server.port is not None
    client = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
    client.setblocking(False)
    client.sendall(request)
    data = bytearray()
    deadline = time.monotonic() + WAIT
    try:
        while time.monotonic() < deadline:
            server.reactor.iterate(0.01)
            try:
                chunk = client.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                return bytes(data)
            data += chunk
    finally:
        client.close()
    raise AssertionError(f"no complete answer within {WAIT} s: {bytes(data[:200])!r}")


def parse(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(": ")
        headers[name.lower()] = value
    return status, headers, body


def test_a_day_page_over_a_socket(server: WebServer) -> None:
    status, headers, body = parse(
        exchange(server, b"GET /demo/%23demo/2026-03-01 HTTP/1.1\r\nHost: x\r\n\r\n")
    )
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-security-policy"] == CSP
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body) > 300_000
    assert body.count(b'<div class="l msg" id="L') == 3000


def test_head_has_the_length_and_no_body(server: WebServer) -> None:
    get = parse(exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
    head = parse(exchange(server, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert head[0] == "HTTP/1.1 200 OK" and head[2] == b""
    assert head[1]["content-length"] == get[1]["content-length"] == str(len(get[2]))


def test_the_http_layers_own_errors_carry_the_headers(server: WebServer) -> None:
    status, headers, _ = parse(exchange(server, b"NOT HTTP\r\n\r\n"))
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    status, headers, _ = parse(exchange(server, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n"))
    assert status.startswith("HTTP/1.1 431") and headers["content-security-policy"] == CSP


def test_a_taken_port_is_a_clear_error(server: WebServer, index: FakeIndex) -> None:
    assert server.port is not None
    other = WebServer(server.reactor, options(), index, "127.0.0.1", server.port)
    with pytest.raises(WebListenError, match=rf"cannot listen on 127.0.0.1:{server.port}: "):
        other.start()
    said: list[str] = []
    status = serve(server.reactor, options(), index, "127.0.0.1", server.port, said.append)
    assert status == 2 and len(said) == 1 and said[0].startswith("logbot web: cannot listen")


# -- as a child process ----------------------------------------------------------------------


def write_config(tmp_path: Path, web: dict[str, object] | None) -> Path:
    data: dict[str, object] = {
        "logging": {"root": str(tmp_path / "logs")},
        "networks": [{"name": "demo", "servers": ["127.0.0.1"], "nick": "logbot"}],
    }
    if web is not None:
        data["web"] = web
        data["index"] = {"path": "index.sqlite3", "interval": 0.2}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_logbot_web_needs_a_web_section(tmp_path: Path) -> None:
    config = write_config(tmp_path, None)
    done = subprocess.run(
        [sys.executable, "-m", "logbot", "web", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"logbot web: {config} has no 'web' section: add one (see config.yaml) "
        "to say what to publish"
    )


def test_logbot_web_refuses_a_bad_config(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"publish": {"nonet": "*"}})
    done = subprocess.run(
        [sys.executable, "-m", "logbot", "web", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "web.publish.nonet: not a network of this config" in done.stderr


def start_web(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    """``logbot web`` on the config in ``tmp_path`` and its port, from its one line."""
    child = subprocess.Popen(
        [sys.executable, "-m", "logbot", "--log-level", "warning", "web", *args],
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert child.stderr is not None
    line = child.stderr.readline().strip()
    found = re.fullmatch(
        r"logbot web: serving http://127\.0\.0\.1:(\d+)/ \(1 channel published\)", line
    )
    if found is None:
        child.kill()
        child.wait()
        raise AssertionError(f"logbot web said {line!r}")
    return child, int(found.group(1))


def fetch(port: int, target: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as client:
        client.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    return answer


def test_logbot_web_serves_says_where_and_stops_cleanly(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"publish": {"demo": "*"}})
    write_log(
        tmp_path / "logs",
        [record("2026-03-01T10:00:00"), record("2026-03-01T10:00:01", "private", channel="alice")],
    )
    child, port = start_web(tmp_path, "-c", str(config), "--port", "0")
    try:
        answer = fetch(port, "/demo/%23demo/")
        assert answer.startswith(b"HTTP/1.1 200 OK") and b"March 2026" in answer
        assert fetch(port, "/demo/alice/").startswith(b"HTTP/1.1 404")
        # a second one on the same port: exit 2, one line
        taken = subprocess.run(
            [sys.executable, "-m", "logbot", "web", "-c", str(config), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert taken.returncode == 2
        assert taken.stderr.splitlines() == [
            f"logbot web: cannot listen on 127.0.0.1:{port}: Address already in use"
        ]
        child.terminate()
        assert child.wait(timeout=WAIT) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert (tmp_path / "index.sqlite3").is_file()  # index.path, relative to the folder


def test_logbot_web_reads_the_index_it_is_given(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"publish": {"demo": ["#demo"]}})
    write_log(tmp_path / "logs", [record("2026-03-01T10:00:00", "found it")])
    child, port = start_web(tmp_path, "-c", str(config), "--port", "0", "--index", "other.db")
    try:
        assert b"found it" in fetch(port, "/search?q=found")
    finally:
        child.terminate()
        assert child.wait(timeout=WAIT) == 0
    assert (tmp_path / "other.db").is_file() and not (tmp_path / "index.sqlite3").exists()


@pytest.mark.parametrize(
    "query",
    [
        '"unclosed',
        "*",
        "a*b*c* OR NOT AND NEAR(x)",
        "%22%22%22",
        "(",
        "col:umn",
        "+".join(f"w{i}" for i in range(40)),
        "%E2%80%AE",
        "x&nick=%5C&chan=%27",
    ],
)
def test_odd_searches_on_the_real_index_are_never_a_500(tmp_path: Path, query: str) -> None:
    from logbot.archive.index import open_index
    from tests.archive.web.helpers import app, get

    write_log(tmp_path / "logs", [record("2026-03-01T10:00:00", "a b c hello")])
    index = open_index(tmp_path / "index.sqlite3", tmp_path / "logs")
    try:
        response = get(app(index), f"/search?q={query}")  # type: ignore[arg-type]
        assert response.status in (200, 400), response.body[:300]
        if response.status == 400:
            assert b'<p class="note" role="alert">Cannot search for that: ' in response.body
    finally:
        index.close()


def test_idle_clients_cannot_take_the_listener(server: WebServer) -> None:
    """The health listener's limits hold for the web view: an address with 4
    connections waiting for the rest of their request has its next ones closed
    unanswered, and once they are gone a request is answered again."""
    assert server.port is not None
    factory = server.factory
    assert (factory.max_per_client, factory.max_connections) == (4, 32)
    # Slow clients: each sends half a request head (a silent one would not even be
    # handed over by the kernel yet: TCP_DEFER_ACCEPT).
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
    for s in idle:
        s.sendall(b"GET / HTTP/1.1\r\n")
    try:
        for _ in range(20):
            server.reactor.iterate(0.01)
        assert len(factory.clients.get("127.0.0.1", {})) == 4
        refused = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
        refused.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        deadline = time.monotonic() + WAIT
        refused.setblocking(False)
        while time.monotonic() < deadline:
            server.reactor.iterate(0.01)
            try:
                chunk = refused.recv(4096)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
        refused.close()
        assert got == b"" and factory.refused >= 1  # closed at once, unanswered
    finally:
        for s in idle:
            s.close()
    for _ in range(20):
        server.reactor.iterate(0.01)
    status, headers, _ = parse(exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert status.startswith("HTTP/1.1 200") and "content-security-policy" in headers
