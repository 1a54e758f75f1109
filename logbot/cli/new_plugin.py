"""``logbot new-plugin NAME [--exec]``: a plugin to start from, and its test.

Why a command: the first hour of a plugin is finding where it goes, what it imports,
how it is enabled and how to test it without a server.  This writes a working answer to
each into the first plugin folder (``--dir``, else the config's first ``plugin_dirs``,
else ``./plugins``): ``NAME.py`` with one ``!NAME`` command (or, with ``--exec``, the
executable ``exec.d/NAME``, a POSIX shell script that speaks the exec protocol) and
``test_NAME.py``, which runs it through :class:`~logbot.bot.testing.PluginHarness`
and passes as written.  It then says how to enable it and run the test.

``NAME`` must be lower-case letters, digits and ``_``, starting with a letter: the one
spelling that is at once a file name, a Python identifier (``NAME_command``, the test's
names), an exec plugin's name (discovery lower-cases file names and cuts at a ``.``)
and a command.  Files that exist are left alone unless ``--force``; a folder that
already has another plugin of that name (``NAME.py`` beside an ``exec.d/NAME``) is
refused even then, since one of the two would silently hide the other.

Exit statuses: 0 written, 1 not written (a file exists, a clash, an OS error), 2 a bad
name or an unreadable config.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
from click.core import ParameterSource

if TYPE_CHECKING:
    from logbot.config.settings import Config

__all__ = ["new_plugin_command"]

NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
MAX_NAME = 30  # keeps the generated lines within 100 columns

PYTHON_PLUGIN = '''\
"""``!__NAME__ [text]``: answers whoever asked with what they said.

