"""``channels: [#logbot, #dev]``: the quoting hint, at the line of the ``#``."""

from __future__ import annotations

from pathlib import Path

import pytest

from logbot.config.flow_comments import QUOTE_HINT, flow_comment_line
from logbot.config.loader import ConfigError, parse_config
from tests.cli.process import logbot

HEAD = "networks:\n  - name: n\n    nick: x\n    servers: [h]\n"


def test_check_gives_the_hint_on_the_line_of_the_comment(tmp_path: Path) -> None:
    (tmp_path / "flow.yaml").write_text(HEAD + "    channels: [#logbot, #dev]\n")  # 5 lines
    (tmp_path / "block.yaml").write_text(HEAD + "    channels:\n      - #logbot\n")
    flow = logbot("check", "flow.yaml", cwd=tmp_path)
    block = logbot("check", "block.yaml", cwd=tmp_path)
    assert (flow.returncode, flow.stdout, block.returncode, block.stdout) == (2, "", 2, "")
    assert flow.stderr == (
        "logbot: invalid config:\n"
        f"bad YAML: a comment cuts this [...] list short; {QUOTE_HINT} (flow.yaml line 5)\n"
    )
    assert block.stderr == (
        "logbot: invalid config:\n"
        f"networks[0].channels[0]: expected a channel name; {QUOTE_HINT} (block.yaml line 6)\n"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (HEAD + '    channels: ["#a", #b]\nreactor: auto\n', 5),  # after a ","
        (HEAD + '    channels: [\n      "#a", #b,\n      #c]\nreactor: auto\n', 6),
        (HEAD + "    channels: [  #a]\n", 5),
        ("logging: {opt_out: [#a]}\n" + HEAD, 1),  # any flow list, the hint says why
    ],
)
def test_the_hint_in_other_shapes(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="c.yaml")
    assert caught.value.problems == [
        f"bad YAML: a comment cuts this [...] list short; {QUOTE_HINT} (c.yaml line {line})"
    ]


def test_other_yaml_errors_keep_their_message() -> None:
    for text in ("a: {b: #x}\nc: 1\n", 'a: ["#x", ]]\n', "a: [1, 2\nb: 3\n"):
        with pytest.raises(ConfigError) as caught:
            parse_config(text, source="c.yaml")
        (problem,) = caught.value.problems
        assert problem.startswith("bad YAML: ") and "quote channel names" not in problem


def test_flow_comment_line() -> None:
    assert flow_comment_line("a: [#x]\n") == 1
    assert flow_comment_line('a: ["#x", "#y"]\n') is None  # quoted
    assert flow_comment_line("a: [  # a real comment\n  x]\n") == 1
    assert flow_comment_line("a: [\n  # on its own line\n  x]\n") is None
    assert flow_comment_line("a: {b: #x}\n") is None  # a mapping, not a list
    assert flow_comment_line("a: [x, #y]\nb: [#z]\n", before=1) == 1
    assert flow_comment_line("a: [x, #y]\nb: [#z]\n") == 2
    assert flow_comment_line("a: x # comment\n") is None
