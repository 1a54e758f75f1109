"""``logbot --help`` lists whole descriptions, ``version`` and ``--version`` agree, and
``logbot completion SHELL`` prints a completion script that completes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import click

from logbot import __version__
from logbot.cli import main
from tests.cli.process import environment, logbot


def _listed(help_text: str) -> dict[str, str]:
    """The Commands section of a help page: name -> its description, lines joined."""
    rows: dict[str, str] = {}
    name = ""
    section = help_text.split("\nCommands:\n", 1)[1]
    for line in section.splitlines():
        if not line.strip():
            break
        if line.startswith("  ") and not line.startswith("   "):
            name, _, text = line.strip().partition(" ")
            rows[name] = text.strip()
        else:
            rows[name] += " " + line.strip()
    return rows


def test_help_shows_every_first_sentence_whole(tmp_path: Path) -> None:
    """At 80 columns, where click would cut them ("Validate the config, load the...")."""
    result = logbot("--help", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    listed = _listed(result.stdout)
    ctx = click.Context(main, info_name="logbot")
    wanted = {}
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None
        wanted[name] = command.get_short_help_str(limit=10_000)
    assert listed == wanted
    assert {"init", "completion", "check", "run", "health"} <= set(listed)
    assert not any(text.endswith("...") for text in listed.values())
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_version_and_dash_dash_version_print_the_same_line(tmp_path: Path) -> None:
    command = logbot("version", cwd=tmp_path)
    option = logbot("--version", cwd=tmp_path)
    assert command.stdout == option.stdout == f"logbot {__version__}\n"
    assert command.returncode == option.returncode == 0


def test_the_bash_script_completes_commands(tmp_path: Path) -> None:
    """As the README says: ``eval "$(logbot completion bash)"``, with ``logbot`` on the
    PATH; then bash's completion function is called as on a Tab after ``logbot ch``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "logbot"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m logbot "$@"\n')
    wrapper.chmod(0o755)
    bash = shutil.which("bash")
    assert bash is not None, "bash is needed to try the completion script"
    script = (
        'eval "$(logbot completion bash)"\n'
        "COMP_WORDS=(logbot ch); COMP_CWORD=1; _logbot_completion logbot\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
        "COMP_WORDS=(logbot completion ''); COMP_CWORD=2; COMPREPLY=(); "
        "_logbot_completion logbot\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = environment(PATH=f"{bin_dir}:{environment()['PATH']}")
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "check\nbash\nzsh\nfish\n"


def test_zsh_and_fish_scripts(tmp_path: Path) -> None:
    zsh = logbot("completion", "zsh", cwd=tmp_path)
    fish = logbot("completion", "fish", cwd=tmp_path)
    assert zsh.returncode == fish.returncode == 0
    assert zsh.stdout.startswith("#compdef logbot\n")
    assert "_LOGBOT_COMPLETE=zsh_complete" in zsh.stdout
    assert "_LOGBOT_COMPLETE=fish_complete" in fish.stdout
    assert fish.stdout.rstrip().endswith('--arguments "(_logbot_completion)";')
    unknown = logbot("completion", "tcsh", cwd=tmp_path)
    assert unknown.returncode == 2 and "'tcsh' is not one of 'bash', 'zsh', 'fish'" in (
        unknown.stderr
    )
