"""The web view's routes on a fake index: publishing, pages, path tricks, auth, headers."""

from __future__ import annotations

import base64
import json
import re

import pytest

from logbot.archive.model import Hit, Query
from logbot.archive.web import urls
from logbot.archive.web.html import CSP
from logbot.archive.web.routes import FOLLOW_BATCH, WebApp
from logbot.archive.web.search import MAX_QUERY_CHARS
from logbot.health.http import Response
from tests.archive.web.fake_index import FakeIndex
from tests.archive.web.helpers import app, get, header, record, text

HOSTILE = "<script>window.pwned=1</script> <img src=x onerror=window.pwned=2>"


@pytest.fixture
def index() -> FakeIndex:
    index = FakeIndex()
    for day, count in (("2026-03-01", 3), ("2026-03-02", 4), ("2026-03-05", 2)):
        for i in range(count):
            index.add(record(f"{day}T10:0{i}:00", f"line {i} of {day}", nick=f"nick{i}"))
    index.add(record("2026-03-02T11:00:00", HOSTILE, nick="<b>evil</b>"))
    index.add(record("2026-03-02T12:00:00", "hidden words", channel="#Secret"))
    index.add(record("2026-03-02T12:30:00", "private words", channel="alice"))
    index.add(record("2026-03-02T13:00:00", "other words", network="other", channel="#demo"))
    return index


def everything(web: WebApp) -> list[Response]:
    return [get(web, t) for t in ("/", "/demo/", "/demo/%23demo/", "/demo/%23demo/2026-03-01")]


def test_every_response_has_the_security_headers(index: FakeIndex) -> None:
    web = app(index, user="u", password="p")
    targets = ["/", "/static/style.css", "/nope", "/demo/%23demo/2026-03-01", "/%zz", "/search"]
    auth = (("authorization", "Basic " + base64.b64encode(b"u:p").decode()),)
    responses = [get(web, t) for t in targets] + [get(web, t, headers=auth) for t in targets]
    responses.append(get(web, "/", method="POST", headers=auth))
    assert {r.status for r in responses} >= {200, 400, 401, 404, 405}
    for response in responses:
        assert header(response, "Content-Security-Policy") == CSP
        assert header(response, "X-Content-Type-Options") == "nosniff"
        assert header(response, "Referrer-Policy") == "no-referrer"


def test_no_page_has_inline_script_or_style(index: FakeIndex) -> None:
    web = app(index, now="2026-03-05T12:00:00+00:00")
    pages = everything(web) + [get(web, "/demo/%23demo/2026-03-05"), get(web, "/search?q=line")]
    for response in pages:
        body = text(response)
        assert response.status == 200
        assert re.findall(r"<script\b[^>]*>", body) == ['<script src="/static/app.js" defer>']
        assert "<style" not in body and " style=" not in body and " on" not in body.lower()
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body


# -- publishing ------------------------------------------------------------------------------


def test_the_front_page_lists_only_published_channels(index: FakeIndex) -> None:
    body = text(get(app(index, publish={"demo": ("#DEMO",)}), "/"))
    assert 'href="/demo/%23demo/"' in body
    assert "secret" not in body.lower() and "alice" not in body and "other" not in body
    row = re.search(r"<tr><td><a href=\"/demo/%23demo/\">.*?</tr>", body)
    assert row is not None
    assert re.findall(r'<td class="n">(\d+)</td>', row.group()) == ["3", "10"]  # days, lines
    assert 'href="/demo/%23demo/2026-03-05"' in row.group()  # the last day


def test_star_publishes_every_channel_but_never_a_private_log(index: FakeIndex) -> None:
    web = app(index, publish={"demo": None})
    body = text(get(web, "/"))
    assert 'href="/demo/%23secret/"' in body and 'href="/demo/%23demo/"' in body
    assert "alice" not in body
    assert get(web, "/demo/alice/").status == 404
    assert get(web, "/demo/alice/2026-03-02").status == 404


