"""The web view on the PostgreSQL archive: the front page, a day, a permalink, the
search, through WebApp.handle as a browser would ask."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from logbot.archive.postgres.reads import PgArchive
from logbot.archive.web.routes import WebApp
from tests.archive.postgres.rows import add_event, set_last_ms
from tests.archive.web.helpers import get, options, record, text


def _web(archive: PgArchive) -> WebApp:
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC).timestamp()
    return WebApp(options(publish={"demo": None}), archive, lambda: now)


def test_the_web_view_serves_the_archive(pg: Any, archive: PgArchive) -> None:
    for i in range(3):
        add_event(pg, record(f"2026-03-01T10:0{i}:00", f"line {i} of the café", nick=f"nick{i}"))
    add_event(pg, record("2026-03-02T10:00:00", "the next day"), instance="bot2")
    add_event(pg, record("2026-03-01T12:00:00", "not published", channel="alice"))
    web = _web(archive)

    front = get(web, "/")
    assert front.status == 200
    assert 'href="/demo/%23demo/"' in text(front) and "alice" not in text(front)

    calendar = get(web, "/demo/%23DEMO/")
    assert calendar.status == 301  # another spelling: to the key
    assert get(web, "/demo/%23demo/").status == 200

    day = get(web, "/demo/%23demo/2026-03-01")
    body = text(day)
    assert day.status == 200
    assert re.findall(r'id="L(\d+)"', body) == ["1", "2", "3"]
    assert 'href="#L2"' in body and "line 1 of the café" in body
    assert 'href="/demo/%23demo/2026-03-02"' in body  # the next day

    after = get(web, "/demo/%23demo/2026-03-01/after/2")
    data = json.loads(text(after))
    assert after.status == 200 and data["last"] == 3 and "line 2 of the café" in data["html"]
    assert "line 1 of" not in data["html"] and data["next"] == "/demo/%23demo/2026-03-02"

    found = get(web, "/search?q=cafe")
    assert found.status == 200
    assert text(found).count("of the café") == 3
    assert 'href="/demo/%23demo/2026-03-01#L2"' in text(found)
    assert "not published" not in text(get(web, "/search?q=published"))

    assert get(web, "/demo/%23demo/2026-03-09").status == 404
    assert get(web, "/search?q=" + "x" * 300).status == 400


def test_a_covered_gap_is_not_on_the_day_page(pg: Any, archive: PgArchive) -> None:
    for bot in ("bot1", "bot2"):
        add_event(pg, record("2026-03-01T09:00:00", "joined", type="connect", nick=None),
                  instance=bot)  # fmt: skip
        set_last_ms(pg, bot, record("2026-03-01T12:00:00")["time_ms"])
    gap = record("2026-03-01T10:05:00", "missed it all", type="gap", nick=None,
                 target="2026-03-01T10:00:00+00:00")  # fmt: skip
    add_event(pg, gap, instance="bot1")
    body = text(get(_web(archive), "/demo/%23demo/2026-03-01"))
    assert "missed it all" not in body and re.findall(r'id="L(\d+)"', body) == ["1", "2"]


def test_a_bad_search_is_a_page_that_says_so(pg: Any, archive: PgArchive) -> None:
    add_event(pg, record("2026-03-01T10:00:00", "hello"))
    response = get(_web(archive), "/search?q=" + "+".join(f"w{i}" for i in range(40)))
    assert response.status == 400 and "too many words" in text(response)


def test_a_database_that_went_away_is_a_503_then_the_pages_come_back(pg: Any, pg_dsn: str) -> None:
    """The web view outlives a database restart: while the database is gone a page is
    503 with Retry-After (logged, no traceback); the next request reconnects."""
    from logbot.archive.web.routes import RETRY_AFTER

    add_event(pg, record("2026-03-01T10:00:00", "still here"))
    with PgArchive.connect(pg_dsn) as archive:
        web = _web(archive)
        assert get(web, "/demo/%23demo/2026-03-01").status == 200
        pg.execute("SELECT pg_terminate_backend(%s)", (archive._conn.info.backend_pid,))
        gone = get(web, "/demo/%23demo/2026-03-01")
        assert gone.status == 503
        assert ("Retry-After", str(RETRY_AFTER)) in gone.headers
        assert "still here" not in text(gone) and "postgres" not in text(gone)
        back = get(web, "/demo/%23demo/2026-03-01")
        assert back.status == 200 and "still here" in text(back)
