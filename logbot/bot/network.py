"""One network: its connection, reconnects, channels and the records it logs.

``NetworkBot`` is the ``ReconnectingClientFactory`` of that network, so the
backoff (capped, jittered, exponential: ``reconnect`` in the config) and the
state that must outlive a connection live in one object:

- **server rotation**: each retry goes to the next server of the list;
- **STS** (:mod:`logbot.bot.sts`): a server's upgrade policy makes the next attempt go
  at once with TLS (no backoff), a stored policy makes every attempt to its host TLS;
- **delay reset** once a connection *registers* (001), not merely connects:
  a server that accepts and drops us at once still backs off;
- **markers**: a ``disconnect`` line in every joined channel when a
  connection ends, and on rejoining a ``gap`` line that says from when to when
  events may be missing (a ``connect`` line on a channel's first join, and a gap
  from the last line of its log, read back: a restart is a gap too), kept with the
  channels joined (:mod:`logbot.bot.joins`); behind a bouncer, a second 001 on one
  connection is a gap too (:mod:`logbot.bot.bouncer`);
- **history**: what the server or a bouncer replays after a gap is deduplicated
  against the log and written, and the gap line names only what is still missing
  (:mod:`logbot.bot.replay`);
- **rejoin** of every configured channel (with its key) after each
  registration, and after a kick once ``rejoin_after_kick`` seconds passed
  (:mod:`logbot.bot.joins`);
- **more connections** when the channels are more than one connection may join: each
  further connection is a ``NetworkBot`` too (``shard_of`` the first, with the same
  name and writer), and :mod:`logbot.bot.shards` says which connection holds which
  channel.

Every event becomes records (``events_to_records``), the channel's log
options decide what is kept (``policy``), and the shared writer writes.  An
exception while logging is reported and counted, never allowed to drop the
connection: the next line may well log fine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from logbot.bot.bouncer import Bouncer
from logbot.bot.conn_errors import explain
from logbot.bot.ircbot import JOIN_REFUSALS, LogBotClient, register_as
from logbot.bot.joins import Joins
from logbot.bot.netsplits import Netsplits
from logbot.bot.own_log import OwnLog
from logbot.bot.renames import Renames
from logbot.bot.replay import Replays
from logbot.bot.shards import Shards
from logbot.bot.standard_replies import StandardReplies
from logbot.bot.stats import NetworkStats
from logbot.bot.sts import NetworkSts
from logbot.bot.sts_store import StsStore
from logbot.bot.tls_context import TLSConfigError, client_context
from logbot.config.settings import ChannelConfig, LogOptions, NetworkConfig, ReconnectOptions
from logbot.irc import events as ev
from logbot.irc.limits import ReceiveLimits
from logbot.logs.events_to_records import RecordMaker
from logbot.logs.policy import apply_policy
from logbot.logs.record import LogRecord
from logbot.reactor import defer
from logbot.reactor.failure import Failure
from logbot.reactor.protocol import ReconnectingClientFactory

__all__ = ["NetworkBot", "NetworkStats"]

log = logging.getLogger(__name__)
QUIT_WAIT = 3.0  # seconds a QUIT may take before the connection is cut


class NetworkBot(ReconnectingClientFactory):
    protocol = LogBotClient
    noisy = False

    def __init__(
        self,
        config: NetworkConfig,
        reactor: Any,
        writer: Any,
        wall: Callable[[], float] = time.time,
        rng: Any = None,
        sts: StsStore | None = None,
        *,
        shard_of: NetworkBot | None = None,
        shard_index: int = 0,
    ) -> None:
        self.reactor = self.clock = reactor
        self.writer = writer
        self.wall = wall
        self.rng = rng
        self.stats = NetworkStats()
        self.maker = RecordMaker(config.name, wall)
        self.client: LogBotClient | None = None
        self.server_index = 0
        # STS policies (shared by the service's networks; None: this network's, in memory)
        self.sts = NetworkSts(lambda: self.config.name, sts or StsStore(None, wall))
        self.target: Any = None  # the server as the current attempt uses it (STS may change it)
        # The network's connections and which holds which channel (logbot.bot.shards):
        # this is connection ``shard_index + 1``; the first owns the coordinator.
        self.shard_index = shard_index
        self.shards: Shards = shard_of.shards if shard_of is not None else Shards(self)
        # channels: which, joined, gaps, rejoins after a kick (the !join/!part lists
        # are the network's: one for all its connections)
        self.joins: Joins = Joins(self, None if shard_of is None else shard_of.joins)
        self.joined = self.joins.joined  # folded -> channel name, while joined
        self._joining = self.joins.joining  # folded: joined, "joined" not said yet (at 366)
        self._gaps = self.joins.gaps  # folded -> (gap start, why)
        self._rejoins = self.joins.rejoins  # folded -> the delayed rejoin after a kick
        self.extra_channels = self.joins.extra  # folded -> joined by a command
        self.parted = self.joins.parted  # folded configured channels left by a command
        self._options: dict[str, LogOptions] = {}
        self._stopped: defer.Deferred[None] | None = None
        self.plugins: Any = None  # NetworkPlugins, when the service runs plugins
        self.own_log = OwnLog(lambda: self.config.name, lambda: self.writer, self.options_for)
        self.replays = Replays(self)
        self.netsplits = Netsplits(self)  # netsplit/netjoin batches: one text line each
        self.renames = Renames(self)  # channels renamed: log, options and joins follow
        self.standard_replies = StandardReplies(self)  # FAIL/WARN/NOTE: stderr, counted
        self._splits = self.netsplits.open  # open netsplit/netjoin batches (hot path)
        self.bouncer = Bouncer(self)  # a second 001 behind a bouncer: a gap
        self._collecting = self.replays.collecting  # open history batches (hot path)
        self._holds = self.replays.holds  # channels waiting for their history (hot path)
        self.configure(config)

    # -- configuration ----------------------------------------------------------------

    def configure(self, config: NetworkConfig) -> None:
        """Take a (new) config: backoff and log options at once; joins/parts if
        registered; server, nick and SASL changes at the next connection."""
        old = getattr(self, "config", None)
        self.config = config
        self._set_backoff(config.reconnect)
        self._rebuild_options()
        if old is None:
            self.stats.sasl_wanted(None if config.sasl is None else config.sasl.required)
        elif self.shard_index == 0:
            self.shards.configure(config)  # the others' configs, new channels placed
        client = self._registered_client()
        if old is None or client is None:
            return
        self.joins.reconfigured(old, client)

    def _wanted_channels(self) -> list[ChannelConfig]:
        return self.joins.wanted()  # (for logbot.bot.renames)

    def _join(self, channels: Any) -> None:
        self.joins.join(channels)  # (for logbot.bot.renames)

    def join_channel(self, name: str, key: str | None = None) -> str:
        """Join ``name`` now and after each reconnect (a plugin's ``!join``)."""
        return self.joins.join_channel(name, key)

    def part_channel(self, name: str, reason: str | None = None) -> str:
        """Leave ``name`` and do not rejoin it (a plugin's ``!part``)."""
        return self.joins.part_channel(name, reason)

    def _set_backoff(self, options: ReconnectOptions) -> None:
        # The factory grows the delay *before* using it (Twisted's way): starting from
        # initial_delay / factor, the first retry waits initial_delay, as documented.
        self.initialDelay = options.initial_delay / options.factor
        self.maxDelay = options.max_delay
        self.factor = options.factor
        self.jitter = options.jitter

    def _rebuild_options(self) -> None:
        """Channel options by folded name (folded with the server's CASEMAPPING, which
        005 may change after registration: ``_self_joined`` rebuilds if it did)."""
        fold = self._fold()
        client = self.client
        self._options_mapping = (
            client.core.state.isupport.casemapping
            if client is not None and client.core is not None
            else None
        )
        self._options = {fold(c.name): c.log for c in self.config.channels}
        self._options.update(self.renames.options(fold))  # renamed: theirs follow them

    def _fold(self) -> Callable[[str], str]:
        client = self.client
        if client is not None and client.core is not None:
            return client.core.state.fold
        return str.lower

    def replies_dropped(self) -> int:
        """Reply lines the send queue dropped, all connections (logbot.irc.flood)."""
        client = self.client
        now = client.core.replies_dropped if client is not None and client.core else 0
        return self.stats.replies_dropped + now

    def options_for(self, folded: str) -> LogOptions:
        """The log options of a channel (its own, or the network's)."""
        return self._options.get(folded) or self.config.log

    def chantypes(self) -> str:
        client = self.client
        if client is not None and client.core is not None:
            return client.core.state.isupport.chantypes
        return "#&"

    @property
    def label(self) -> str:
        """The network's name, with the connection's number after the first one
        (``libera[2]``): what its lines on stderr start with."""
        name = self.config.name
        return name if self.shard_index == 0 else f"{name}[{self.shard_index + 1}]"

    def connections(self) -> list[NetworkBot]:
        """Every connection of this network, the first one first (for the metrics)."""
        return self.shards.connections()

    def nickname(self) -> str | None:
        client = self.client
        return client.nickname if client is not None else None

    def _registered_client(self) -> LogBotClient | None:
        client = self.client
        if client is None or client.core is None or not self.stats.registered:
            return None
        return client

    # -- connecting -------------------------------------------------------------------

    @property
    def server(self) -> Any:
        servers = self.config.servers
        return servers[self.server_index % len(servers)]

    @property
    def current(self) -> Any:
        """The server as the current (or last) attempt used it: the config's entry, or
        what an STS policy made of it (TLS, another port)."""
        return self.target if self.target is not None else self.server

    def start(self) -> None:
        self.continueTrying = 1
        self.stats.starting(self.wall())
        self._connect()

    def _connect(self) -> None:
        server = self.target = self.sts.plan(self.server)
        log.info("%s: connecting to %s", self.label, server)
        if server.tls:
            try:
                context = client_context(server)
            except TLSConfigError as e:
                log.error("%s: %s", self.config.name, e)
                self.stats.failed(str(e))
                self.retry()
                return
            self.stats.attempt()
            self.connector = self.reactor.connectSSL(server.host, server.port, self, context)
        else:
            self.stats.attempt()
            self.connector = self.reactor.connectTCP(server.host, server.port, self)

    def retry(self, connector: Any = None) -> None:
        """The next attempt, after the backoff delay, goes to the next server."""
        if not self.continueTrying:
            return
        if self.sts.upgrading:  # at once, to the same server: not a failure
            log.info("%s: reconnecting with TLS (STS)", self.config.name)
            self._callID = self.clock.callLater(0, self._reconnect)
            return
        self.retries += 1
        self.delay = self._next_delay()
        self.server_index += 1
        log.info("%s: reconnecting to %s in %.1f s", self.label, self.server, self.delay)
        self._callID = self.clock.callLater(self.delay, self._reconnect)

    def _reconnect(self) -> None:
        self._callID = None
        self.stats.reconnects += 1
        self._connect()

    def buildProtocol(self, addr: Any) -> LogBotClient:
        client: LogBotClient = super().buildProtocol(addr)
        config = self.config
        register_as(client, config)
        rate = config.line_rate  # lines per second; IRCClient.lineRate is seconds per line
        client.lineRate = None if rate is None else (0 if rate == 0 else 1.0 / rate)
        client.clock = self.reactor
        client.receive_limits = ReceiveLimits(members=config.max_members)
        sasl = config.sasl
        self.stats.sasl_wanted(None if sasl is None else sasl.required)
        self.client = client
        return client

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        why = explain(reason.value, self.current, getattr(connector, "timeout", None))
        log.warning("%s: %s", self.label, why)
        self.stats.failed(why)
        super().clientConnectionFailed(connector, reason)

    # -- the protocol's reports -------------------------------------------------------

    def connection_made(self, client: LogBotClient) -> None:
        self.stats.up()
        log.info("%s: connected to %s", self.label, self.current)

    def registered(self, client: LogBotClient) -> None:
        self.bouncer.registered(client)
        self.resetDelay()
        self.replays.registered()
        self.stats.signed_on(self.wall())
        self._rebuild_options()
        log.info("%s: registered as %s", self.label, client.nickname)
        self.shards.registered(self)  # the first plans; the next connection may open
        self.joins.join(self.joins.wanted())

    def connection_lost(self, client: LogBotClient, reason: Failure) -> None:
        if client is not self.client:
            return
        why = client.disconnect_reason or reason.getErrorMessage()
        expected = self._stopped is not None or self.sts.upgrading  # (our own close)
        level = logging.INFO if expected else logging.WARNING
        log.log(level, "%s: connection to %s lost: %s", self.label, self.current, why)
        self.replays.connection_lost()  # what was collected and held, before the markers
        self.netsplits.connection_lost()  # the summaries of netsplits still open, too
        self.sts.connection_lost()
        if client.core is not None:
            self.stats.replies_dropped += client.core.replies_dropped
        now = self.wall()
        self.joins.connection_lost(client, why, now)  # markers, gaps: nothing joined
        self.maker.reset()
        self.stats.lost(now, f"connection to {self.current} lost: {why}")
        self.client = None
        if self._stopped is not None:
            stopped, self._stopped = self._stopped, None
            stopped.callback(None)

    # -- events -----------------------------------------------------------------------

    def handle(self, event: ev.Event) -> None:
        """Log ``event`` of the current connection (the hot path: most events are
        channel messages)."""
        client = self.client
        if client is None or client.core is None:
            return
        state = client.core.state
        try:
            if self._collecting and event.tags.get("batch") in self._collecting:
                self.replays.take(event, state)  # history: logged once the batch is in
                return
            kind = type(event)
            if kind is ev.Privmsg:  # most lines: straight to the message record
                if event.private and event.source[:1] == "*":  # type: ignore[attr-defined]
                    self.bouncer.message(event)  # type: ignore[arg-type]
                pair = self.maker.message_pair(event, state)  # type: ignore[arg-type]
                if pair is not None:
                    self._write(pair[0], state.isupport.folded[pair[0]], pair[1], state)
                if self.plugins is not None:
                    self.plugins.handle(event, client)
                return
            if kind is ev.Joined and event.is_self:  # type: ignore[attr-defined]
                self.joins.self_joined(event, client)  # type: ignore[arg-type]
            if kind is ev.ChannelRenamed:  # its lines, around the move of its options
                self.renames.renamed(event, state)  # type: ignore[arg-type]
            elif not (
                self._splits
                and event.tags.get("batch") in self._splits
                and self.netsplits.take(event, state)  # QUITs in jsonl, a text summary
            ):
                for channel, record in self.maker.records(event, state):
                    self._write(channel, state.isupport.folded[channel], record, state)
            if kind is ev.Parted and event.is_self:  # type: ignore[attr-defined]
                self.joined.pop(state.fold(event.channel), None)  # type: ignore[attr-defined]
            elif kind is ev.Kicked and event.is_self:  # type: ignore[attr-defined]
                self.joins.kicked(event, state)  # type: ignore[arg-type]
            elif kind is ev.RawMessage:
                self._raw(event)  # type: ignore[arg-type]
            elif kind is ev.SaslResult:
                self._sasl_result(event)  # type: ignore[arg-type]
            elif kind is ev.StsAdvertised:
                self.sts.advertised(event, client)  # type: ignore[arg-type]
            elif kind is ev.BatchStarted:
                self.replays.batch_started(event, state)  # type: ignore[arg-type]
                self.netsplits.batch_started(event)  # type: ignore[arg-type]
            elif kind is ev.BatchEnded:
                self.replays.batch_ended(event, state)  # type: ignore[arg-type]
                self.netsplits.batch_ended(event)  # type: ignore[arg-type]
            elif kind is ev.BatchOverdue:
                self.replays.batch_overdue(event)  # type: ignore[arg-type]
                self.netsplits.batch_overdue(event)  # type: ignore[arg-type]
            elif kind is ev.StandardReply:
                self.standard_replies.received(event, state)  # type: ignore[arg-type]
            if self.plugins is not None:
                self.plugins.handle(event, client)
        except Exception:
            self.stats.log_failures += 1
            log.exception("%s: could not log %s", self.config.name, type(event).__name__)

    def read_done(self) -> None:
        """The end of one read from the server (for the history holds)."""
        if self._holds:
            self.replays.read_done()

    def _write(self, channel: str, folded: str, record: LogRecord, state: Any = None) -> None:
        holds = self._holds
        if (
            holds
            and folded in holds
            and record.replayed is None
            and self.replays.live(record, folded)
        ):
            return  # written after the channel's history
        options = self._options.get(folded) or self.config.log
        if state is None:
            client = self.client
            state = client.core.state if client is not None and client.core else None
        if state is None:
            out = apply_policy(record, options, False, str.lower)
        else:
            isupport = state.isupport
            out = apply_policy(
                record,
                options,
                channel[:1] not in isupport.chantypes,
                isupport.folded.__getitem__,
                isupport.casemapping,
            )
        if out is not None:
            self.writer.write(out, folded, options)
            self.stats.lines_logged += 1

    def _sasl_result(self, event: ev.SaslResult) -> None:
        """Say how the SASL login ended: a failed optional login leaves the bot logging
        unauthenticated (no cloak, no access to +R channels), which nobody would know
        otherwise.  The reason is the server's numeric and text, never a secret."""
        self.stats.sasl_result(event.success, event.mechanism, event.account, event.reason)
        name = self.config.name
        if event.success:
            log.info("%s: SASL %s login succeeded as %s", name, event.mechanism, event.account)
            return
        how = f"SASL {event.mechanism} login failed" if event.mechanism else "no SASL login"
        status = self.stats.sasl  # this connection's settings (a reload waits for the next)
        if status is not None and status.required:
            then = "disconnecting (sasl.required is true)"
        else:
            then = "continuing unauthenticated (sasl.required is false)"
        log.warning("%s: %s: %s; %s", name, how, event.reason, then)

    def _raw(self, event: ev.RawMessage) -> None:
        msg = event.message
        if msg.command == "366" and len(msg.params) >= 2 and self._joining:
            client = self.client
            if client is not None and client.core is not None:
                self.joins.say_joined(msg.params[1], client.core.state)
        if msg.command in ("366", "FAIL") and len(msg.params) >= 2 and self._holds:
            client = self.client
            state = client.core.state if client is not None and client.core else None
            if msg.command == "366":
                self.replays.names_done(msg.params[1], state)
            elif msg.params[0] == "CHATHISTORY" and state is not None:
                self.replays.request_failed(msg.params, state)
        if msg.command in JOIN_REFUSALS and len(msg.params) >= 2:
            self.joins.refused(msg)

    # -- stopping ---------------------------------------------------------------------

    def stop(self, message: str | None = None) -> defer.Deferred[None]:
        """QUIT and stop reconnecting; fires once the connection is closed (a QUIT
        unanswered after ``QUIT_WAIT`` seconds is cut short)."""
        self.stopTrying()
        self.joins.cancel_rejoins()
        if self.shard_index == 0:  # the others QUIT with it
            others = self.shards.stop(message)
            if others:
                both = defer.gatherResults([self._stop_own(message), *others], consumeErrors=True)
                return both.addCallback(lambda _: None)
        return self._stop_own(message)

    def _stop_own(self, message: str | None) -> defer.Deferred[None]:
        client = self.client
        if client is None or client.transport is None or client._lost:
            return defer.succeed(None)
        done: defer.Deferred[None] = defer.Deferred()
        self._stopped = done
        if client.core is not None:
            client.quit(message if message is not None else self.config.quit_message)
        else:
            client.transport.loseConnection()

        def cut() -> None:
            if self._stopped is done and client.transport is not None:
                log.info("%s: no answer to QUIT; closing", self.config.name)
                client.transport.abortConnection()

        timer = self.clock.callLater(QUIT_WAIT, cut)
        done.addBoth(lambda result: (timer.cancel() if timer.active() else None, result)[1])
        return done
