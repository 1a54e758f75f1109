"""``logbot run`` through faults: a server restart, ``kill -9`` mid-flood, a log
directory made read-only, a bad config.  Real ngircd, real child processes, real files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from logbot.reactor import defer
from logbot.reactor.backends import available
from logbot.reactor.basic import LineReceiver
from logbot.reactor.protocol import Factory
from logbot.reactor.task import LoopingCall
from logbot.reactor.tcp import READ_SIZE
from tests.e2e.botproc import REPO, STAMP, BotProcess, wait_for_log
from tests.integration.recording_bot import unique
from tests.ircd.peer import connect
from tests.logs.torn import whole_lines_and_torn_tail

ONE_REACTOR = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)


def _sync(run_until: Any, peer: Any) -> None:
    """Returns once the server has handled every line ``peer`` sent before."""
    token = unique("sync")
    peer.send(f"PING :{token}")
    run_until(peer.expect(token))


@ONE_REACTOR
def test_server_restart_reconnects_rejoins_and_marks_the_gap(
    fresh_ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    server = fresh_ngircd
    chan, nick, alice = f"#r{unique('')}", unique("lb"), unique("alice")
    bot = BotProcess(tmp_path, server, nick, [chan])
    peer = run_until(connect(reactor, server, alice))
    try:
        bot.start_seen_by(run_until, peer, [chan])
        for i in range(20):
            peer.send(f"PRIVMSG {chan} :before {i}")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan), lambda t: "before 19" in t))
        server.kill()
        peer.abort()
        server.start()
        peer = run_until(connect(reactor, server, alice))
        peer.send(f"JOIN {chan}")
        bot.seen_joining(run_until, peer, chan)
        for i in range(20):
            peer.send(f"PRIVMSG {chan} :after {i}")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan), lambda t: "after 19" in t))
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    lines = bot.text_lines(chan)
    said = [line.split("> ", 1)[1] for line in lines if line.startswith(f"<{alice}>")]
    assert said == [f"before {i}" for i in range(20)] + [f"after {i}" for i in range(20)]
    kinds = [line.split(" ")[2] if line.startswith("*** logbot:") else None for line in lines]
    assert kinds.count("disconnected") == 2  # the kill, then the SIGTERM
    gap = [line for line in lines if line.startswith("*** logbot: reconnected to ")]
    assert len(gap) == 1 and "were not seen" in gap[0]
    order = [
        i
        for i, line in enumerate(lines)
        if "before 19" in line
        or "disconnected" in line
        or "reconnected" in line
        or "after 0" in line
    ]
    assert order == sorted(order)
    assert len([r for r in bot.jsonl(chan) if r["type"] == "gap"]) == 1


@ONE_REACTOR
def test_kill_9_during_a_flood_leaves_only_whole_lines(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    chan, nick, alice = f"#f{unique('')}", unique("lb"), unique("alice")
    bot = BotProcess(tmp_path, ngircd, nick, [chan])
    peer = run_until(connect(reactor, ngircd, alice))
    try:
        bot.start_seen_by(run_until, peer, [chan])
        filler = "x" * 180
        peer.send_raw(b"".join(f"PRIVMSG {chan} :{i} {filler}\r\n".encode() for i in range(50_000)))
        run_until(
            wait_for_log(
                reactor,
                lambda: bot.raw(chan).count("\n"),
                lambda n: n > 5_000,
                timeout=60,
                what="5,000 lines",
            )
        )
        bot.kill9()
        (text_file,) = bot.files(chan, ".log")
        (json_file,) = bot.files(chan, ".jsonl")
        text_lines, text_torn = whole_lines_and_torn_tail(text_file)
        json_lines, json_torn = whole_lines_and_torn_tail(json_file)
        # Started again, the bot cuts a torn tail off before it writes.
        peer.send(f"PART {chan}")
        bot.start_seen_by(run_until, peer, [chan])
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    numbers = []
    for line in text_lines:
        match = STAMP.match(line)
        assert match, f"torn line: {line!r}"
        body = match.group(2)
        if body.startswith(f"<{alice}> "):
            number, rest = body.split(" ", 2)[1:]
            assert rest == filler, f"torn line: {line!r}"
            numbers.append(int(number))
    assert numbers == list(range(len(numbers))) and len(numbers) > 5_000
    said = [json.loads(line) for line in json_lines]
    texts = [r["text"] for r in said if r["type"] == "message"]
    assert texts == [f"{i} {filler}" for i in range(len(texts))]
    # Each file holds a prefix of the messages, in whole lines; the lines of one read
    # (at most 64 KiB, so ~300 of these) are written file by file, and the kill may
    # fall between the text file's writes and the jsonl file's.
    assert abs(len(texts) - len(numbers)) <= READ_SIZE // len(filler)
    # After the restart: every line whole, the first run's lines kept as they were.
    for path, before, torn in (
        (text_file, text_lines, text_torn),
        (json_file, json_lines, json_torn),
    ):
        after = path.read_text()
        assert after.endswith("\n")
        assert after.split("\n")[: len(before)] == before
        assert ("removed a torn last line" in bot.stderr()) >= torn
    assert bot.text_lines(chan)[-1].startswith("*** logbot: disconnected")


@ONE_REACTOR
def test_sigterm_quits_and_exits_0(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    chan, nick, alice = f"#t{unique('')}", unique("lb"), unique("alice")
    bot = BotProcess(tmp_path, ngircd, nick, [chan], extra={"quit_message": "see you"})
    peer = run_until(connect(reactor, ngircd, alice))
    try:
        bot.start_seen_by(run_until, peer, [chan])
        assert bot.terminate(timeout=5) == 0
        assert "see you" in run_until(peer.expect(rf":{nick}!\S+ QUIT "))
    finally:
        bot.stop_quietly()
        peer.abort()
    assert bot.text_lines(chan)[-1].startswith("*** logbot: disconnected (")


def _set_writable(root: Path, writable: bool) -> None:
    """Make the log tree read-only (or writable again).  As root, file modes do not
    stop writes, so there the immutable attribute does it (``chattr``: root too gets
    EPERM); as anyone else, ``chmod``."""
    paths = [root] + [
        Path(folder) / name for folder, dirs, files in os.walk(root) for name in dirs + files
    ]
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        assert chattr, "as root this test needs chattr (e2fsprogs) to make files read-only"
        flag = "-i" if writable else "+i"
        ordered = paths if writable else list(reversed(paths))  # children first
        subprocess.run([chattr, flag, *map(str, ordered)], check=True, capture_output=True)
        return
    for path in paths:
        mode = (
            (0o755 if path.is_dir() else 0o644) if writable else (0o555 if path.is_dir() else 0o444)
        )
        os.chmod(path, mode)


@ONE_REACTOR
def test_read_only_log_directory_then_back(
    ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    chan1, chan2 = f"#w{unique('')}", f"#v{unique('')}"
    nick, alice = unique("lb"), unique("alice")
    # One open file at a time: switching channels reopens, so the read-only files are
    # noticed at once (an already open descriptor would go on writing, as it should).
    bot = BotProcess(
        tmp_path, ngircd, nick, [chan1, chan2], logging={"max_open_files": 1, "formats": ["text"]}
    )
    peer = run_until(connect(reactor, ngircd, alice))
    try:
        bot.start_seen_by(run_until, peer, [chan1, chan2])
        peer.send(f"PRIVMSG {chan1} :one")
        peer.send(f"PRIVMSG {chan2} :two")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan2), lambda t: "two" in t))
        _set_writable(bot.root, False)
        for i in range(10):
            peer.send(f"PRIVMSG {chan1} :while read-only {i}")
            peer.send(f"PRIVMSG {chan2} :while read-only {i}")
        try:
            run_until(
                wait_for_log(
                    reactor,
                    bot.stderr,
                    lambda t: re.search(r"Permission denied|not permitted", t),
                    what="a write error on stderr",
                )
            )
        finally:
            _set_writable(bot.root, True)
        peer.send(f"PRIVMSG {chan1} :after")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan1), lambda t: "after" in t, timeout=30))
        assert bot.proc is not None and bot.proc.poll() is None  # it survived
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        peer.abort()
    said1 = [line.split("> ", 1)[1] for line in bot.text_lines(chan1) if line.startswith("<")]
    said2 = [line.split("> ", 1)[1] for line in bot.text_lines(chan2) if line.startswith("<")]
    assert said1 == ["one"] + [f"while read-only {i}" for i in range(10)] + ["after"]
    assert said2 == ["two"] + [f"while read-only {i}" for i in range(10)]


def test_bad_config_exits_2_naming_the_key_and_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "networks:\n  - name: local\n    nick: lb\n    servers:\n"
        "      - host: 127.0.0.1\n        port: sixty\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-m", "logbot", "run", "-c", "bad.yaml"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "networks[0].servers[0].port: expected an integer (bad.yaml line 6)" in result.stderr
    assert "Traceback" not in result.stderr
    assert stat.S_ISREG(config.stat().st_mode)


class _StallingServer(Factory):
    """A server that answers ``CAP LS`` and never anything else that registration needs
    (no ``CAP ACK``, no 001), while it keeps the link busy with a NOTICE every 0.2 s, so
    the keepalive never fires: only a registration deadline gets the bot out."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor
        self.connections: list[dict[str, Any]] = []  # opened, closed, lines: per connection
        self.second: defer.Deferred[None] = defer.Deferred()

    def buildProtocol(self, addr: Any) -> Any:
        proto = _Stalling()
        proto.factory = self
        return proto


