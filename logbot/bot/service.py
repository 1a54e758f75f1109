"""The service: every configured network, one log writer, signals and reloads.

Lifecycle on the reactor it is given (never the global one):

- ``start()``: connect every network; SIGHUP reloads; a ``before shutdown``
  trigger sends QUIT everywhere and waits (bounded: ``network.QUIT_WAIT``), a
  ``during shutdown`` trigger flushes and closes every log.  The reactor stops
  on SIGTERM/SIGINT by itself, so those run through the same triggers and the
  process exits 0 well within 5 seconds.
- ``reload()`` (SIGHUP): read the config again; if it is bad, say why and keep
  the running one.  Networks added are started, removed ones QUIT, changed ones
  get their new options (joins/parts now; servers, nick and SASL at their next
  connection).  Log files are reopened, so a logrotate that moved them away
  sees new files at once; a changed log root or file limit gets a new writer.
  Plugins are reloaded, code and settings, on the same connections.
  A changed ``health`` section restarts the health listener (if the new port
  cannot be had, that is logged and there is no listener until a reload fixes it).

The health listener (``/healthz``, ``/metrics``: :mod:`logbot.health.server`) listens
from ``start()`` (or earlier, from ``start_health()``, which ``logbot run`` calls to
fail at once on a busy port) until shutdown.  ``health_port``/``health_host`` (the
command line) win over the config's ``health`` section, at start and on reloads.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from logbot.archive.search.backend import index_file
from logbot.bot.archive_child import ArchiveChildren, sqlite_index_enabled
from logbot.bot.network import NetworkBot
from logbot.bot.sts_store import StsStore
from logbot.config.loader import ConfigError, load_config
from logbot.config.settings import Config, HealthOptions
from logbot.health.server import HealthListenError, HealthServer
from logbot.logs.writer import LogWriter, WriterStats
from logbot.plugins.manager import PluginManager
from logbot.plugins.runner import NetworkPlugins
from logbot.reactor import defer

__all__ = ["LogService"]

log = logging.getLogger(__name__)


def _grep_index(config: Config) -> str | None:
    """The index file ``!grep`` may answer from: only an index kept up to date
    (:func:`~logbot.bot.archive_child.sqlite_index_enabled`), else None."""
    return str(index_file(config)) if sqlite_index_enabled(config) else None


class LogService:
    def __init__(
        self,
        config: Config,
        reactor: Any,
        *,
        wall: Callable[[], float] = time.time,
        loader: Callable[[str], Config] = load_config,
        plugins: PluginManager | None = None,
        health_port: int | None = None,
        health_host: str | None = None,
        archive: bool = True,
    ) -> None:
        self.config = config
        self.reactor = reactor
        self.wall = wall
        self.loader = loader
        self.started = wall()  # for the metrics: the start time, and uptime from ...
        self.started_mono = reactor.seconds()  # ... the reactor's monotonic clock
        self.writer = self._new_writer(config)
        self.retired_writes = WriterStats()  # counters of writers replaced by reloads
        self.plugins = (
            plugins
            if plugins is not None
            else PluginManager(
                config.plugins,
                reactor,
                log_root=config.log.root,
                wall=wall,
                index_path=_grep_index(config),
            )
        )
        # The STS policies servers gave (<data_dir>/sts.json), shared by every network
        self.sts = StsStore(config.plugins.data_dir, wall)
        self.networks: dict[str, NetworkBot] = {}
        for net in config.networks:
            self._add_network(net)
        self.reloads = 0
        self.reload_failures = 0
        # Lines given up by writers closed on a reload (a new log root) with lines still
        # pending: counted in the exit status like the last writer's.
        self._lost_lines = 0
        self._lost_targets: set[str] = set()
        self._health_port, self._health_host = health_port, health_host  # the command line's
        self.health: HealthServer | None = None
        # The index follower / web view in a child process (logbot.bot.archive_child),
        # when the config asks for one; ``archive=False`` (the demo) never starts it.
        self.archive: ArchiveChildren | None = ArchiveChildren(reactor, config) if archive else None

    def _add_network(self, net: Any) -> NetworkBot:
        bot = self.networks[net.name] = NetworkBot(
            net, self.reactor, self.writer, wall=self.wall, sts=self.sts
        )
        bot.plugins = NetworkPlugins(self.plugins, bot)
        return bot

    def _new_writer(self, config: Config) -> LogWriter:
        return LogWriter(
            self.reactor,
            root=config.log.root,
            max_open_files=config.log.max_open_files,
            wall=self.wall,
            spawner=self.reactor,
        )

    # -- lifecycle --------------------------------------------------------------------

    def start(self, signals: bool = True) -> None:
        """Connect every network; with ``signals``, SIGHUP reloads (main thread)."""
        if signals and hasattr(self.reactor, "addSignalCallback"):
            self.reactor.addSignalCallback(signal.SIGHUP, self.reload)
        self.reactor.addSystemEventTrigger("before", "shutdown", self.stop)
        self.reactor.addSystemEventTrigger("during", "shutdown", self.writer.close)
        self.reactor.addSystemEventTrigger("during", "shutdown", self.plugins.close)
        self.reactor.addSystemEventTrigger("during", "shutdown", self.stop_health)
        self.start_health()
        names = ", ".join(self.networks) or "none"
        log.info("logbot starting: networks %s; logs under %s", names, self.config.log.root)
        self.plugins.load_all()
        loaded = ", ".join(p for p in self.config.plugins.enabled if p in self.plugins.plugins)
        log.info("plugins: %s", loaded or "none")
        for bot in self.networks.values():
            bot.start()
        if self.archive is not None:
            self.archive.start()

    def archive_feed_status(self) -> dict[str, Any] | None:
        """The PostgreSQL archive feed's last status (its child writes it after each
        look), with ``age_seconds`` by this service's wall clock; None without the
        feed (``archive.store`` not postgres) or before its first look."""
        if self.config.archive.store != "postgres":
            return None
        from logbot.archive.postgres.feeder import STATUS_NAME, read_status

        status = read_status(Path(self.config.plugins.data_dir) / STATUS_NAME)
        if status is None:
            return None
        written = status.get("written_at")
        if isinstance(written, int | float) and not isinstance(written, bool):
            status["age_seconds"] = self.wall() - written
        return status

    def write_totals(self) -> Any:
        """The writer's stats, its counters including those of writers replaced by
        reloads (for the metrics)."""
        return self.writer.stats.plus_counters(self.retired_writes)

    def _note_unwritten(self, writer: LogWriter) -> None:
        if writer.stats.pending:
            self._lost_lines += writer.stats.pending
            self._lost_targets.update(writer.pending_targets())

    def unwritten(self) -> tuple[int, list[str]]:
        """How many log lines were not written and for which channels, after the
        shutdown closed the writer (for ``logbot run``'s exit status)."""
        pending = self.writer.stats.pending
        targets = self._lost_targets.union(self.writer.pending_targets() if pending else ())
        return self._lost_lines + pending, sorted(targets)

    def pending_targets(self) -> list[str]:
        """The channels whose log lines wait for a failed file (for /healthz and exit)."""
        return self.writer.pending_targets()

    # -- the health listener ------------------------------------------------------------

    def health_options(self, config: Config) -> HealthOptions:
        """The config's ``health`` section, with the command line's overrides."""
        options = config.health
        if self._health_port is not None:
            options = replace(options, port=self._health_port)
        if self._health_host is not None:
            options = replace(options, host=self._health_host)
        return options

    def start_health(self) -> None:
        """Listen for ``/healthz`` and ``/metrics`` if a port is set (at most once);
        ``HealthListenError`` if the port cannot be had."""
        options = self.health_options(self.config)
        if self.health is not None or options.port is None:
            return
        server = HealthServer(self.reactor, self, options.host, options.port)
        server.start()
        self.health = server
        log.info("health: listening on %s (/healthz, /metrics)", options)

    def stop_health(self) -> None:
        health, self.health = self.health, None
        if health is not None:
            health.stop()

    def stop(self) -> defer.Deferred[Any]:
        """QUIT every network and stop the archive child; fires when all are done."""
        log.info("logbot stopping")
        archive = self.archive.stop() if self.archive is not None else None  # TERM now
        done = defer.gatherResults(
            [bot.stop() for bot in self.networks.values()], consumeErrors=True
        )
        if archive is not None:
            done.addCallback(lambda results: archive.addCallback(lambda _: results))
        return done

    # -- reload -----------------------------------------------------------------------

    def reload(self) -> bool:
        """Reload the config file (SIGHUP); False, and nothing changed, if it is bad."""
        source = self.config.source
        if source is None:
            log.warning("reload: the config was not loaded from a file; nothing to reload")
            return False
        try:
            new = self.loader(source)
        except ConfigError as e:
            self.reload_failures += 1
            log.error("reload: %s is not valid, keeping the running config:\n%s", source, e)
            return False
        self.reloads += 1
        self._apply(new)
        log.info("reload: %s applied", source)
        return True

    def _apply(self, new: Config) -> None:
        old = self.config
        self.config = new
        if (new.log.root, new.log.max_open_files) != (old.log.root, old.log.max_open_files):
            self.writer.close()
            self._note_unwritten(self.writer)
            self.retired_writes = self.retired_writes.plus_counters(self.writer.stats)
            self.writer = self._new_writer(new)
            self.reactor.addSystemEventTrigger("during", "shutdown", self.writer.close)
            for bot in self.networks.values():
                for conn in bot.connections():  # (all of a network's connections)
                    conn.writer = self.writer
        else:
            self.writer.reopen()
        if new.plugins.data_dir != old.plugins.data_dir:  # the policies of the new folder
            self.sts = StsStore(new.plugins.data_dir, self.wall)
            for bot in self.networks.values():
                for conn in bot.connections():
                    conn.sts.store = self.sts
        wanted = {net.name: net for net in new.networks}
        for name in list(self.networks):
            if name not in wanted:
                log.info("reload: network %s removed", name)
                bot = self.networks.pop(name)
                bot.plugins.close()
                bot.stop()
        for name, net in wanted.items():
            running = self.networks.get(name)
            if running is None:
                log.info("reload: network %s added", name)
                self._add_network(net).start()
            else:
                running.configure(net)
        self.plugins.index_path = _grep_index(new)
        self.plugins.reconfigure(new.plugins, new.log.root)
        if self.health_options(new) != self.health_options(old):
            self._restart_health()
        if self.archive is not None and (new.web, new.index, new.archive) != (
            old.web,
            old.index,
            old.archive,
        ):
            self.archive.reconfigure(new)

    def _restart_health(self) -> None:
        self.stop_health()
        try:
            self.start_health()
        except HealthListenError as e:
            log.error("reload: health: %s; no health listener until a reload fixes it", e)
            return
        if self.health is None:
            log.info("reload: health listener stopped")
