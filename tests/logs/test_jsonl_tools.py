"""The README's "The jsonl format", run: its jq one-liners on a log the bot wrote and
on a log in Europe/Berlin time (where a date by the offset and a date in UTC differ),
their output checked against Python's reading of the same files; jq's own date
functions failing on ``time`` as the README says, which is why ``time_ms`` exists; its
example line is what the formatter writes; and the log shippers' mapping snippets
parse and name only keys of the schema (no test can run Vector, Loki or Elasticsearch
here: those snippets are checked for what they say, not for what the tools do)."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from logbot.logs.formats import format_jsonl
from logbot.logs.record import LogRecord
from logbot.logs.schema import load_schema
from tests.logs.demo_log import records, run_demo

REPO = Path(__file__).resolve().parents[2]
UTC = datetime.UTC
BERLIN = ZoneInfo("Europe/Berlin")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
KEYS = set(load_schema()["properties"])
JQ = shutil.which("jq") or "jq"  # .ci/run installs it (Debian's package)


def _section() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"(?ms)^### The `jsonl` format\n(.*?)(?=^## )", readme)
    assert match is not None, "the README has no jsonl section"
    return match.group(1)


SECTION = _section()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"(?ms)^```{lang}\n(.*?)^```$", SECTION)


(_SH,) = _blocks("sh")
ONE_LINERS = [line for line in _SH.splitlines() if line.startswith("jq ")]


def _one_liner(marker: str) -> str:
    (line,) = [line for line in ONE_LINERS if marker in line]
    return line


def _run(command: str, folder: Path) -> list[str]:
    result = subprocess.run(
        ["bash", "-c", command.replace("jq ", f"{JQ} ", 1)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def _counts(lines: list[str]) -> Counter[tuple[str, str]]:
    """``uniq -c`` of ``date<TAB>nick`` lines, read back."""
    counts: Counter[tuple[str, str]] = Counter()
    for line in lines:
        match = re.fullmatch(r"\s*(\d+) (\S+)\t(.*)", line)
        assert match is not None, line
        counts[match[2], match[3]] = int(match[1])
    return counts


def _utc_day(obj: dict[str, Any]) -> str:
    return (EPOCH + datetime.timedelta(milliseconds=obj["time_ms"])).date().isoformat()


def _per_day(objs: list[dict[str, Any]], day: Any) -> Counter[tuple[str, str]]:
    return Counter((day(obj), obj["nick"]) for obj in objs if obj["type"] == "message")


def test_the_readme_has_the_three_one_liners() -> None:
    assert len(ONE_LINERS) == 3, ONE_LINERS
    for marker in ("strftime", ".time[:10]", "fromdate"):
        assert "logs/demo/#demo/*.jsonl" in _one_liner(marker)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo") / "demo")


def test_messages_per_nick_per_day_in_a_log_the_bot_wrote(demo: Path) -> None:
    objs = records(demo, "logs/demo/#demo/*.jsonl")
    by_utc = _counts(_run(_one_liner("strftime"), demo))
    by_offset = _counts(_run(_one_liner(".time[:10]"), demo))
    assert by_utc == _per_day(objs, _utc_day)
    assert by_offset == _per_day(objs, lambda obj: obj["time"][:10])
    assert {"alice", "bob"} <= {nick for _, nick in by_utc}


def test_lines_from_a_moment_on_in_a_log_the_bot_wrote(demo: Path) -> None:
    objs = records(demo, "logs/demo/#demo/*.jsonl")
    cutoff = datetime.datetime(2026, 11, 27, 9, tzinfo=UTC)
    want = [
        obj for obj in objs if EPOCH + datetime.timedelta(milliseconds=obj["time_ms"]) >= cutoff
    ]
    assert [json.loads(line) for line in _run(_one_liner("fromdate"), demo)] == want


def _berlin_log(folder: Path) -> list[dict[str, Any]]:
    """Lines in Europe/Berlin time (+01:00), around 09:00Z and UTC midnight."""
    said = [
        ((7, 30), "alice", "message", "early"),  # 08:30+01:00
        ((8, 59, 59, 999000), "bob", "message", "just before 09:00Z"),  # 09:59:59.999+01:00
        ((9, 0), "alice", "message", "at 09:00Z"),  # 10:00+01:00
        ((9, 30), "carol", "join", None),
        ((22, 30), "bob", "message", "late"),  # 23:30+01:00, still the 27th
        ((23, 30), "alice", "message", "after midnight"),  # 00:30+01:00 on the 28th
    ]
    channel = folder / "logs" / "demo" / "#demo"
    channel.mkdir(parents=True)
    objs = []
    for hms, nick, kind, text in said:
        when = datetime.datetime(2026, 11, 27, *hms, tzinfo=UTC)
        record = LogRecord(when, "server", kind, "demo", "#demo", nick, nick, "h", None, text)
        line = format_jsonl(record, BERLIN)
        obj = json.loads(line)
        with (channel / f"{obj['time'][:10]}.jsonl").open("a", encoding="utf-8") as f:
            f.write(line)
        objs.append(obj)
    assert sorted(p.name for p in channel.iterdir()) == ["2026-11-27.jsonl", "2026-11-28.jsonl"]
    return objs


def test_the_one_liners_in_a_log_in_berlin_time(tmp_path: Path) -> None:
    objs = _berlin_log(tmp_path)
    assert _counts(_run(_one_liner("strftime"), tmp_path)) == {
        ("2026-11-27", "alice"): 3,
        ("2026-11-27", "bob"): 2,
    }
    assert _counts(_run(_one_liner(".time[:10]"), tmp_path)) == {
        ("2026-11-27", "alice"): 2,
        ("2026-11-27", "bob"): 2,
        ("2026-11-28", "alice"): 1,
    }
    since = [json.loads(line) for line in _run(_one_liner("fromdate"), tmp_path)]
    assert [obj["time"] for obj in since] == [
        "2026-11-27T10:00:00.000+01:00",
        "2026-11-27T10:30:00.000+01:00",
        "2026-11-27T23:30:00.000+01:00",
        "2026-11-28T00:30:00.000+01:00",
    ]
    assert since == objs[2:]


def test_jq_cannot_read_time_itself_which_is_why_time_ms_is_there(tmp_path: Path) -> None:
    """What the README says of jq's date functions, on a +01:00 line: fromdateiso8601
    refuses it, strptime with %z ignores the offset (3600 s late), time_ms is right."""
    (obj,) = [o for o in _berlin_log(tmp_path) if o["text"] == "at 09:00Z"]
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps(obj) + "\n")

    def jq(program: str) -> subprocess.CompletedProcess[str]:
        argv = [JQ, "-r", program, str(one)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)

    refused = jq(".time | fromdateiso8601")
    assert (refused.stdout, refused.returncode != 0) == ("", True), refused
    assert "does not match format" in refused.stderr
    truth = int(datetime.datetime.fromisoformat(obj["time"]).timestamp())
    stripped = jq('.time | sub("\\\\.[0-9]+"; "") | strptime("%Y-%m-%dT%H:%M:%S%z") | mktime')
    assert stripped.returncode == 0, stripped.stderr
    assert int(stripped.stdout) - truth == 3600
    assert int(jq(".time_ms / 1000 | floor").stdout) == truth


def test_the_readme_example_line_is_what_the_formatter_writes() -> None:
    (line,) = re.findall(r'(?m)^    (\{"time":.*\})$', SECTION)
    record = LogRecord(
        datetime.datetime(2026, 11, 27, 9, 15, 0, 123000, tzinfo=UTC),
        "server",
        "message",
        "libera",
        "#chan",
        "alice",
        "~alice",
        "host",
        "alice",
        "hello",
        None,
        "abc",
        {"time": "2026-11-27T09:15:00.123Z", "msgid": "abc"},
    )
    assert format_jsonl(record, BERLIN) == line + "\n"


# ------------------------------------------------------------ shippers' mappings


def test_the_mapping_table_names_keys_of_the_schema() -> None:
    table = re.search(r"(?ms)^\| what it needs \| key \|\n(.*?)\n\n", SECTION)
    assert table is not None
    named = set(re.findall(r"`([a-z_]+)`", table.group(1)))
    assert {"time_ms", "time", "network", "channel", "type", "text"} <= named <= KEYS


def _yaml(top: str) -> dict[str, Any]:
    (config,) = [c for c in map(yaml.safe_load, _blocks("yaml")) if top in c]
    assert isinstance(config, dict)
    return config


def test_the_vector_mapping() -> None:
    config = _yaml("sources")
    assert config["sources"]["logbot"]["include"] == ["/srv/logbot/logs/**/*.jsonl"]
    (remap,) = config["transforms"].values()
    assert remap["type"] == "remap" and remap["inputs"] == ["logbot"]
    parse, *statements = remap["source"].strip().splitlines()
    assert parse == ". = parse_json!(.message)"
    read = set()
    for statement in statements:
        target, _, value = statement.partition(" = ")
        assert target in {".timestamp", ".message"}, statement  # Vector's own fields
        read |= set(re.findall(r"\.([a-z_]+)", value))
    assert read == {"time_ms", "text"} <= KEYS
    assert 'from_unix_timestamp!(.time_ms, unit: "milliseconds")' in remap["source"]
    (sink,) = config["sinks"].values()
    labels = {k: re.fullmatch(r"\{\{ (\w+) \}\}", v)[1] for k, v in sink["labels"].items()}
    assert labels == {"network": "network", "channel": "channel", "type": "type"}


def _alloy_map(block: str, name: str) -> dict[str, str]:
    match = re.search(rf"{name} = \{{(.*?)\}}", block)
    assert match is not None, name
    return dict(re.findall(r'"(\w+)" = "(\w+)"', match[1]))


def test_the_promtail_and_alloy_mappings_agree_and_name_keys_of_the_schema() -> None:
    (job,) = _yaml("scrape_configs")["scrape_configs"]
    json_stage, timestamp, labels = (next(iter(s.items())) for s in job["pipeline_stages"])
    assert (json_stage[0], timestamp[0], labels[0]) == ("json", "timestamp", "labels")
    extracted = json_stage[1]["expressions"]
    assert set(extracted.values()) <= KEYS
    assert extracted[timestamp[1]["source"]] == "time" and timestamp[1]["format"] == "RFC3339"
    assert set(labels[1]) == {"network", "channel", "type"} <= set(extracted)

    (alloy,) = _blocks("alloy")
    assert _alloy_map(alloy, "expressions") == extracted
    assert _alloy_map(alloy, "values") == {name: name for name in labels[1]}
    assert re.search(r'source = "(\w+)"', alloy)[1] == timestamp[1]["source"]
    assert re.search(r'format = "(\w+)"', alloy)[1] == "RFC3339"


def test_rfc3339_reads_every_time_the_bot_writes(demo: Path, tmp_path: Path) -> None:
    """The grammar of RFC 3339 (section 5.6), which Go's RFC3339 layout parses (with a
    fraction of a second), matches ``time``: Loki's stages may take it."""
    rfc3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
    for obj in records(demo) + _berlin_log(tmp_path):
        assert rfc3339.fullmatch(obj["time"]), obj["time"]


def test_the_ingest_pipeline() -> None:
    (block,) = _blocks("json")
    processors = [next(iter(p.items())) for p in json.loads(block)["processors"]]
    assert [kind for kind, _ in processors] == ["json", "date", "remove", "rename"]
    parse, date, remove, rename = (options for _, options in processors)
    assert (parse["field"], parse["target_field"]) == ("message", "logbot")
    assert date == {
        "field": "logbot.time_ms",
        "formats": ["UNIX_MS"],
        "target_field": "@timestamp",
    }
    assert remove == {"field": "message"}
    assert (rename["field"], rename["target_field"]) == ("logbot.text", "message")
    fields = re.findall(r'"logbot\.([a-z_]+)"', block)
    assert set(fields) == {"time_ms", "text"} <= KEYS
    named = re.findall(r"`logbot\.([a-z_]+)`", SECTION)
    assert {"network", "channel", "type", "nick"} <= set(named) <= KEYS
