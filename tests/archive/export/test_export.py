"""``logbot export-html``: the published pages as files, their links, their policy,
incremental runs, and what it refuses (links planted in OUT, OUT among the logs)."""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path

import pytest

from logbot.archive.index import open_index
from logbot.archive.model import channel_key
from logbot.archive.web import export as export_module
from logbot.archive.web import urls
from logbot.archive.web.access import Publisher
from logbot.archive.web.export import MAX_NAME_CHARS, export, file_name, relink
from logbot.archive.web.export_files import OutFolder
from logbot.archive.web.html import STATIC_CSP
from logbot.archive.web.routes import WebApp
from logbot.config.settings import WebOptions
from logbot.health.http import Request
from tests.archive.export.site import (
    DAYS,
    HOSTILE,
    ODD,
    check_links,
    make_site,
    parse,
    write_config,
)
from tests.archive.export.site import export as run
from tests.archive.web.helpers import record, write_log

CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{STATIC_CSP}">'
ODD_DIR = file_name(channel_key(ODD))  # "#wïld/..?%41." escaped


def snapshot(out: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``out``: (inode, mtime in ns): a rewrite (a rename over the
    file) changes the inode even within one tick of the clock."""
    return {
        str(p.relative_to(out)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in out.rglob("*")
        if p.is_file()
    }


def counts(stdout: str) -> tuple[int, int, int, int]:
    found = re.search(r"(\d+) files written, (\d+) unchanged, (\d+) removed, (\d+) days", stdout)
    assert found, stdout
    written, unchanged, removed, days = (int(n) for n in found.groups())
    return written, unchanged, removed, days


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return make_site(tmp_path)


def test_the_published_pages_as_files(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run(config, out)
    assert done.returncode == 0, done.stderr
    demo = out / "demo" / "#demo"
    expected = {
        "index.html",
        "static/style.css",
        "demo/index.html",
        "demo/#demo/index.html",
        *(f"demo/#demo/{day}.html" for day in DAYS),
        f"demo/{ODD_DIR}/index.html",
        f"demo/{ODD_DIR}/{DAYS[1]}.html",
        ".logbot-export.json",
        ".logbot-export.lock",
    }
    assert set(snapshot(out)) == expected
    assert counts(done.stdout) == (len(expected) - 2, 0, 0, 4)  # not the manifest, lock
    pages = sorted(out.rglob("*.html"))
    everything = "".join(p.read_text(encoding="utf-8") for p in pages)
    # neither the unpublished channel nor the private log, nor a word of them
    assert "#other" not in everything and "bob" not in everything
    assert "not published" not in everything and "private words" not in everything
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert CSP_META in text, path
        assert text.index(CSP_META) < text.index("<link"), path  # before any resource
        # no script, no form, no search: nothing that needs a server
        assert "<script" not in text and "<form" not in text and "search" not in text, path
        assert "Our &lt;logs&gt;" in text, path  # the config's title, escaped
    day = (demo / f"{DAYS[0]}.html").read_text(encoding="utf-8")
    assert "needle &lt;script&gt;window.pwned=1&lt;/script&gt;" in day
    assert "&lt;<bdi>&lt;b&gt;evil&lt;/b&gt;</bdi>&gt;" in day
    assert HOSTILE not in everything
    assert 'href="../../static/style.css"' in day
    assert f'href="{DAYS[1]}.html"' in day  # the next day
    assert 'href="#L3"' in day and 'id="L3"' in day  # a permalink
    assert not (demo / f"{DAYS[0]}.html").stat().st_mode & 0o022  # rw-r--r--: readable


def test_every_link_leads_to_an_exported_file(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(config, out).returncode == 0
    assert check_links(out) > 40
    front = parse(out / "index.html")
    assert "demo/%23demo/index.html" in front.links
    odd = f"demo/{urls.quote(ODD_DIR)}/index.html"
    assert odd in front.links
    # the name's "%41" is the folder's "%2541", linked as "%252541": "%" is escaped twice
    assert "%2541" in ODD_DIR and "%252541" in odd
    assert "/" not in ODD_DIR and "?" not in ODD_DIR
    calendar = parse(out / "demo" / "#demo" / "index.html")
    days = {link for link in calendar.links if re.fullmatch(r"\d{4}-\d\d-\d\d\.html", link)}
    assert days == {f"{day}.html" for day in DAYS}


def test_a_day_is_the_web_views_day(config: Path, tmp_path: Path) -> None:
    """The log of an exported day is, byte for byte, the one ``logbot web`` serves."""
    out = tmp_path / "out"
    assert run(config, out).returncode == 0
    index = open_index(tmp_path / "index.sqlite3", tmp_path / "logs")
    try:
        web = WebApp(WebOptions(publish={"demo": None}), index, lambda: 0.0)
        served = web.handle(Request("GET", f"/demo/%23demo/{DAYS[0]}", "HTTP/1.1", ()))
    finally:
        index.close()
    assert served.status == 200

    def log(text: str) -> str:
        return text[text.index('<div id="log"') : text.index('<div id="end">')]

    exported = (out / "demo" / "#demo" / f"{DAYS[0]}.html").read_text(encoding="utf-8")
    assert log(exported) == log(served.body.decode())
    assert log(exported).count('class="l ') == 5


def test_a_second_run_writes_only_what_changed(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(config, out).returncode == 0
    before = snapshot(out)
    again = run(config, out)
    assert again.returncode == 0, again.stderr
    assert counts(again.stdout) == (0, 9, 0, 4)
    assert snapshot(out) == before  # not one file touched (the manifest neither)
    # a line more on the last day: that day, its channel's calendar and the lists change
    write_log(tmp_path / "logs", [record(f"{DAYS[2]}T23:59:59.500+00:00", "late")])
    third = run(config, out)
    assert third.returncode == 0, third.stderr
    after = snapshot(out)
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {
        "index.html",
        "demo/index.html",
        "demo/#demo/index.html",
        f"demo/#demo/{DAYS[2]}.html",
    }
    assert counts(third.stdout) == (4, 5, 0, 4)
    assert ">late</bdi>" in (out / "demo" / "#demo" / f"{DAYS[2]}.html").read_text()


def test_files_no_longer_published_are_removed(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(config, out).returncode == 0
    (out / ".htaccess").write_text("Options -Indexes\n")  # not ours: stays
    done = run(config, out, "--publish", "demo/#other")
    assert done.returncode == 0, done.stderr
    assert counts(done.stdout)[2] == 6  # 4 pages of #demo, 2 of the odd channel
    assert not (out / "demo" / "#demo").exists()  # the folders too
    assert not (out / "demo" / ODD_DIR).exists()
    assert (out / "demo" / "#other" / f"{DAYS[1]}.html").is_file()
    assert (out / ".htaccess").read_text() == "Options -Indexes\n"
    assert check_links(out) > 10


def test_since_makes_only_the_later_days_again(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(config, out).returncode == 0
    old = out / "demo" / "#demo" / f"{DAYS[0]}.html"
    old.write_text("edited")
    done = run(config, out, "--since", DAYS[1])
    assert done.returncode == 0, done.stderr
    assert counts(done.stdout)[3] == 3  # #demo's last two days, the odd channel's one
    assert old.read_text() == "edited"  # left as it is, and kept (not removed)
    assert run(config, out).returncode == 0
    assert old.read_text() != "edited"
    for bad in ("yesterday", "2026-02-30", "20260301"):
        refused = run(config, out, "--since", bad)
        assert refused.returncode == 2 and "YYYY-MM-DD" in refused.stderr, refused.stderr


def test_a_forged_manifest_removes_nothing_outside(config: Path, tmp_path: Path) -> None:
    """Only the manifest's plain names below OUT are ever removed: never ``..``, never
    through a link, never the manifest or the lock."""
    out = tmp_path / "out"
    assert run(config, out).returncode == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    forged = ["../victim.txt", "demo/../../victim.txt", "/victim.txt", str(victim),
              ".logbot-export.lock", "demo/#demo/../../../victim.txt"]  # fmt: skip
    manifest = out / ".logbot-export.json"
    manifest.write_text(json.dumps({"version": 1, "files": forged}))
    done = run(config, out)
    assert done.returncode == 0, done.stderr
    assert counts(done.stdout)[2] == 0
    assert victim.read_text() == "keep me" and (out / ".logbot-export.lock").exists()
    (out / "linked").symlink_to(tmp_path)  # a folder of the manifest is now a link
    manifest.write_text(json.dumps({"version": 1, "files": ["linked/victim.txt"]}))
    done = run(config, out)
    assert done.returncode == 1 and "linked is a symbolic link" in done.stderr, done.stderr
    assert victim.read_text() == "keep me"
    with pytest.raises(ValueError, match="not a file of the export"), OutFolder(out) as folder:
        folder.write(("..", "victim.txt"), b"x")
    with pytest.raises(ValueError, match="not a file of the export"), OutFolder(out) as folder:
        folder.write(("demo", "a/b"), b"x")
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize("where", ["demo", "demo/#demo", "demo/#demo/2026-03-02.html"])
def test_a_link_planted_in_out_is_never_written_through(
    config: Path, tmp_path: Path, where: str
) -> None:
    out = tmp_path / "out"
    assert run(config, out).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    planted = out / where
    if planted.suffix == ".html":
        elsewhere.write_text("precious")
        planted.unlink()
    else:
        elsewhere.mkdir()
        os.rename(planted, tmp_path / "moved")
    planted.symlink_to(elsewhere)
    done = run(config, out)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "symbolic link" in done.stderr and str(planted) in done.stderr
    if planted.suffix == ".html":
        assert elsewhere.read_text() == "precious"
    else:
        assert list(elsewhere.iterdir()) == []
    assert planted.is_symlink()


def test_one_export_at_a_time(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(config, out).returncode == 0
    fd = os.open(out / ".logbot-export.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        done = run(config, out)
    finally:
        os.close(fd)
    assert done.returncode == 1 and "another export" in done.stderr, done.stderr


def test_without_a_web_section_publish_is_required(tmp_path: Path) -> None:
    config = make_site(tmp_path)
    write_config(tmp_path, None)
    out = tmp_path / "out"
    refused = run(config, out)
    assert refused.returncode == 2 and "--publish" in refused.stderr, refused.stderr
    assert not out.exists()
    private = run(config, out, "--publish", "demo/bob")
    assert private.returncode == 2 and "never published" in private.stderr, private.stderr
    for bad in ("/#demo", "demo/"):
        assert run(config, out, "--publish", bad).returncode == 2
    done = run(config, out, "--publish", "demo")  # every channel: never a private log
    assert done.returncode == 0, done.stderr
    names = {p.name for p in (out / "demo").iterdir()}
    assert names == {"index.html", "#demo", "#other", ODD_DIR}
    assert "IRC logs" in (out / "index.html").read_text()  # the default title


def test_out_may_not_overlap_the_logs_or_the_index(config: Path, tmp_path: Path) -> None:
    for out in (tmp_path / "logs", tmp_path / "logs" / "html", tmp_path):
        done = run(config, out)
        assert done.returncode == 2 and "overlap" in done.stderr, (out, done.stderr)
    assert not (tmp_path / "logs" / "html").exists()
    assert not (tmp_path / "index.html").exists()


def test_out_that_cannot_be_written(config: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert run(config, blocker).returncode == 2  # a file as OUT: a bad argument
    done = run(config, blocker / "out")
    assert done.returncode == 1 and "cannot write" in done.stderr, done.stderr
    bad = run(config, tmp_path / "out", "--index", str(tmp_path / "file" / "x.sqlite3"))
    assert bad.returncode == 1 and "index" in bad.stderr, bad.stderr


def test_a_long_day_in_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A day of more than PART_LINES lines is several files, linked to each other."""
    monkeypatch.setattr(urls, "PART_LINES", 2)
    monkeypatch.setattr(export_module, "PART_LINES", 2)
    root = tmp_path / "logs"
    write_log(root, [record(f"{DAYS[0]}T10:00:0{i}", f"line {i}") for i in range(5)])
    out = tmp_path / "out"
    with open_index(tmp_path / "index.sqlite3", root) as index:
        summary = export(index, Publisher({"demo": None}), "logs", out)
    folder = out / "demo" / "#demo"
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{DAYS[0]}.html",
        f"{DAYS[0]}.part2.html",
        f"{DAYS[0]}.part3.html",
        "index.html",
    ]
    assert summary.days == 1 and summary.written == 7
    second = parse(folder / f"{DAYS[0]}.part2.html")
    assert {"L3", "L4"} <= second.ids and "L1" not in second.ids
    assert f"{DAYS[0]}.html" in second.links and f"{DAYS[0]}.part3.html" in second.links
    assert check_links(out) > 10


