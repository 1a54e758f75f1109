"""Two ``logbot run`` bots on one network, one PostgreSQL archive: each event once.

Real parts: an IRC server from Debian (InspIRCd, which tags lines with ``msgid`` and
``server-time``; ngIRCd, which does not, so the bots' copies are matched by content
within ``dedupe_window``), a PostgreSQL server (tests/pg), and the two bots as
processes, each starting its own ``logbot archive feed --follow``.  One of them is
killed (``kill -9``, its feed child with it) in the middle and started again: the
archive has every line once, the one bot's gap is covered by the other's presence.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from logbot.reactor.backends import available
from tests.e2e.botproc import REPO, BotProcess, wait_for_log
from tests.e2e.test_archive_run import children, get
from tests.integration.recording_bot import unique
from tests.ircd.peer import connect
from tests.ircd.servers import free_ports

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")

pytestmark = pytest.mark.parametrize("reactor", [available()[0]], indirect=True)


def _bot(tmp_path: Path, server: Any, name: str, chan: str, dsn: str) -> BotProcess:
    bot = BotProcess(tmp_path / name, server, unique(f"lb{name}"), [chan])
    bot.config["plugins"] = {"data_dir": str(tmp_path / name / "data"), "enabled": []}
    bot.config["archive"] = {
        "store": "postgres",
        "dsn": dsn,
        "instance": name,
        "interval": 0.1,
    }
    return bot


def _messages(dsn: str) -> list[str]:
    """The archive's messages, in time order (none before a feed made the tables)."""
    with psycopg.connect(dsn) as conn:
        if conn.execute("SELECT to_regclass('events') IS NULL").fetchone()[0]:
            return []
        rows = conn.execute(
            "SELECT text FROM events WHERE type = 'message' ORDER BY time_ms, id"
        ).fetchall()
    return [text for (text,) in rows]


def _markers(dsn: str) -> list[Any]:
    """Every bot's markers and its times (what decides a gap), for a failure's message."""
    with psycopg.connect(dsn) as conn:
        return [
            *conn.execute(
                "SELECT instance, type, time_ms, gap_from_ms FROM events WHERE marker"
                " ORDER BY time_ms"
            ).fetchall(),
            *conn.execute("SELECT * FROM instances").fetchall(),
        ]


def _fed(dsn: str, instance: str) -> int:
    with psycopg.connect(dsn) as conn:
        if conn.execute("SELECT to_regclass('sightings') IS NULL").fetchone()[0]:
            return 0
        return conn.execute(
            "SELECT count(*) FROM sightings s JOIN events e ON e.id = s.event_id"
            " WHERE s.instance = %s AND e.type = 'message'",
            (instance,),
        ).fetchone()[0]


