"""A NetworkBot with plugins on the reactor's fakes, and plugins written on the fly.

``PluginHarness`` is registered on ``#a`` as ``bot``; ``say()`` plays a channel
or private line from a user and returns the bot's replies (``(target, text)``),
with the fake clock advanced by ``after`` seconds first if given.
"""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

from logbot.config.settings import PluginOptions
from logbot.plugins.manager import PluginManager
from logbot.plugins.runner import NetworkPlugins
from tests.bot.fakes import WALL0, Harness

ALICE = "alice!~alice@alice.host"
BOB = "bob!~bob@bob.host"
ROOT = "root!~root@admin.host"


def write_plugin(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


class PluginHarness(Harness):
    def __init__(
        self,
        tmp_path: Path,
        *,
        enabled: tuple[str, ...] = (),
        bundled: bool = False,
        caps: str = "",
        entry_points: Any = None,
        **options: Any,
    ) -> None:
        super().__init__()
        self.plugin_dir = tmp_path / "plugins"
        self.plugin_dir.mkdir(exist_ok=True)
        defaults = PluginOptions(
            enabled=enabled, plugin_dirs=(str(self.plugin_dir),), data_dir=str(tmp_path / "data")
        )
        self.options = replace(defaults, **options)
        self.manager = PluginManager(
            self.options,
            self.reactor,
            log_root=str(tmp_path / "logs"),
            wall=lambda: WALL0 + self.reactor.seconds(),
            bundled_dir=Path(__file__).resolve().parents[2] / "plugins" if bundled else None,
            entry_points=entry_points or (list),
        )
        self.runner = NetworkPlugins(self.manager, self.bot)
        self.bot.plugins = self.runner
        self.caps = caps

    def plugin(self, name: str, source: str) -> Path:
        return write_plugin(self.plugin_dir, name, source)

    def up(self) -> list[str]:
        """Load the plugins, connect, register and join #a; the load problems."""
        problems = self.manager.load_all()
        self.start()
        self.connect()
        self.register(caps=self.caps)
        self.join("#a")
        self.sent()
        return problems

    def say(
        self, text: str, source: str = ALICE, target: str = "#a", tags: str = "", after: float = 0.0
    ) -> list[tuple[str, str]]:
        if after:
            self.reactor.advance(after)
        prefix = f"@{tags} " if tags else ""
        self.feed(f"{prefix}:{source} PRIVMSG {target} :{text}")
        return self.replies()

    def replies(self) -> list[tuple[str, str]]:
        out = []
        for line in self.sent():
            command, _, rest = line.partition(" ")
            if command == "PRIVMSG":
                target, _, text = rest.partition(" :")
                out.append((target, text))
        return out