def test_file_names_are_safe_everywhere_and_distinct() -> None:
    assert file_name("#demo") == "#demo"
    assert file_name("libera") == "libera"
    assert file_name("#a/../b?x") == "#a%2F..%2Fb%3Fx"
    assert file_name("#ü\u202e") == "#%C3%BC%E2%80%AE"  # ASCII only: no bidi trick
    assert file_name("#50%") == "#50%25"
    assert file_name('#<>:"\\|*') == "#%3C%3E%3A%22%5C%7C%2A"
    assert file_name(".hidden") == "%2Ehidden"
    assert file_name("#dot.") == "#dot%2E"
    assert file_name("a b") == "a%20b"
    assert file_name("con") == "%63on" and file_name("LPT1.x") == "%4CPT1.x"
    assert file_name("static") == "%73tatic" and file_name("Index.html") == "%49ndex.html"
    assert file_name("") == "%"
    assert file_name("#\ud800") == "#%ED%A0%80"  # a lone surrogate (from JSON) too
    long_a, long_b = "#" + "a" * 300, "#" + "a" * 299 + "b"
    assert len(file_name(long_a)) <= MAX_NAME_CHARS
    assert file_name(long_a) != file_name(long_b)
    assert len(file_name("#" + "ü" * 100)) <= MAX_NAME_CHARS
    assert "%-" in file_name(long_a) and not file_name(long_a).endswith("%")
    assert file_name("con." + "x" * 300).startswith("%63on.")  # cut, still no device
    names = ["#demo", "#Demo", "#a/b", "#a%2Fb", "#x.", "#x%2E", "con", "%63on"]
    assert len({file_name(n) for n in names}) == len(names)


def test_relink_maps_the_web_views_links_to_files() -> None:
    here = ("demo", "#demo", "2026-03-01.html")
    text = (
        '<a href="/">a</a><a href="/demo/">b</a><a href="/demo/%23demo/">c</a>'
        '<a href="/demo/%23demo/2026-03-02?part=2">d</a><a href="/demo/%23x/2026-03-02#L5">e</a>'
        '<link href="/static/style.css"><a href="#L1">f</a>'
        '<a href="https://example.com/" rel="x">g</a>'
    )
    assert relink(text, here) == (
        '<a href="../../index.html">a</a><a href="../index.html">b</a>'
        '<a href="index.html">c</a><a href="2026-03-02.part2.html">d</a>'
        '<a href="../%23x/2026-03-02.html#L5">e</a><link href="../../static/style.css">'
        '<a href="#L1">f</a><a href="https://example.com/" rel="x">g</a>'
    )
    with pytest.raises(ValueError, match="no file"):
        relink('<a href="/search?q=x">s</a>', here)