def test_hidden_things_are_the_same_404_as_missing_ones(index: FakeIndex) -> None:
    web = app(index, publish={"demo": ("#demo",)})
    missing = get(web, "/demo/%23nothing/")
    assert missing.status == 404
    for target in (
        "/demo/%23secret/",
        "/demo/%23secret/2026-03-02",
        "/demo/alice/",
        "/other/",
        "/other/%23demo/",
        "/other/%23demo/2026-03-02",
        "/nonet/%23demo/",
        "/demo/%23demo/2026-03-03",  # a day without logs
        "/demo/%23demo/2026-02-30",  # not a day
        "/demo/%23demo/2026-03-01/after/x",
        "/demo/%23demo/2026-03-01/extra",
    ):
        response = get(web, target)
        assert (response.status, response.body) == (404, missing.body), target


def test_nothing_is_published_without_publish(index: FakeIndex) -> None:
    web = app(index, publish={})
    assert "Nothing is published" in text(get(web, "/"))
    assert get(web, "/demo/%23demo/").status == 404


# -- path tricks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, statuses",
    [
        ("/../etc/passwd", {404}),
        ("/demo/../../etc/passwd", {404}),
        ("/demo/%2e%2e/%2e%2e/etc/passwd", {404}),
        ("/demo/%23demo/%2e%2e%2f%2e%2e%2fconfig.yaml", {404}),
        ("/static/../config.yaml", {404}),
        ("/static/%2e%2e%2fconfig.yaml", {404}),
        ("/static/style.css/..", {404}),
        ("/static/", {404}),
        ("/static/config.yaml", {404}),
        ("/static/STYLE.CSS", {404}),
        ("/demo/%23demo%00/", {400}),
        ("/demo%00/", {400}),
        ("/%zz", {400}),
        ("/demo/%23demo/%", {400}),
        ("/demo/%ff%fe/", {400}),
        ("/search?q=%", {400}),
        ("/search?q=a&q=b", {400}),
        ("/search?q", {400}),
        ("/search?" + "&".join(f"f{i}=1" for i in range(40)), {400}),
        ("/search?q=%00", {400}),
        ("//", {404}),
        ("/demo//", {404}),
    ],
)
def test_path_tricks_are_400_or_404_never_a_file(
    index: FakeIndex, target: str, statuses: set[int]
) -> None:
    response = get(app(index), target)
    assert response.status in statuses, (target, response.status)
    assert b"root:" not in response.body and b"networks:" not in response.body


def test_static_files_are_the_fixed_assets(index: FakeIndex) -> None:
    web = app(index)
    css, js = get(web, "/static/style.css"), get(web, "/static/app.js")
    assert (css.status, css.content_type) == (200, "text/css; charset=utf-8")
    assert (js.status, js.content_type) == (200, "text/javascript; charset=utf-8")
    assert b".l:target" in css.body and b"overflow-wrap: anywhere" in css.body
    assert b"insertAdjacentHTML" in js.body


def test_only_get_and_head(index: FakeIndex) -> None:
    web = app(index)
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        response = get(web, "/", method=method)
        assert response.status == 405 and header(response, "Allow") == "GET, HEAD"
    assert get(web, "/", method="HEAD").status == 200


def test_other_spellings_redirect_to_the_channel_key(index: FakeIndex) -> None:
    web = app(index)
    moved = get(web, "/demo/%23DEMO/2026-03-01")
    assert (moved.status, header(moved, "Location")) == (301, "/demo/%23demo/2026-03-01")
    moved = get(web, "/demo/%23Demo/2026-03-01?part=1&follow=1")
    assert header(moved, "Location") == "/demo/%23demo/2026-03-01?part=1&follow=1"
    moved = get(web, "/demo/%23demo")
    assert (moved.status, header(moved, "Location")) == (301, "/demo/%23demo/")
    moved = get(web, "/demo")
    assert (moved.status, header(moved, "Location")) == (301, "/demo/")


# -- auth ------------------------------------------------------------------------------------