class _Stalling(LineReceiver):
    factory: _StallingServer

    def connectionMade(self) -> None:
        server = self.factory
        self.record: dict[str, Any] = {"opened": server.reactor.seconds(), "lines": []}
        server.connections.append(self.record)
        self.chatter = LoopingCall(self.sendLine, b":stall.test NOTICE * :*** still thinking")
        self.chatter.clock = server.reactor
        self.chatter.start(0.2)
        if len(server.connections) == 2:
            server.second.callback(None)

    def lineReceived(self, line: bytes) -> None:
        self.record["lines"].append(line.decode())
        if line.startswith(b"CAP LS"):
            self.sendLine(b":stall.test CAP * LS :multi-prefix")

    def connectionLost(self, reason: Any = None) -> None:
        self.record["closed"] = self.factory.reactor.seconds()
        if self.chatter.running:
            self.chatter.stop()


@ONE_REACTOR
def test_a_registration_that_never_completes_is_dropped_and_retried(
    reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    server = _StallingServer(reactor)
    port = reactor.listenTCP(0, server, interface="127.0.0.1")
    address = SimpleNamespace(host="127.0.0.1", port=port.getHost().port)
    bot = BotProcess(tmp_path, address, unique("lb"), ["#x"], extra={"registration_timeout": 1})
    try:
        bot.start()
        run_until(server.second, timeout=20)
        stderr = run_until(
            wait_for_log(
                reactor,
                bot.stderr,
                lambda t: "reconnecting to" in t,
                what="the retry on stderr",
            )
        )
        assert bot.terminate(5) == 0
    finally:
        bot.stop_quietly()
        port.stopListening()
    first = server.connections[0]
    assert first["lines"][:1] == ["CAP LS 302"] and "CAP REQ :multi-prefix" in first["lines"]
    assert not any(line.startswith("CAP END") for line in first["lines"])
    why = "registration not complete after 1 s (waiting for capability negotiation)"
    assert first["lines"][-1] == f"QUIT :{why}"
    # Dropped by the deadline (1 s), long before the keepalive (which the chatter defeats).
    # "opened" is when this process accepted the connection, which may come a few
    # microseconds after the bot's connect completed and its 1 s deadline started (CI
    # saw 0.9999915 s): the lower bound allows for that, not for a deadline cut short.
    assert 0.95 <= first["closed"] - first["opened"] < 5.0
    assert f"connection to 127.0.0.1:{address.port} lost: {why}" in stderr
    assert "Traceback" not in bot.stderr()


@ONE_REACTOR
def test_a_dead_link_s_gap_starts_at_the_last_moment_anything_was_received(
    fresh_ngircd: Any, reactor: Any, run_until: Any, tmp_path: Path
) -> None:
    """SIGSTOP: the TCP connection stays open and nothing more arrives.  The bot drops
    the link ``ping_timeout`` (3 s) after the last data, and the gap it logs after the
    reconnect starts at that last data, not at the drop: a stopped server relays
    nothing, so the last thing heard is the last line logged (or a PONG just after)."""
    server = fresh_ngircd
    chan, nick, alice = f"#d{unique('')}", unique("lb"), unique("alice")
    bot = BotProcess(tmp_path, server, nick, [chan], extra={"ping_interval": 1, "ping_timeout": 3})
    peer = run_until(connect(reactor, server, alice))
    try:
        bot.start_seen_by(run_until, peer, [chan])
        for i in range(5):
            peer.send(f"PRIVMSG {chan} :before {i}")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan), lambda t: "before 4" in t))
        stopped_at = time.time()
        server.pause()
        for i in range(5):
            peer.send(f"PRIVMSG {chan} :during {i}")  # relayed after SIGCONT: not to the bot
        run_until(
            wait_for_log(
                reactor, lambda: bot.raw(chan), lambda t: "dead link" in t, what="the drop"
            )
        )
        server.resume()
        bot.seen_joining(run_until, peer, chan)
        peer.send(f"PRIVMSG {chan} :after 0")
        run_until(wait_for_log(reactor, lambda: bot.raw(chan), lambda t: "after 0" in t))
        assert bot.terminate(5) == 0
    finally:
        if server.paused:
            server.resume()
        bot.stop_quietly()
        peer.abort()
    records = bot.jsonl(chan)

    def when(record: dict[str, Any], key: str = "time") -> float:
        return datetime.fromisoformat(record[key]).timestamp()

    (last,) = [r for r in records if r["type"] == "message" and r["text"] == "before 4"]
    (drop,) = [r for r in records if r["type"] == "disconnect" and "dead link" in r["text"]]
    (gap,) = [r for r in records if r["type"] == "gap"]
    start = when(gap, "target")  # whole seconds, as the text line says it
    assert int(when(last)) <= start <= stopped_at + 0.5, (last, gap, stopped_at)
    assert when(drop) - start >= 2.0, (drop, gap)  # the 3 s before the drop are in the gap
    assert "during" not in bot.raw(chan)
    said = [line for line in bot.text_lines(chan) if line.startswith(f"<{alice}>")]
    assert said == [f"<{alice}> before {i}" for i in range(5)] + [f"<{alice}> after 0"]
    assert "dead link: nothing received for 3.0 s (ping_timeout 3.0 s)" in bot.stderr()