def run_logbot(bot: BotProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """``logbot ARGS -c <bot's config>`` in the bot's folder."""
    return subprocess.run(
        [sys.executable, "-m", "logbot", *args, "-c", str(bot.config_path)],
        cwd=bot.workdir,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("server_name", ["inspircd", "fresh_ngircd"])
def test_two_bots_one_archive_each_line_once(
    server_name: str,
    request: pytest.FixtureRequest,
    pg_dsn: str,
    reactor: Any,
    run_until: Any,
    tmp_path: Path,
) -> None:
    server = request.getfixturevalue(server_name)
    chan = f"#r{unique('')}"
    a, b = _bot(tmp_path, server, "a", chan, pg_dsn), _bot(tmp_path, server, "b", chan, pg_dsn)
    peer = run_until(connect(reactor, server, unique("alice")))
    said: list[str] = []

    def say(count: int) -> None:
        for _ in range(count):
            said.append(f"line {len(said)} from alice")
            peer.send(f"PRIVMSG {chan} :{said[-1]}")

    def archive_has(count: int, what: str) -> None:
        run_until(
            wait_for_log(reactor, lambda: _messages(pg_dsn), lambda m: len(m) >= count, 20, what)
        )

    health, web = free_ports(2)
    # b's web view reads the shared database: the lines of both bots
    b.config["web"] = {"port": web, "publish": {"local": "*"}}
    try:
        a.start_seen_by(run_until, peer, [chan], args=("--health-port", str(health)))
        b.start(*())
        b.seen_joining(run_until, peer, chan)
        say(20)
        archive_has(20, "the first 20 lines in the archive")
        run_until(wait_for_log(reactor, lambda: _fed(pg_dsn, "b"), lambda n: n == 20, 20, "b's"))
        # a's /metrics has its feed's figures (from the status file its feed child writes)
        metrics = run_until(
            wait_for_log(
                reactor,
                lambda: get(health, "/metrics")[1],
                lambda text: "logbot_archive_database_up 1" in text,
                20,
                "a's feed in /metrics",
            )
        )
        assert "logbot_archive_backlog_bytes " in metrics

        # a dies without a word (kill -9 of the bot alone: its feed child follows it,
        # by PR_SET_PDEATHSIG, rather than live on as an orphan); b logs on alone
        assert a.proc is not None
        kids = list(children(a.proc.pid))
        assert len(kids) == 1 and "archive feed --follow" in children(a.proc.pid)[kids[0]]
        a.kill9()
        run_until(
            wait_for_log(
                reactor,
                lambda: [k for k in kids if Path(f"/proc/{k}/cmdline").exists()],
                lambda alive: not alive,
                10,
                "a's feed child gone with a",
            )
        )
        say(10)
        archive_has(30, "the lines b logged alone")

        a.start()
        a.seen_joining(run_until, peer, chan)
        say(10)
        archive_has(40, "the lines after a came back")
        run_until(wait_for_log(reactor, lambda: _fed(pg_dsn, "a"), lambda n: n == 30, 20, "a's"))
        run_until(wait_for_log(reactor, lambda: _fed(pg_dsn, "b"), lambda n: n == 40, 20, "b's"))

        assert _messages(pg_dsn) == said  # each once, in order
        jsonl_a = [r for r in a.jsonl(chan) if r["type"] == "message"]
        assert len(jsonl_a) == 30  # a's own files miss the 10 it was dead for
        assert any(r["type"] == "gap" for r in a.jsonl(chan))

        # The merged archive, read as the web view and the commands read it: b was
        # there all along, so a's gap is no gap.
        from logbot.archive.postgres.reads import PgArchive

        day = jsonl_a[0]["time"][:10]
        with PgArchive.connect(pg_dsn) as archive:
            lines = archive.day_lines("local", chan.lower(), day)
        assert [x.record["text"] for x in lines if x.record["type"] == "message"] == said
        shown = [x.record for x in lines if x.record["type"] == "gap"]
        own = [(r["type"], r["time"]) for r in a.jsonl(chan)]
        assert not shown, json.dumps([shown, _markers(pg_dsn), own])
        # b's web view (a child of b's logbot run, reading the database): the day page
        # has the lines a never saw, the search page finds one
        key = urllib.parse.quote(chan.lower(), safe="")
        status, page = get(web, f"/local/{key}/{day}")
        assert status == 200 and all(text in page for text in said), page[:500]
        status, page = get(web, "/search?q=line+25")
        assert status == 200 and said[25] in page
        assert b.proc is not None and any(
            "web --no-follow" in c for c in children(b.proc.pid).values()
        )
        found = run_logbot(a, "search", "--json", "line", "25")
        assert found.returncode == 0, found.stderr
        assert [json.loads(x)["text"] for x in found.stdout.splitlines()] == [said[25]]
        out = tmp_path / "handover"
        exported = run_logbot(a, "archive", "export", str(out), "--network", "local")
        assert exported.returncode == 0, exported.stderr
        handed = [
            json.loads(x)
            for f in sorted((out / "local" / chan.lower()).glob("*.jsonl"))
            for x in f.read_text().splitlines()
        ]
        assert [r["text"] for r in handed if r["type"] == "message"] == said
        assert a.terminate(15) == 0 and b.terminate(15) == 0
        for bot in (a, b):
            assert "Traceback" not in bot.stderr()
    finally:
        a.stop_quietly()
        b.stop_quietly()
        peer.abort()