def basic(user: str, password: str) -> tuple[tuple[str, str], ...]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return (("authorization", f"Basic {token}"),)


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def test_basic_auth(index: FakeIndex) -> None:
    web = app(index, user="reader", password="pässword")
    denied = get(web, "/")
    assert denied.status == 401
    assert header(denied, "WWW-Authenticate") == 'Basic realm="logbot", charset="UTF-8"'
    assert b"demo" not in denied.body
    assert get(web, "/static/style.css").status == 401
    assert get(web, "/", headers=basic("reader", "pässword")).status == 200
    for headers in (
        basic("reader", "wrong"),
        basic("other", "pässword"),
        basic("reader", ""),
        (("authorization", "Basic !!!notbase64"),),
        (("authorization", "Basic " + base64.b64encode(b"no colon").decode()),),
        (("authorization", "Basic"),),
        (("authorization", "Digest x"),),
        (("authorization", "Basic " + "A" * 10_000),),
        bearer("pässword"),
    ):
        assert get(web, "/", headers=headers).status == 401, headers


def test_token_auth(index: FakeIndex) -> None:
    web = app(index, token="t0ken")
    denied = get(web, "/demo/%23demo/")
    assert (denied.status, header(denied, "WWW-Authenticate")) == (401, 'Bearer realm="logbot"')
    assert get(web, "/", headers=bearer("t0ken")).status == 200
    assert get(web, "/", headers=(("authorization", "bearer  t0ken "),)).status == 200
    assert get(web, "/", headers=bearer("t0ken2")).status == 401
    assert get(web, "/", headers=basic("t0ken", "t0ken")).status == 401


def test_either_credential_when_both_are_set(index: FakeIndex) -> None:
    web = app(index, user="u", password="p", token="t")
    assert get(web, "/", headers=basic("u", "p")).status == 200
    assert get(web, "/", headers=bearer("t")).status == 200
    denied = get(web, "/")
    assert denied.status == 401
    assert [v for k, v in denied.headers if k == "WWW-Authenticate"] == [
        'Basic realm="logbot", charset="UTF-8"',
        'Bearer realm="logbot"',
    ]


# -- the pages -------------------------------------------------------------------------------


def test_the_calendar_links_the_days_with_logs(index: FakeIndex) -> None:
    body = text(get(app(index), "/demo/%23demo/"))
    assert "March 2026" in body
    links = re.findall(r'<a href="/demo/%23demo/(2026-03-\d\d)" title="(\d+) lines?">', body)
    assert links == [("2026-03-01", "3"), ("2026-03-02", "5"), ("2026-03-05", "2")]
    assert '<td class="off">3</td>' in body  # a day without logs is not a link


def test_the_day_page(index: FakeIndex) -> None:
    body = text(get(app(index), "/demo/%23demo/2026-03-02"))
    ids = re.findall(r'<div class="l [a-z]+" id="L(\d+)"><a class="t" href="#L(\d+)">', body)
    assert ids == [(str(n), str(n)) for n in range(1, 6)]
    assert '<a rel="prev" href="/demo/%23demo/2026-03-01">' in body
    assert '<a rel="next" href="/demo/%23demo/2026-03-05">' in body
    assert "data-follow" not in body  # not today
    # the hostile line is text
    assert "<script>window" not in body and "<img" not in body
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in body
    assert "&lt;b&gt;evil&lt;/b&gt;" in body


def test_the_first_and_last_days_have_one_neighbour(index: FakeIndex) -> None:
    first = text(get(app(index), "/demo/%23demo/2026-03-01"))
    assert 'rel="prev"' not in first and 'rel="next" href="/demo/%23demo/2026-03-02"' in first
    last = text(get(app(index), "/demo/%23demo/2026-03-05"))
    assert 'rel="next"' not in last and 'rel="prev" href="/demo/%23demo/2026-03-02"' in last


def test_today_is_live(index: FakeIndex) -> None:
    web = app(index, now="2026-03-05T23:59:00+00:00", follow_interval=2.5)
    body = text(get(web, "/demo/%23demo/2026-03-05"))
    assert 'data-follow="/demo/%23demo/2026-03-05/after/" data-last="2"' in body
    assert 'data-interval="2.5"' in body
    assert 'href="/demo/%23demo/2026-03-05?follow=1#end"' in body
    assert "http-equiv" not in body
    follow = text(get(web, "/demo/%23demo/2026-03-05?follow=1"))
    refresh = '<meta http-equiv="refresh" content="2; url=/demo/%23demo/2026-03-05?follow=1#end">'
    assert refresh in follow
    # the next day (in the records' time zone) it is not live any more
    later = app(index, now="2026-03-06T00:00:01+00:00")
    assert "data-follow" not in text(get(later, "/demo/%23demo/2026-03-05?follow=1"))


