"""Log paths: hostile channel names never leave the root, never collide, and read back."""

from __future__ import annotations

import datetime
import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logbot.config.settings import DEFAULT_PATH
from logbot.irc.casemap import casefold
from logbot.logs.paths import (
    MAX_COMPONENT_BYTES,
    SUFFIXES,
    UnsafePath,
    escape_component,
    next_part_number,
    part_path,
    render_path,
    resolve_under,
    unescape_component,
    with_format,
)

DAY = datetime.date(2026, 1, 2)

HOSTILE = [
    "#../../etc",
    "#a/b",
    "#.",
    ".",
    "..",
    "...",
    ".hidden",
    "/",
    "/etc/passwd",
    "#" + "a" * 300,
    "#" + "é" * 150,
    "#" + "\U0001f389" * 75,
    "#" + "%" * 300,
    "#" + "/" * 300,
    "#" + "." * 300,
    "#a\0b",
    "#a\r\nPRIVMSG x",
    "#\x01\x1f\x7f",
    "#a\\b",
    "\\",
    "%",
    "%2F",
    "~",
    "#~foo",
    "#café",
    "#\U0001f389",
    "",
    "#\udcff",  # a lone surrogate (never from our decoder, but never a crash)
]

# any code point, lone surrogates included
ANY_TEXT = st.text(st.characters(exclude_categories=()))


def _is_cut(component: str) -> bool:
    return "~" in component


def _check_component(component: str) -> None:
    assert component not in ("", ".", "..")
    assert "/" not in component and "\\" not in component and "\0" not in component
    assert not component.startswith(".")
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in component)
    assert len(component.encode("utf-8")) <= MAX_COMPONENT_BYTES  # no surrogates left


# ------------------------------------------------------------------ escaping


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("#foo", "#foo"),
        ("#../../etc", "#..%2F..%2Fetc"),
        ("#a/b", "#a%2Fb"),
        ("#.", "#."),
        (".", "%2E"),
        ("..", "%2E."),
        ("#a\0b\r\n", "#a%00b%0D%0A"),
        ("#\x7f", "#%7F"),
        ("a\\b", "a%5Cb"),
        ("%", "%25"),
        ("~", "%7E"),
        ("#café", "#café"),
        ("#\U0001f389", "#\U0001f389"),
        ("", "%"),
        ("\udcff", "%ED%B3%BF"),
    ],
)
def test_escape_component(name: str, escaped: str) -> None:
    assert escape_component(name) == escaped
    assert unescape_component(escaped) == name


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_give_one_safe_component(name: str) -> None:
    component = escape_component(name)
    _check_component(component)
    if not _is_cut(component):
        assert unescape_component(component) == name


@pytest.mark.parametrize(
    "name",
    [
        "#" + "a" * 300,
        "#" + "%" * 300,
        "#" + "é" * 150,
        "#" + "\U0001f389" * 75,
        "." * 300,
        "#" + "\x01" * 100,
    ],
)
def test_long_names_are_cut_whole_and_hashed(name: str) -> None:
    component = escape_component(name)
    assert len(component.encode("utf-8")) <= MAX_COMPONENT_BYTES
    prefix, _, digest = component.rpartition("~")
    assert digest == hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
    # only whole escapes and whole characters, and the prefix is an escaped prefix of name
    assert re.fullmatch(r"(?:%[0-9A-F]{2}|[^%~])+", prefix)
    assert name.startswith(unescape_component(prefix))
    with pytest.raises(ValueError, match="cut"):
        unescape_component(component)


def test_cut_keeps_as_much_as_fits() -> None:
    component = escape_component("a" * 300)
    assert component == "a" * (MAX_COMPONENT_BYTES - 17) + "~" + component[-16:]
    assert len(component.encode()) == MAX_COMPONENT_BYTES
    assert escape_component("a" * MAX_COMPONENT_BYTES) == "a" * MAX_COMPONENT_BYTES


