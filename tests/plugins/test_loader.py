"""Finding and loading plugins: folders in order, packages, exec folders, entry points."""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import pytest

from logbot.plugins.loader import (
    BUNDLED_DIR,
    PluginLoadError,
    Source,
    find_source,
    load,
)
from tests.plugins.fakes import PluginHarness, write_plugin

PLUGIN = "from logbot.plugin import command\n\n@command('{name}')\ndef f(c):\n    return '{says}'\n"


def test_the_first_folder_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    write_plugin(first, "x", PLUGIN.format(name="x", says="first"))
    write_plugin(second, "x", PLUGIN.format(name="x", says="second"))
    source = find_source("x", [first, second], list)
    assert source == Source("x", "file", str(first / "x.py"))
    plugin = load(source)
    assert [spec.name for spec, _ in plugin.commands] == ["x"]
    assert plugin.commands[0][1](None) == "first"


def test_a_package_folder_and_an_exec_folder(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "helpers").mkdir(parents=True)
    (package / "helpers" / "text.py").write_text("def shout(s):\n    return s.upper()\n")
    (package / "__init__.py").write_text(
        "from logbot.plugin import command\nfrom .helpers.text import shout\n\n"
        "@command('shout')\ndef f(c):\n    return shout('hi')\n"
    )
    plugin = load(find_source("pkg", [tmp_path], list))
    assert plugin.commands[0][1](None) == "HI"
    tool = tmp_path / "tools.d" / "roll.sh"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho 4\n")
    os.chmod(tool, 0o755)
    source = find_source("roll", [tmp_path], list)
    assert source == Source("roll", "exec", str(tool))
    with pytest.raises(PluginLoadError):
        load(source)


def test_the_bundled_folder_is_the_repositorys_plugins() -> None:
    assert (BUNDLED_DIR / "hello.py").is_file()
    assert find_source("hello", [BUNDLED_DIR], list).kind == "file"
    assert find_source("nope", [BUNDLED_DIR], list) is None


def test_an_installed_package_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    write_plugin(site / "shiny_plugin", "__init__", PLUGIN.format(name="shiny", says="installed"))
    info = site / "shiny_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shiny-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[logbot.plugins]\nshiny = shiny_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()

    def points():  # type: ignore[no-untyped-def]
        return importlib.metadata.entry_points(group="logbot.plugins")

    source = find_source("shiny", [tmp_path / "empty"], points)
    assert source is not None and source.kind == "entry point" and source.where == "shiny_plugin"
    h = PluginHarness(tmp_path, enabled=("shiny",), entry_points=points)
    assert h.up() == []
    assert h.say("!shiny") == [("#a", "installed")]
    write_plugin(site / "shiny_plugin", "__init__", PLUGIN.format(name="shiny", says="v2"))
    assert h.manager.reload("shiny") == ["reloaded shiny (1 command)"]
    assert h.say("!shiny", after=10) == [("#a", "v2")]