def test_today_is_in_the_records_time_zone() -> None:
    index = FakeIndex()
    index.add(record("2026-03-06T00:30:00.000+01:00", "after midnight in Paris"))
    web = app(index, now="2026-03-05T23:45:00+00:00")  # 00:45 in +01:00
    assert "data-follow" in text(get(web, "/demo/%23demo/2026-03-06"))


def test_a_long_day_comes_in_parts(index: FakeIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(urls, "PART_LINES", 2)
    web = app(index, now="2026-03-02T23:00:00+00:00")
    first = text(get(web, "/demo/%23demo/2026-03-02"))
    assert re.findall(r'id="L(\d+)"', first) == ["1", "2"]
    assert "part 1 of 3" in first and 'href="/demo/%23demo/2026-03-02?part=2">later' in first
    last = text(get(web, "/demo/%23demo/2026-03-02?part=3"))
    assert re.findall(r'id="L(\d+)"', last) == ["5"]
    assert 'href="/demo/%23demo/2026-03-02?part=2">← earlier' in last
    assert "later lines" not in last
    for bad in ("0", "4", "x", "-1", "99999999999"):
        assert get(web, f"/demo/%23demo/2026-03-02?part={bad}").status == 404
    # a permalink (a search hit) points into the part that holds its line
    found = hits(text(get(web, "/search?q=line+2+of&since=2026-03-02&until=2026-03-02")))
    assert found == ["/demo/%23demo/2026-03-02?part=2#L3"]


def test_lines_after(index: FakeIndex) -> None:
    web = app(index, now="2026-03-05T12:00:00+00:00")
    response = get(web, "/demo/%23demo/2026-03-05/after/1")
    assert response.content_type == "application/json"
    data = json.loads(response.body)
    assert data["last"] == 2 and data["next"] is None and data["more"] is False
    assert 'id="L2"' in data["html"] and 'id="L1"' not in data["html"]
    nothing = json.loads(get(web, "/demo/%23demo/2026-03-05/after/2").body)
    assert (nothing["html"], nothing["last"]) == ("", 2)
    older = json.loads(get(web, "/demo/%23demo/2026-03-01/after/3").body)
    assert older["next"] == "/demo/%23demo/2026-03-02"


def test_lines_after_come_in_batches() -> None:
    index = FakeIndex()
    for i in range(FOLLOW_BATCH + 5):
        index.add(record(f"2026-03-05T10:{i // 60 % 60:02d}:{i % 60:02d}", f"x{i}"))
    data = json.loads(get(app(index), "/demo/%23demo/2026-03-05/after/0").body)
    assert (data["last"], data["more"]) == (FOLLOW_BATCH, True)


# -- search ----------------------------------------------------------------------------------


def hits(body: str) -> list[str]:
    return re.findall(r'<div class="where"><a href="([^"]+)">', body)


def test_search_links_each_hit_to_its_line(index: FakeIndex) -> None:
    body = text(get(app(index, publish={"demo": ("#demo",)}), "/search?q=line+0"))
    assert hits(body) == [
        "/demo/%23demo/2026-03-05#L1",
        "/demo/%23demo/2026-03-02#L1",
        "/demo/%23demo/2026-03-01#L1",
    ]


def test_search_shows_only_published_channels(index: FakeIndex) -> None:
    listed = text(get(app(index, publish={"demo": ("#demo",)}), "/search?q=words"))
    assert hits(listed) == []
    star = app(index, publish={"demo": None})
    found = hits(text(get(star, "/search?q=words")))
    assert found == ["/demo/%23secret/2026-03-02#L1"]  # not alice's, not the other network's
    assert hits(text(get(star, "/search?q=words&net=other"))) == []
    assert hits(text(get(star, "/search?nick=alice"))) != []
    assert all("alice/" not in h for h in hits(text(get(star, "/search?nick=alice"))))


def test_search_filters(index: FakeIndex) -> None:
    web = app(index)
    assert len(hits(text(get(web, "/search?q=line&chan=%23DEMO&since=2026-03-02")))) == 6
    assert len(hits(text(get(web, "/search?q=line&until=2026-03-01")))) == 3
    assert len(hits(text(get(web, "/search?nick=nick1&type=message")))) == 3
    assert hits(text(get(web, "/search?nick=nick1&type=join"))) == []


def test_search_pages(index: FakeIndex) -> None:
    web = app(index, max_results=4)
    first = text(get(web, "/search?q=line"))
    assert len(hits(first)) == 4 and 'rel="next" href="/search?q=line&amp;page=2"' in first
    third = text(get(web, "/search?q=line&page=3"))
    assert len(hits(third)) == 1 and 'rel="next"' not in third
    assert 'rel="prev" href="/search?q=line&amp;page=2"' in third
    every = [h for p in (1, 2, 3) for h in hits(text(get(web, f"/search?q=line&page={p}")))]
    assert len(every) == len(set(every)) == 9


def test_search_merges_channels_newest_first(index: FakeIndex) -> None:
    index.add(record("2026-03-04T09:00:00", "line in listed", channel="#Secret"))
    web = app(index, publish={"demo": ("#demo", "#secret")}, max_results=3)
    assert hits(text(get(web, "/search?q=line"))) == [
        "/demo/%23demo/2026-03-05#L2",
        "/demo/%23demo/2026-03-05#L1",
        "/demo/%23secret/2026-03-04#L1",
    ]
    second = hits(text(get(web, "/search?q=line&page=2")))
    assert second[0] == "/demo/%23demo/2026-03-02#L4"


@pytest.mark.parametrize(
    "query, message",
    [
        ("q=x&since=yesterday", "Dates are written YYYY-MM-DD."),
        ("q=x&until=2026-02-30", "Dates are written YYYY-MM-DD."),
        ("q=x&type=script", "Unknown type"),
        ("q=x&page=0", "The page must be a number"),
        ("q=x&page=-1", "The page must be a number"),
        ("q=x&page=99999999999", "The page must be a number"),
        ("q=" + "w" * (MAX_QUERY_CHARS + 1), "The words are longer than"),
        ("q=x&nick=" + "n" * 500, "A field is longer than"),
        ("q=x&page=200", "Only the first"),
    ],
)
def test_bad_searches_say_why(index: FakeIndex, query: str, message: str) -> None:
    response = get(app(index), f"/search?{query}")
    assert response.status == 400 and message in text(response)


def test_search_never_uses_a_regex_and_echoes_safely(index: FakeIndex) -> None:
    web = app(index)
    body = text(get(web, "/search?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&nick=%3Cb%3E"))
    assert "<script>alert" not in body and "&quot;&gt;&lt;script&gt;" in body
    assert all(query.regex is None for query in index.searches)


def test_the_empty_search_page_is_just_the_form(index: FakeIndex) -> None:
    body = text(get(app(index), "/search"))
    assert '<form class="search" action="/search"' in body and "<ol" not in body
    assert index.searches == []


def test_a_page_survives_a_lone_surrogate(index: FakeIndex) -> None:
    index.add(record("2026-03-05T11:00:00", "bad \udc80 text"))
    response = get(app(index), "/demo/%23demo/2026-03-05")
    assert response.status == 200 and "bad ? text" in text(response)


class RefusingIndex(FakeIndex):
    def search(self, query: Query, context: int = 0) -> list[Hit]:
        raise ValueError("too many words (at most 16)")


def test_a_search_the_index_refuses_says_why() -> None:
    index = RefusingIndex()
    index.add(record("2026-03-01T10:00:00"))
    response = get(app(index), "/search?q=a+b")
    assert response.status == 400
    assert "Cannot search for that: too many words (at most 16)" in text(response)
