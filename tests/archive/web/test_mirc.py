"""IRC text to HTML: mIRC codes, links, and hostile text that must stay text."""

from __future__ import annotations

import html.parser
import re

import pytest

from logbot.archive.web.lines import MAX_TEXT_CHARS, row
from logbot.archive.web.mirc import (
    MAX_LINK_CHARS,
    NICK_COLOURS,
    PALETTE,
    linkify,
    nick_class,
    plain,
    render,
)
from tests.archive.web.helpers import record


class Markup(html.parser.HTMLParser):
    """Every tag and attribute of a fragment, and its text."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


SAFE_TAGS = {"span", "a", "bdi", "div"}


def assert_safe(fragment: str) -> Markup:
    """Only our own tags and attributes; no event handler, style or script anywhere."""
    markup = Markup(fragment)
    for tag, attrs in markup.tags:
        assert tag in SAFE_TAGS, (tag, fragment)
        assert set(attrs) <= {"class", "href", "rel", "id", "title"}, (attrs, fragment)
        href = attrs.get("href")
        if href is not None and tag == "a" and not href.startswith("#"):
            assert re.match(r"https?://|/", href), href
    return markup


# -- hostile text --------------------------------------------------------------------------

HOSTILE = [
    "<script>window.pwned=1</script>",
    "<img src=x onerror=window.pwned=2>",
    '"><svg onload=alert(1)>',
    "'; alert(1); '",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    'http://x.example/"onmouseover=alert(1)//',
    "https://x.example/'onmouseover='alert(1)",
    "&lt;b&gt; and &amp;",
    "</bdi></div><script>x</script>",
    "\u202eevil\u202c and \u2067isolate",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_as_the_same_text(text: str) -> None:
    fragment = render(text)
    markup = assert_safe(fragment)
    assert markup.all_text == text
    assert "<script" not in fragment and "<img" not in fragment and "<svg" not in fragment


def test_javascript_and_data_urls_are_never_links() -> None:
    for text in ("javascript:alert(1)", "data:text/html,x", "vbscript:x", "file:///etc/passwd"):
        assert "<a " not in render(text)
        assert "<a " not in render(f"see {text} now")


def test_quotes_cannot_leave_an_href() -> None:
    fragment = render('go https://x.example/a"b<c>d')
    markup = assert_safe(fragment)
    links = [a["href"] for tag, a in markup.tags if tag == "a"]
    assert links == ["https://x.example/a"]
    assert markup.all_text == 'go https://x.example/a"b<c>d'


def test_links_http_and_https_only_with_safe_rel() -> None:
    fragment = render("see https://example.com/a?b=1&c=2. and (http://x.org/foo_(bar)) ok")
    markup = assert_safe(fragment)
    links = [attrs for tag, attrs in markup.tags if tag == "a"]
    assert [a["href"] for a in links] == ["https://example.com/a?b=1&c=2", "http://x.org/foo_(bar)"]
    assert all(a["rel"] == "nofollow noopener noreferrer" for a in links)
    assert "&amp;c=2" in fragment  # the href is escaped
    assert markup.all_text.endswith("(http://x.org/foo_(bar)) ok")


def test_a_url_too_long_is_text() -> None:
    url = "https://x.example/" + "a" * MAX_LINK_CHARS
    assert "<a " not in linkify(url)
    assert linkify(url) == url


def test_a_5000_character_word_stays_whole() -> None:
    word = "W" * 5000
    assert render(word) == word  # the stylesheet breaks it (overflow-wrap: anywhere)
    html_row = row(1, record("2026-03-01T10:00:00", word))
    assert word in html_row


def test_bidi_marks_are_isolated_in_bdi() -> None:
    html_row = row(7, record("2026-03-01T10:00:00", "\u202eabc", nick="\u202enick"))
    markup = assert_safe(html_row)
    bdis = [attrs for tag, attrs in markup.tags if tag == "bdi"]
    assert len(bdis) >= 2  # the nick and the text
    assert re.search(r"<bdi[^>]*>\u202enick</bdi>", html_row)
    assert re.search(r'<bdi class="tx">\u202eabc</bdi>', html_row)


# -- mIRC codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("\x02bold\x02 plain", '<span class="b">bold</span> plain'),
        ("\x1ditalic", '<span class="i">italic</span>'),
        ("\x1funder", '<span class="u">under</span>'),
        ("\x1estrike", '<span class="s">strike</span>'),
        ("\x11mono", '<span class="m">mono</span>'),
        ("\x034red", '<span class="f4">red</span>'),
        ("\x0304,12red on blue", '<span class="f4 k12">red on blue</span>'),
        ("\x0399,1x", '<span class="k1">x</span>'),  # 99: the default colour
        ("\x034,5a\x038b", '<span class="f4 k5">a</span><span class="f8 k5">b</span>'),
        ("\x034a\x03b", '<span class="f4">a</span>b'),  # a bare ^C ends the colours
        ("\x03,5x", ",5x"),  # a background needs a foreground
        ("\x03123", '<span class="f12">3</span>'),  # two digits at most
        ("\x04ff0000red", '<span class="f4">red</span>'),  # nearest palette colour
        ("\x04ff0000,0000ffx", '<span class="f4 k60">x</span>'),
        ("\x04zz", "zz"),  # not hex: colours off, the text kept
        ("\x16rev", '<span class="rf rk">rev</span>'),
        ("\x034,2\x16rev", '<span class="f2 k4">rev</span>'),  # reverse swaps them
        ("\x02\x1d\x1fall\x0fnone", '<span class="b i u">all</span>none'),
        ("\x02unterminated", '<span class="b">unterminated</span>'),
        ("\x03", ""),
        ("\x0312,", '<span class="f12">,</span>'),
        ("a\x01ACTION x\x01 b", "aACTION x b"),  # other controls are dropped
        ("a\tb", "a b"),
        ("a\x00b\x7fc", "abc"),
    ],
)
def test_every_code(text: str, expected: str) -> None:
    assert render(text) == expected


def test_formatting_never_leaks_past_the_text() -> None:
    fragment = render("\x02\x034,5\x1d\x1f\x1e\x11\x16open")
    assert fragment.count("<span") == fragment.count("</span>") == 1
    markup = assert_safe(fragment)
    assert markup.all_text == "open"


def test_formatted_text_is_escaped_and_linked() -> None:
    fragment = render("\x02<b>https://e.example/x\x02 &")
    markup = assert_safe(fragment)
    assert markup.all_text == "<b>https://e.example/x &"
    assert '<span class="b">&lt;b&gt;<a href="https://e.example/x"' in fragment


def test_the_palette_has_the_99_colours() -> None:
    assert len(PALETTE) == 99
    assert PALETTE[0] == "ffffff" and PALETTE[1] == "000000" and PALETTE[98] == "ffffff"
    assert all(re.fullmatch(r"[0-9a-f]{6}", c) for c in PALETTE)


# -- nicks and rows ------------------------------------------------------------------------


def test_nick_classes_are_stable_and_fold_case() -> None:
    assert nick_class("Alice") == nick_class("alice") == nick_class("ALICE")
    assert nick_class("foo[]") == nick_class("FOO{}")  # RFC 1459
    classes = {nick_class(f"nick{i}") for i in range(200)}
    assert classes <= {f"n{i}" for i in range(NICK_COLOURS)}
    assert len(classes) > NICK_COLOURS // 2  # spread, not one colour
    # the same number as any other process computes: CRC-32 of the folded nick
    assert nick_class("alice") == "n" + str(__import__("zlib").crc32(b"alice") % NICK_COLOURS)


def test_plain_drops_codes_and_escapes() -> None:
    assert plain("\x02<b>o'k\x03") == "&lt;b&gt;o&#x27;k"


def test_a_message_row() -> None:
    html_row = row(12, record("2026-03-01T10:11:12", "hi <there>", nick="bob"))
    markup = assert_safe(html_row)
    assert markup.tags[0] == ("div", {"class": "l msg", "id": "L12"})
    assert markup.tags[1] == ("a", {"class": "t", "href": "#L12"})
    assert markup.all_text.strip() == "10:11:12 <bob> hi <there>"
    assert nick_class("bob") in html_row


@pytest.mark.parametrize(
    "kind, extra, expected",
    [
        ("join", {}, "alice joined"),
        ("part", {"text": "bye"}, "alice left (bye)"),
        ("quit", {"text": "Ping timeout"}, "alice quit (Ping timeout)"),
        ("kick", {"target": "bob", "text": "spam"}, "alice kicked bob (spam)"),
        ("nick", {"target": "alice2"}, "alice is now known as alice2"),
        ("mode", {"text": "+o bob"}, "alice set mode +o bob"),
        ("topic", {"text": "<new>"}, "alice changed the topic to: <new>"),
        ("chghost", {"target": "u@new.host"}, "alice changed host to u@new.host"),
        ("away", {"text": "lunch"}, "alice is away: lunch"),
        ("back", {}, "alice is back"),
        (
            "renamed_to",
            {"target": "#<new>", "text": "tidy"},
            "the channel was renamed to #<new> by alice (tidy)",
        ),
        ("renamed_from", {"target": "#old"}, "the channel was renamed from #old by alice"),
    ],
)
def test_event_rows_are_muted_sentences(kind: str, extra: dict[str, str], expected: str) -> None:
    rec = record("2026-03-01T10:00:00", extra.pop("text", None), type=kind, **extra)
    html_row = row(3, rec)
    markup = assert_safe(html_row)
    assert markup.tags[0][1]["class"] == "l ev"
    assert expected in markup.all_text


@pytest.mark.parametrize("kind", ["connect", "disconnect", "gap", "recovered", "opted_out"])
def test_the_bots_own_lines_are_muted(kind: str) -> None:
    html_row = row(1, record("2026-03-01T10:00:00", f"<{kind}>", type=kind, nick=None))
    markup = assert_safe(html_row)
    assert markup.tags[0][1]["class"] == "l sys"
    assert f"<{kind}>" in markup.all_text


def test_a_corrupt_record_still_renders_safely() -> None:
    rec = {"time": 12, "type": "<x>", "nick": ["a"], "text": {"b": 1}, "replayed": True}
    html_row = row(1, rec)
    markup = assert_safe(html_row)
    assert "--:--:--" in markup.all_text and "[<x>]" in markup.all_text


def test_a_huge_text_is_cut() -> None:
    html_row = row(1, record("2026-03-01T10:00:00", "x" * (MAX_TEXT_CHARS * 3)))
    assert len(html_row) < MAX_TEXT_CHARS + 1000
    assert "x" * MAX_TEXT_CHARS + "…" in html_row


def test_a_replayed_line_is_marked() -> None:
    rec = record("2026-03-01T10:00:00", replayed=True, replay_source="chathistory")
    assert 'class="rp"' in row(1, rec)
    assert 'class="rp"' not in row(1, record("2026-03-01T10:00:00"))
