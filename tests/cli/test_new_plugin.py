"""``logbot new-plugin NAME [--exec]``, run as a process the way a plugin author runs it.

What it writes must work as written: the generated test passes under pytest (a child
process, in a folder of the test's), ``logbot check`` loads the generated plugin with
the real plugin manager, and the code is clean under the project's own ruff rules (a
plugin written into the repository's ``plugins/`` is linted by CI).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command in ``cwd`` with an environment of our own: a ``$LOGBOT_CONFIG`` of
    whoever runs the tests must not change where the plugin goes."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "LANG": "C.UTF-8",
        "HOME": str(cwd),
    }
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def new_plugin(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run("-m", "logbot", "new-plugin", *args, cwd=cwd)


def pytest_passes(test: Path) -> str:
    done = run("-m", "pytest", "-q", "-p", "no:cacheprovider", test.name, cwd=test.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def check(tmp_path: Path, name: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """``logbot check`` of a config that enables ``name`` from ``folder``."""
    config = tmp_path / "check.yaml"
    config.write_text(
        "networks:\n  - name: n\n    nick: x\n    servers: [h]\n"
        f"plugins:\n  plugin_dirs: ['{folder}']\n  enabled: [help, {name}]\n"
    )
    return run("-m", "logbot", "check", "-c", str(config), cwd=tmp_path)


def lint(*paths: Path) -> None:
    config = str(REPO / "pyproject.toml")
    for argv in (["check"], ["format", "--check"]):
        done = run("-m", "ruff", *argv, "--config", config, *map(str, paths), cwd=REPO)
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_python_plugin_and_its_passing_test(tmp_path: Path) -> None:
    done = new_plugin("greet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plugin, test = tmp_path / "plugins" / "greet.py", tmp_path / "plugins" / "test_greet.py"
    lines = done.stdout.splitlines()
    assert lines[:2] == [
        "wrote plugins/greet.py: a Python plugin with one command, !greet",
        "wrote plugins/test_greet.py: its test",
    ]
    # how to enable it: the default plugins and this one, and the folder (not searched yet)
    assert (
        "    enabled: [help, ping, version, uptime, hello, seen, last, grep, admin, greet]" in lines
    )
    assert f'    plugin_dirs: ["{(tmp_path / "plugins").resolve()}"]' in lines
    assert "Run its test: python -m pytest plugins/test_greet.py" in lines
    assert '@command("greet", ' in plugin.read_text()
    assert "2 passed" in pytest_passes(test)
    lint(plugin, test)

    checked = check(tmp_path, "greet", tmp_path / "plugins")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    plugin.unlink()  # the same check fails without the plugin: it was loaded above
    assert check(tmp_path, "greet", tmp_path / "plugins").returncode == 1


def test_an_exec_plugin_and_its_passing_test(tmp_path: Path) -> None:
    done = new_plugin("shout", "--exec", "--dir", "mine", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    script, test = tmp_path / "mine" / "exec.d" / "shout", tmp_path / "mine" / "test_shout.py"
    assert done.stdout.splitlines()[:2] == [
        "wrote mine/exec.d/shout: an exec plugin with one command, !shout",
        "wrote mine/test_shout.py: its test",
    ]
    assert script.read_text().startswith("#!/bin/sh\n# help: says back what it is given\n")
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert "2 passed" in pytest_passes(test)  # the script ran as a real child
    lint(test)
    checked = check(tmp_path, "shout", tmp_path / "mine")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_first_plugin_folder_of_the_config(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "bot.yaml").write_text(
        "networks:\n  - name: n\n    nick: x\n    servers: [h]\n"
        "plugins:\n  plugin_dirs: [first, second]\n  enabled: [ping]\n"
    )
    done = new_plugin("greet", "-c", "etc/bot.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # relative plugin_dirs start at the config's folder, as the bot reads them
    assert (tmp_path / "etc" / "first" / "greet.py").is_file()
    assert "To enable it, add greet to plugins.enabled in etc/bot.yaml:" in done.stdout
    assert "    enabled: [ping, greet]" in done.stdout
    assert "plugin_dirs" not in done.stdout.split("enabled:")[1]  # it is searched already

    # config.yaml in the working folder is read without -c
    (tmp_path / "config.yaml").write_text((tmp_path / "etc" / "bot.yaml").read_text())
    assert new_plugin("other", cwd=tmp_path).returncode == 0
    assert (tmp_path / "first" / "other.py").is_file()


def test_files_are_not_overwritten_without_force(tmp_path: Path) -> None:
    assert new_plugin("greet", cwd=tmp_path).returncode == 0
    plugin = tmp_path / "plugins" / "greet.py"
    plugin.write_text("# mine now\n")
    done = new_plugin("greet", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == "logbot: plugins/greet.py exists; --force overwrites it\n"
    assert plugin.read_text() == "# mine now\n"
    assert new_plugin("greet", "--force", cwd=tmp_path).returncode == 0
    assert '@command("greet", ' in plugin.read_text()


def test_a_second_plugin_of_the_same_name_is_refused(tmp_path: Path) -> None:
    assert new_plugin("greet", cwd=tmp_path).returncode == 0
    # an exec plugin greet beside greet.py would never be found: refused, even forced
    done = new_plugin("greet", "--exec", "--force", cwd=tmp_path)
    assert done.returncode == 1
    assert "plugins/greet.py is already plugin greet in plugins" in done.stderr
    assert not (tmp_path / "plugins" / "exec.d").exists()


@pytest.mark.parametrize("name", ["Greet", "1up", "my-plugin", "a.b", "_x", "x" * 31, ""])
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    done = new_plugin(name, cwd=tmp_path)
    assert done.returncode == 2
    assert "Invalid value for NAME" in done.stderr
    assert not (tmp_path / "plugins").exists()


def test_a_bad_config_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("networks: [\n")
    done = new_plugin("greet", "-c", "bad.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("logbot: invalid config:\n")
    done = new_plugin("greet", "-c", "missing.yaml", cwd=tmp_path)  # named, so it must exist
    assert done.returncode == 2
    assert not (tmp_path / "plugins").exists()
