"""Finding plugins by name and reading what they offer.

Where a name is looked for, first hit wins, so a user's folder can replace a
bundled plugin:

1. the configured ``plugin_dirs``, then the bundled ``plugins/`` folder:
   ``<dir>/<name>.py``, ``<dir>/<name>/__init__.py``, or an executable in a
   ``<dir>/*.d/`` folder (an exec plugin);
2. installed packages' entry points in the ``logbot.plugins`` group.

Why each load executes the file into a *fresh* module (``logbot_plugins.<name>``)
instead of ``importlib.reload``: a reload that fails half-way would leave the
running plugin's module half-replaced.  A fresh module either loads completely
or is thrown away, and the old one keeps running untouched.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from logbot.plugin import CommandSpec, EventSpec, RuleSpec, specs_of
from logbot.plugins.exec import find_exec_plugins

__all__ = [
    "BUNDLED_DIR",
    "ENTRY_POINT_GROUP",
    "LoadedPlugin",
    "PluginLoadError",
    "Source",
    "find_source",
    "load",
]

log = logging.getLogger(__name__)


def _bundled_dir() -> Path:
    """The repository's top-level ``plugins/`` folder (a source tree, an editable
    install), else the copy a wheel installs under ``<prefix>/share/logbot/plugins``.

    A source tree is recognised by its ``pyproject.toml`` too: installed, the folder two
    levels up is site-packages, where another distribution may own a ``plugins/``."""
    root = Path(__file__).resolve().parents[2]
    source_tree = root / "plugins"
    if source_tree.is_dir() and (root / "pyproject.toml").is_file():
        return source_tree
    return Path(sys.prefix) / "share" / "logbot" / "plugins"


#: Where the bundled plugins are.
BUNDLED_DIR = _bundled_dir()
ENTRY_POINT_GROUP = "logbot.plugins"
MODULE_PREFIX = "logbot_plugins"


class PluginLoadError(Exception):
    """A plugin that cannot be loaded; the message says why, in one line."""


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # "file", "exec" or "entry point"
    where: str  # a path, or "package:module" for an entry point
    entry_point: Any = None

    def __str__(self) -> str:
        return f"{self.where} ({self.kind})" if self.kind != "file" else self.where


@dataclass
class LoadedPlugin:
    """One plugin's handlers, read from its module (or built for an exec plugin)."""

    name: str
    source: Source
    module: Any = None
    commands: list[tuple[CommandSpec, Callable[..., Any]]] = field(default_factory=list)
    rules: list[tuple[RuleSpec, Callable[..., Any]]] = field(default_factory=list)
    events: list[tuple[EventSpec, Callable[..., Any]]] = field(default_factory=list)
    setup: Callable[..., Any] | None = None
    teardown: Callable[..., Any] | None = None
    timeout: float | None = None  # for its async results; None: PluginOptions.timeout


def find_source(
    name: str, dirs: Iterable[str | Path], entry_points: Callable[[], Iterable[Any]] | None = None
) -> Source | None:
    """Where plugin ``name`` comes from (see the module doc), or None."""
    folders = [Path(d) for d in dirs]
    for folder in folders:
        file = folder / f"{name}.py"
        if file.is_file():
            return Source(name, "file", str(file))
        package = folder / name / "__init__.py"
        if package.is_file():
            return Source(name, "file", str(package))
        executable = find_exec_plugins([folder]).get(name)
        if executable is not None:
            return Source(name, "exec", str(executable))
    for point in (entry_points or _entry_points)():
        if point.name == name:
            return Source(name, "entry point", point.value, point)
    return None


def _entry_points() -> Iterable[Any]:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def load(source: Source) -> LoadedPlugin:
    """Import the plugin afresh and read its handlers.

    :raises PluginLoadError: the import failed (the message names the exception and,
        for a syntax error, the line), or the module offers nothing.
    """
    if source.kind == "exec":
        raise PluginLoadError(f"{source} is an exec plugin: the manager runs it")
    module = _import(source)
    return read_module(source, module)


def _import(source: Source) -> Any:
    try:
        if source.kind == "entry point":
            loaded = source.entry_point.load()
            if isinstance(loaded, ModuleType) and loaded.__name__ in sys.modules:
                loaded = importlib.reload(loaded)
            return loaded
        return _exec_file(source.name, Path(source.where))
    except PluginLoadError:
        raise
    except SyntaxError as e:
        where = f"{Path(e.filename or source.where).name} line {e.lineno}"
        raise PluginLoadError(f"SyntaxError: {e.msg} ({where})") from None
    except Exception as e:  # any error of the plugin's own code
        raise PluginLoadError(f"{type(e).__name__}: {e}{_where(e, source)}") from None


def _where(error: BaseException, source: Source) -> str:
    """`` (file line N)`` of the innermost frame in the plugin's own file."""
    tb, found = error.__traceback__, ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if os.path.abspath(filename) == os.path.abspath(source.where):
            found = f" ({Path(filename).name} line {tb.tb_lineno})"
        tb = tb.tb_next
    return found


def _exec_file(name: str, path: Path) -> ModuleType:
    module_name = f"{MODULE_PREFIX}.{name}"
    is_package = path.name == "__init__.py"
    spec = importlib.util.spec_from_file_location(
        module_name, path, submodule_search_locations=[str(path.parent)] if is_package else None
    )
    if spec is None or spec.loader is None:
        raise PluginLoadError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    if MODULE_PREFIX not in sys.modules:  # the parent, for a package plugin's relative imports
        parent = ModuleType(MODULE_PREFIX, "Plugins loaded by logbot (each from its own file).")
        parent.__path__ = []
        sys.modules[MODULE_PREFIX] = parent
    previous = sys.modules.get(module_name)
    for stale in [n for n in sys.modules if n.startswith(f"{module_name}.")]:
        del sys.modules[stale]  # a package's submodules are re-read with it
    sys.modules[module_name] = module  # dataclasses and relative imports look here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is None:
            sys.modules.pop(module_name, None)
        else:
            sys.modules[module_name] = previous
        raise
    return module


def read_module(source: Source, module: Any) -> LoadedPlugin:
    plugin = LoadedPlugin(source.name, source, module)
    for value in list(vars(module).values()):
        for spec in specs_of(value):
            if isinstance(spec, CommandSpec):
                plugin.commands.append((spec, value))
            elif isinstance(spec, RuleSpec):
                plugin.rules.append((spec, value))
            elif isinstance(spec, EventSpec):
                plugin.events.append((spec, value))
    setup, teardown = getattr(module, "setup", None), getattr(module, "teardown", None)
    plugin.setup = setup if callable(setup) else None
    plugin.teardown = teardown if callable(teardown) else None
    if not (plugin.commands or plugin.rules or plugin.events or plugin.setup):
        raise PluginLoadError(
            f"{source} has no @command, @rule or @event handler (is it a plugin?)"
        )
    return plugin