def test_long_names_with_a_common_prefix_stay_distinct() -> None:
    names = ["#" + "a" * 300, "#" + "a" * 299 + "b", "#" + "a" * 301, "#" + "a" * 250]
    components = {escape_component(n) for n in names}
    assert len(components) == len(names)
    # and differ from every ordinary name, which cannot hold a literal "~"
    assert all("~" not in escape_component(n) for n in ["#a", "~" * 10, "#~"])


@given(ANY_TEXT)
def test_escape_round_trips(name: str) -> None:
    component = escape_component(name)
    _check_component(component)
    if not _is_cut(component):
        assert unescape_component(component) == name


@given(ANY_TEXT, ANY_TEXT)
def test_escape_is_injective(a: str, b: str) -> None:
    if a != b:
        assert escape_component(a) != escape_component(b)


@given(st.text(st.sampled_from("a%/~.\\\x00é\U0001f389"), min_size=60, max_size=400))
def test_long_names_round_trip_or_are_cut_safely(name: str) -> None:
    component = escape_component(name)
    _check_component(component)
    if _is_cut(component):
        assert component.endswith(hashlib.sha256(name.encode()).hexdigest()[:16])
    else:
        assert unescape_component(component) == name


@pytest.mark.parametrize("bad", ["%41", "%2e", "%4", "%zz", "a/b", ".x", "a%", "%%", "a\0"])
def test_unescape_refuses_what_escape_never_writes(bad: str) -> None:
    with pytest.raises(ValueError):
        unescape_component(bad)


# ------------------------------------------------------------- case folding


def _path(channel: str, mapping: str = "rfc1459") -> str:
    return render_path(DEFAULT_PATH, "net", casefold(channel, mapping), DAY)


def test_case_variants_share_a_file() -> None:
    assert _path("#Foo") == _path("#foo") == _path("#FOO") == "net/#foo/2026-01-02.log"
    assert _path("#foo") != _path("##foo")
    assert _path("#[x]") == _path("#{x}")  # rfc1459: [ ] fold to { }
    assert _path("#[x]", "ascii") != _path("#{x}", "ascii")
    assert _path("#CAFÉ") != _path("#café")  # only ASCII letters fold


# ---------------------------------------------------------------- rendering


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_under_the_root(tmp_path: Path, name: str) -> None:
    root = tmp_path / "logs"
    for network, channel in ((name, "#ok"), ("net", name), (name, name)):
        relative = render_path(DEFAULT_PATH, network, casefold(channel), DAY)
        path = resolve_under(root, relative)
        assert len(Path(relative).parts) == 3
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")
        assert path.resolve().is_relative_to(root.resolve())
        assert path.resolve().parent.parent.parent == root.resolve()
    assert all(p.is_relative_to(root) for p in tmp_path.rglob("*") if p != root)


@given(ANY_TEXT, ANY_TEXT)
def test_any_names_render_under_the_root(network: str, channel: str) -> None:
    root = Path("/srv/logs")
    relative = render_path(DEFAULT_PATH, network, channel, DAY)
    path = resolve_under(root, relative)
    assert path.parent.parent.parent == root
    assert path.name == "2026-01-02.log"


def test_render_path_fills_the_template() -> None:
    assert (
        render_path("{network}/{date:%Y/%m}/{channel}-{date:%d}.log", "Libera.Chat", "#a/b", DAY)
        == "Libera.Chat/2026/01/#a%2Fb-02.log"
    )


@pytest.mark.parametrize(
    "template",
    [
        "/var/log/{channel}.log",
        "{network}/../{channel}.log",
        "../{channel}.log",
        "{network}//{channel}.log",
        "./{channel}.log",
        "{channel}/",
        "{channel}/./x.log",
        "{channel}/x\0.log",
        "",
    ],
)
def test_render_path_refuses_unsafe_templates(template: str) -> None:
    with pytest.raises(UnsafePath):
        render_path(template, "net", "#c", DAY)