A skeleton written by ``logbot new-plugin``: make the command do what it should, and say
here why it exists.  Its test is ``test___NAME__.py`` beside this file.  A handler gets a
``Context`` (who asked, where, the words, the plugin's store and settings) and returns
its reply; the bot sends it, split, capped and rate-limited (the README's "Write a
plugin").
"""

from logbot.plugin import Context, command


@command("__NAME__", help="says back what it is given", usage="[text]")
def __NAME___command(context: Context) -> str:
    said = context.argtext or "nothing"
    return f"{context.nick}: you said {said}"
'''

EXEC_PLUGIN = """\
#!/bin/sh
# help: says back what it is given
# usage: [text]
#
# An exec plugin, a skeleton written by `logbot new-plugin --exec`: make it do what it
# should, in any language (keep the help and usage lines).  The bot runs this file once
# per use of !__NAME__: the request comes as one JSON object on stdin (command, args,
# text, nick, channel, network, private...) and as LOGBOT_COMMAND, LOGBOT_ARGS,
# LOGBOT_NICK, LOGBOT_CHANNEL, LOGBOT_ACCOUNT and LOGBOT_NETWORK in the environment.
# Each line written to stdout is a reply line; a non-zero exit status is an error.
# What people type is data: quote it ("$LOGBOT_ARGS"), never evaluate it.

cat >/dev/null  # the JSON request: this script needs only the environment

printf '%s: you said %s\\n' "$LOGBOT_NICK" "${LOGBOT_ARGS:-nothing}"
"""

TEST = '''\
"""The tests of the __NAME__ plugin (__WHAT__), on the bot's plugin harness.

``PluginHarness`` is the bot itself on a fake network: each call plays one thing a user
does and returns the lines the bot replied.__REAL__  Run it with
``python -m pytest __TEST__`` in this folder.
"""

from pathlib import Path

from logbot.bot.testing import PluginHarness

PLUGINS = Path(__file__).resolve().parent  # the plugin folder this test sits in


def test___NAME___says_back_what_it_is_given(tmp_path: Path) -> None:
    h = PluginHarness(["__NAME__", "help"], plugin_dirs=[PLUGINS], tmp=tmp_path)
    assert h.say("#chan", "alice", "!__NAME__ hello there") == ["alice: you said hello there"]
    assert h.say("#chan", "bob", "!__NAME__") == ["bob: you said nothing"]
    assert h.say("#chan", "alice", "!help __NAME__") == [
        "alice: !__NAME__ [text]: says back what it is given"
    ]
    h.close()


def test___NAME___in_private(tmp_path: Path) -> None:
    h = PluginHarness(["__NAME__"], plugin_dirs=[PLUGINS], tmp=tmp_path)
    # to the bot itself no prefix is needed, and the answer goes back to the sender
    assert h.say(h.botnick, "alice", "__NAME__ psst") == ["alice: you said psst"]
    assert h.replies[-1].target == "alice"
    h.close()
'''

REAL_CHILD = "\nEach use runs the script for real, as the bot would."


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--exec",
    "exec_plugin",
    is_flag=True,
    help="An exec plugin (any language): the executable exec.d/NAME, a shell script.",
)
@click.option(
    "-c",
    "--config",
    "config_path",
    envvar="LOGBOT_CONFIG",
    default="config.yaml",
    show_default=True,
    metavar="FILE",
    help="The config whose first plugin_dirs folder gets the files (if the file exists).",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    help="Write into this folder instead (made if missing).",
)
@click.option("--force", is_flag=True, help="Overwrite the files if they exist.")
def new_plugin_command(
    name: str, exec_plugin: bool, config_path: str, folder: str | None, force: bool
) -> None:
    """Write plugin NAME (one command, !NAME) and its test into the first plugin folder:
    --dir, else the config's first plugins.plugin_dirs, else ./plugins.  Prints what it
    wrote, how to enable it and how to run the test."""
    problem = _check_name(name)
    if problem:
        raise click.BadParameter(problem, param_hint="NAME")
    config = _config(config_path)
    where = Path(folder or _first_dir(config))
    plugin = where / "exec.d" / name if exec_plugin else where / f"{name}.py"
    test = where / f"test_{name}.py"
    _refuse_clash(name, where, plugin)
    if not force:
        for path in (plugin, test):
            if path.exists() or path.is_symlink():
                _fail(f"{_shown(path)} exists; --force overwrites it")
    test_text = (
        TEST.replace("__WHAT__", "an exec plugin" if exec_plugin else "a Python plugin")
        .replace("__REAL__", REAL_CHILD if exec_plugin else "")
        .replace("__TEST__", test.name)
    )
    try:
        plugin.parent.mkdir(parents=True, exist_ok=True)
        _write(plugin, EXEC_PLUGIN if exec_plugin else PYTHON_PLUGIN, name, executable=exec_plugin)
        _write(test, test_text, name, executable=False)
    except OSError as e:
        _fail(f"cannot write into {_shown(where)}: {e.strerror or e}")
    kind = "an exec plugin" if exec_plugin else "a Python plugin"
    click.echo(f"wrote {_shown(plugin)}: {kind} with one command, !{name}")
    click.echo(f"wrote {_shown(test)}: its test")
    for line in _next_steps(name, where, test, config, config_path):
        click.echo(line)


def _check_name(name: str) -> str | None:
    if not NAME.match(name):
        return (
            f"{name!r} is not a plugin name: lower-case letters, digits and '_', "
            "starting with a letter (it names the file, the command and the test)"
        )
    if len(name) > MAX_NAME:
        return f"{name!r} is longer than {MAX_NAME} characters"
    return None


def _config(config_path: str) -> Config | None:
    """The config, if one was named or ``config.yaml`` is here; exit 2 if it is bad."""
    context = click.get_current_context()
    named = context.get_parameter_source("config_path") is not ParameterSource.DEFAULT
    if not named and not os.path.exists(config_path):
        return None
    from logbot.config.loader import ConfigError, load_config

    try:
        return load_config(config_path)
    except ConfigError as e:
        click.echo(f"logbot: invalid config:\n{e}", err=True)
        sys.exit(2)


def _first_dir(config: Config | None) -> str:
    if config is not None and config.plugins.plugin_dirs:
        return config.plugins.plugin_dirs[0]
    return "plugins"


def _refuse_clash(name: str, where: Path, plugin: Path) -> None:
    """Exit 1 when ``where`` already holds a plugin ``name`` other than ``plugin``: one
    of the two would hide the other (the loader takes the first it finds)."""
    from logbot.plugins.loader import find_source

    found = find_source(name, [where], entry_points=list)
    if found is not None and Path(found.where).resolve() != plugin.resolve():
        _fail(
            f"{_shown(Path(found.where))} is already plugin {name} in {_shown(where)}; "
            "pick another name or remove it"
        )


def _write(path: Path, template: str, name: str, *, executable: bool) -> None:
    path.write_text(template.replace("__NAME__", name), encoding="utf-8")
    if executable:
        path.chmod(0o755)


def _next_steps(
    name: str, where: Path, test: Path, config: Config | None, config_path: str
) -> list[str]:
    """How to enable the plugin in the config, check it and run its test."""
    from logbot.config.settings import DEFAULT_PLUGINS
    from logbot.plugins.loader import BUNDLED_DIR, find_source

    enabled = list(config.plugins.enabled if config is not None else DEFAULT_PLUGINS)
    dirs = [str(Path(d).resolve()) for d in config.plugins.plugin_dirs] if config else []
    here = str(where.resolve())
    if name not in enabled:
        enabled.append(name)
    if config is None:
        lines = ["", f"To enable it, list it in plugins.enabled (no {config_path} here):", ""]
    else:
        lines = ["", f"To enable it, add {name} to plugins.enabled in {config_path}:", ""]
    lines += ["  plugins:", f"    enabled: [{', '.join(enabled)}]"]
    if here not in dirs and here != str(BUNDLED_DIR.resolve()):
        # JSON strings are YAML strings: a path with ": " or "#" in it stays one path
        lines.append(f"    plugin_dirs: [{', '.join(json.dumps(d) for d in [*dirs, here])}]")
    bundled = find_source(name, [BUNDLED_DIR], entry_points=list)
    if bundled is not None and here != str(BUNDLED_DIR.resolve()):
        lines.append("")
        lines.append(f"(It replaces the bundled plugin {name}: plugin_dirs are searched first.)")
    lines += [
        "",
        f"then `logbot check -c {config_path}` loads it, and SIGHUP (or a restart) starts it.",
        f"Run its test: python -m pytest {_shown(test)}",
    ]
    return lines


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it is below it, else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def _fail(message: str) -> NoReturn:
    click.echo(f"logbot: {message}", err=True)
    sys.exit(1)
