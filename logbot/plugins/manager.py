"""The plugin manager: which plugins run, their handler tables, reloads, stats.

One manager serves every network of the service (a plugin is loaded once);
each network gets a :class:`~logbot.plugins.runner.NetworkPlugins` that
turns its events into handler calls.  Why reload builds the new plugin
completely (import, read, ``setup``) before touching the old one: a plugin
that fails to load must leave the running version in place, and say why.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logbot import __version__
from logbot.config.settings import ExecPluginConfig, PluginOptions
from logbot.plugin import CommandSpec, Context
from logbot.plugins.exec import ExecPlugin, read_exec_header
from logbot.plugins.loader import (
    BUNDLED_DIR,
    ENTRY_POINT_GROUP,
    LoadedPlugin,
    PluginLoadError,
    Source,
    find_source,
    load,
)
from logbot.plugins.stats import PluginStats
from logbot.plugins.store import Stores

__all__ = ["Handler", "PluginManager", "PluginStats", "check_plugins"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handler:
    plugin: str
    func: Callable[..., Any]
    spec: Any  # CommandSpec, RuleSpec or EventSpec
    timeout: float  # seconds for an async result


class PluginManager:
    """Loads the enabled plugins and keeps the tables the runners dispatch from."""

    def __init__(
        self,
        options: PluginOptions,
        reactor: Any,
        *,
        log_root: str = "logs",
        wall: Callable[[], float] = time.time,
        bundled_dir: Path | None = BUNDLED_DIR,
        entry_points: Callable[[], Iterable[Any]] | None = None,
        stores: Stores | None = None,
        version: str = __version__,
        index_path: str | None = None,
    ) -> None:
        self.options = options
        self.reactor = reactor
        self.log_root = log_root
        self.index_path = index_path  # the search index's file, for !grep (None: none)
        self.wall = wall
        self.started = wall()
        self.bundled_dir = bundled_dir
        self.entry_points = entry_points
        self.version = version
        self.stores = stores if stores is not None else Stores(options.data_dir, reactor)
        self.stats = PluginStats()
        self.plugins: dict[str, LoadedPlugin] = {}
        self.load_errors: dict[str, str] = {}  # plugin -> why it is not running (as loaded)
        self.commands: dict[str, Handler] = {}  # name or alias -> handler
        self.rules: list[Handler] = []
        self.events: dict[str, list[Handler]] = {}
        self.runners: list[Any] = []  # NetworkPlugins, told about option changes

    # -- loading --------------------------------------------------------------------------

    @property
    def dirs(self) -> list[Path]:
        return _plugin_dirs(self.options, self.bundled_dir)

    def load_all(self) -> list[str]:
        """Load every enabled plugin; one message per plugin that failed."""
        problems = []
        for name in self.options.enabled:
            problem = self._load(name)
            if problem:
                problems.append(problem)
        self._rebuild()
        return problems

    def reload(self, name: str | None = None) -> list[str]:
        """Reload one plugin (``name``) or all enabled ones: code and settings.

        A plugin that fails keeps its old version running; the messages say what happened
        to each.
        """
        names = list(self.options.enabled) if name is None else [name]
        messages = []
        for each in names:
            if each not in self.options.enabled:
                messages.append(f"{each} is not an enabled plugin")
                continue
            problem = self._load(each)
            if problem:
                messages.append(problem)
            else:
                count = len(self.plugins[each].commands)
                messages.append(f"reloaded {each} ({count} command{'s' * (count != 1)})")
        self._rebuild()
        return messages

    def reconfigure(self, options: PluginOptions, log_root: str | None = None) -> list[str]:
        """New options (SIGHUP): unload what is no longer enabled, reload the rest."""
        old = self.options
        self.options = options
        if log_root is not None:
            self.log_root = log_root
        if options.data_dir != old.data_dir:
            self.stores.close_all()
            self.stores = Stores(options.data_dir, self.reactor)
        for name in [n for n in self.plugins if n not in options.enabled]:
            self._unload(self.plugins.pop(name))
            log.info("plugins: %s unloaded", name)
        self.load_errors = {n: e for n, e in self.load_errors.items() if n in options.enabled}
        problems = self.load_all()
        for runner in self.runners:
            runner.configure()
        return problems

    def close(self) -> None:
        for plugin in self.plugins.values():
            self._teardown(plugin)
        self.plugins.clear()
        self._rebuild()
        self.stores.close_all()

    def _load(self, name: str) -> str | None:
        """Load (or reload) ``name``; on failure the old version stays and the message
        says why."""
        try:
            plugin = self._build(name)
            self._setup(plugin)
        except PluginLoadError as e:
            self.stats.load_failures += 1
            old = self.plugins.get(name)
            message = f"plugin {name} failed to load: {e}"
            if old is not None:
                message += "; the previous version keeps running"
            self.load_errors[name] = str(e)
            log.error("plugins: %s", message)
            return message
        old = self.plugins.get(name)
        if old is not None:
            self._unload(old)
        self.plugins[name] = plugin
        self.load_errors.pop(name, None)
        log.info("plugins: %s loaded from %s", name, plugin.source)
        return None

    def _build(self, name: str) -> LoadedPlugin:
        configured = next((e for e in self.options.exec if e.name == name), None)
        if configured is not None:
            return self._exec_plugin(name, configured, Source(name, "exec", configured.command[0]))
        source = _locate(name, self.dirs, self.entry_points)
        if source.kind == "exec":
            help_text, usage = read_exec_header(Path(source.where))
            entry = ExecPluginConfig(name, (source.where,), help_text, usage)
            return self._exec_plugin(name, entry, source)
        return load(source)

    def _exec_plugin(self, name: str, entry: ExecPluginConfig, source: Source) -> LoadedPlugin:
        timeout = entry.timeout if entry.timeout is not None else self.options.timeout
        runner = ExecPlugin(
            name,
            entry.command,
            self.reactor,
            timeout=timeout,
            help=entry.help,
            usage=entry.usage,
            admin=entry.admin,
        )

        def run(context: Context) -> Any:
            return runner.run(
                {
                    "command": context.command,
                    "args": list(context.args),
                    "text": context.argtext,
                    "nick": context.nick,
                    "user": context.user,
                    "host": context.host,
                    "account": context.account,
                    "channel": context.channel,
                    "network": context.network,
                    "private": context.private,
                }
            )

        spec = CommandSpec(name.lower(), (), entry.help, entry.usage, entry.admin)
        # the child's own deadline goes first
        return LoadedPlugin(name, source, runner, commands=[(spec, run)], timeout=timeout + 1.0)

    def setup_context(self, name: str) -> Context:
        return Context(
            config=self.options.settings.get(name, {}),
            clock=self.reactor,
            store=self.stores.get(name, None),
            now=self.wall,
        )

    def _setup(self, plugin: LoadedPlugin) -> None:
        if plugin.setup is None:
            return
        try:
            plugin.setup(self.setup_context(plugin.name))
        except Exception as e:
            log.exception("plugins: setup of %s failed", plugin.name)
            raise PluginLoadError(f"setup() raised {type(e).__name__}: {e}") from None

    def _teardown(self, plugin: LoadedPlugin) -> None:
        if plugin.teardown is None:
            return
        try:
            plugin.teardown()
        except Exception:
            self.stats.error(plugin.name)
            log.exception("plugins: teardown of %s failed", plugin.name)

    def _unload(self, plugin: LoadedPlugin) -> None:
        self._teardown(plugin)
        self.stores.flush_all()

    # -- tables ---------------------------------------------------------------------------

    def _rebuild(self) -> None:
        """The dispatch tables, in the order of ``enabled``; a command name taken by an
        earlier plugin is refused (and logged) for a later one."""
        commands: dict[str, Handler] = {}
        rules: list[Handler] = []
        events: dict[str, list[Handler]] = {}
        default = self.options.timeout
        for name in self.options.enabled:
            plugin = self.plugins.get(name)
            if plugin is None:
                continue
            timeout = default if plugin.timeout is None else plugin.timeout
            for spec, func in plugin.commands:
                for word in (spec.name, *spec.aliases):
                    taken = commands.get(word)
                    if taken is not None:
                        log.warning(
                            "plugins: %s's command %r is already %s's; ignored",
                            name,
                            word,
                            taken.plugin,
                        )
                        continue
                    commands[word] = Handler(name, func, spec, timeout)
            rules.extend(Handler(name, func, spec, timeout) for spec, func in plugin.rules)
            for event_spec, func in plugin.events:
                events.setdefault(event_spec.name, []).append(
                    Handler(name, func, event_spec, timeout)
                )
        self.commands, self.rules, self.events = commands, rules, events
        self.message_hooks = events.get("message", [])

    def command_specs(self) -> list[CommandSpec]:
        """Every command once (not per alias), sorted by name."""
        seen: dict[str, CommandSpec] = {}
        for handler in self.commands.values():
            seen.setdefault(handler.spec.name, handler.spec)
        return [seen[name] for name in sorted(seen)]


def check_plugins(
    options: PluginOptions,
    bundled_dir: Path | None = BUNDLED_DIR,
    entry_points: Callable[[], Iterable[Any]] | None = None,
) -> list[str]:
    """Why each enabled plugin would not load (``logbot check``): Python plugins are
    imported (their ``setup`` is not run), exec plugins must be executable."""
    dirs = _plugin_dirs(options, bundled_dir)
    problems = []
    for name in options.enabled:
        configured = next((e for e in options.exec if e.name == name), None)
        try:
            if configured is not None:
                program = configured.command[0]
                found = shutil.which(program) if "/" not in program else program
                if found is None or not os.access(found, os.X_OK) or os.path.isdir(found):
                    raise PluginLoadError(f"cannot run {program}: not an executable file")
                continue
            source = _locate(name, dirs, entry_points)
            if source.kind != "exec":
                load(source)
        except PluginLoadError as e:
            problems.append(f"plugin {name}: {e}")
    return problems


def _plugin_dirs(options: PluginOptions, bundled_dir: Path | None) -> list[Path]:
    """Where plugins are looked for, in order: ``plugin_dirs``, then the bundled folder."""
    dirs = [Path(d) for d in options.plugin_dirs]
    if bundled_dir is not None:
        dirs.append(bundled_dir)
    return dirs


def _locate(
    name: str, dirs: list[Path], entry_points: Callable[[], Iterable[Any]] | None
) -> Source:
    source = find_source(name, dirs, entry_points)
    if source is None:
        where = ", ".join(str(d) for d in dirs) or "no folder"
        raise PluginLoadError(f"not found in {where} nor in the {ENTRY_POINT_GROUP} entry points")
    return source