@pytest.mark.parametrize(
    "relative", ["..", "../x", "a/../../x", "/etc/passwd", "", ".", "a/..", "a\0b"]
)
@pytest.mark.parametrize("root", ["logs", ".", "/srv/logs", "../logs"])
def test_resolve_under_refuses_escapes(root: str, relative: str) -> None:
    with pytest.raises(UnsafePath):
        resolve_under(Path(root), relative)


def test_resolve_under_normalises() -> None:
    assert resolve_under(Path("logs"), "a/./b/../c.log") == Path("logs/a/c.log")
    assert resolve_under(Path("."), "a/b.log") == Path("a/b.log")
    assert resolve_under(Path("/srv/logs/"), "n/#c/d.log") == Path("/srv/logs/n/#c/d.log")
    assert resolve_under(Path("logs"), "a/../a..b") == Path("logs/a..b")


def test_unsafe_path_is_a_value_error() -> None:
    assert issubclass(UnsafePath, ValueError)


# ------------------------------------------------------- formats and parts


@pytest.mark.parametrize(
    ("name", "fmt", "result"),
    [
        ("2026-01-02.log", "text", "2026-01-02.log"),
        ("2026-01-02.log", "jsonl", "2026-01-02.jsonl"),
        ("2026-01-02.jsonl", "text", "2026-01-02.log"),
        ("2026-01-02", "jsonl", "2026-01-02.jsonl"),
        ("2026-01-02", "text", "2026-01-02.log"),
        ("2026.01.02", "jsonl", "2026.01.02.jsonl"),  # a dotted date keeps its day
        ("#a.b", "text", "#a.b.log"),
    ],
)
def test_with_format(name: str, fmt: str, result: str) -> None:
    assert with_format(Path("net/#c") / name, fmt) == Path("net/#c") / result


def test_with_format_knows_only_the_formats() -> None:
    assert set(SUFFIXES) == {"text", "jsonl"}
    with pytest.raises(KeyError):
        with_format(Path("x.log"), "xml")


def test_part_path() -> None:
    live = Path("net/#c/2026-01-02.log")
    assert part_path(live, 3) == Path("net/#c/2026-01-02.003.log")
    assert part_path(live, 42) == Path("net/#c/2026-01-02.042.log")
    assert part_path(live, 1234) == Path("net/#c/2026-01-02.1234.log")
    assert part_path(Path("x.jsonl"), 1) == Path("x.001.jsonl")
    assert part_path(Path("x"), 1) == Path("x.001")
    with pytest.raises(ValueError):
        part_path(live, -1)


@pytest.mark.parametrize("suffix", [".log", ".jsonl"])
def test_parts_sort_before_the_live_file_and_by_number(suffix: str) -> None:
    live = Path(f"2026-01-02{suffix}")
    chronological = [part_path(live, n).name for n in range(1, 1000)] + [live.name]
    assert sorted(chronological) == chronological
    assert max([*chronological, f"2026-01-03{suffix}"]) == f"2026-01-03{suffix}"


def test_next_part_number(tmp_path: Path) -> None:
    live = tmp_path / "2026-01-02.log"
    assert next_part_number(live) == 1
    assert next_part_number(tmp_path / "missing" / "2026-01-02.log") == 1
    for name in [
        "2026-01-02.log",
        "2026-01-02.001.log",
        "2026-01-02.002.log.gz",
        "2026-01-02.009.log.gz",
        "2026-01-02.020.jsonl",  # another format
        "2026-01-03.050.log",  # another day
        "2026-01-02.77.log",  # not a part (parts have three digits or more)
        "2026-01-02.100.log.tmp",
        "x2026-01-02.300.log",
    ]:
        (tmp_path / name).write_text("")
    assert next_part_number(live) == 10
    assert next_part_number(tmp_path / "2026-01-02.jsonl") == 21
    (tmp_path / "2026-01-02.1000.log").write_text("")
    assert next_part_number(live) == 1001
    assert part_path(live, next_part_number(live)).name == "2026-01-02.1001.log"
