"""The validated configuration: frozen dataclasses and their defaults.

``config.py`` turns YAML into these; everything else reads only these, so a
setting has one name, one type and one default, documented here and in the
README's config reference.  Secrets are :class:`~logbot.irc.sasl.Secret` so that
a repr, a log line or a traceback never shows them.

Log options are resolved per channel: the top-level ``logging`` section gives the
defaults, a network's ``logging`` overrides them for that network (and its private
messages), a channel's ``logging`` overrides them for that channel.  ``root`` and
``max_open_files`` are global: only the top level may set them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from logbot.config.pins import CertPin
from logbot.irc.core import REGISTRATION_TIMEOUT
from logbot.irc.keepalive import PING_INTERVAL, PING_TIMEOUT
from logbot.irc.limits import MAX_MEMBERS
from logbot.irc.sasl import Secret

#: Default seconds a channel rejoined after a gap waits for the history a server or
#: bouncer replays (``history_wait``; see :mod:`logbot.bot.replay`).
HISTORY_WAIT = 5.0

__all__ = [
    "ArchiveOptions",
    "DEFAULT_PATH",
    "DEFAULT_PLUGINS",
    "ChannelConfig",
    "Config",
    "EventFilter",
    "ExecPluginConfig",
    "HealthOptions",
    "IndexOptions",
    "LogOptions",
    "NetworkConfig",
    "PluginOptions",
    "RateLimit",
    "ReconnectOptions",
    "SaslOptions",
    "Secret",
    "ServerConfig",
    "WebOptions",
]

DEFAULT_PATH = "{network}/{channel}/{date:%Y-%m-%d}.log"


@dataclass(frozen=True)
class EventFilter:
    """Which kinds of channel events are logged (messages always are)."""

    joins: bool = True
    parts: bool = True
    quits: bool = True
    kicks: bool = True
    nicks: bool = True
    modes: bool = True
    topics: bool = True
    hosts: bool = True  # CHGHOST and SETNAME
    away: bool = True  # only seen with the away-notify capability


@dataclass(frozen=True)
class LogOptions:
    """How one channel is logged."""

    enabled: bool = True
    root: str = "logs"  # global; relative to the working directory
    path: str = DEFAULT_PATH  # must contain {channel}; {date...} needed for daily rotation
    formats: tuple[str, ...] = ("text", "jsonl")  # "text" -> .log, "jsonl" -> .jsonl
    # The text lines' layout: "limnoria" (Limnoria's ChannelLogger), "irssi" (its
    # autolog) or "znc" (its log module), each read by irclog2html and pisg; and the
    # time's strftime format (None: the layout's own; see config/text_layout.py).
    text_layout: str = "limnoria"
    time_format: str | None = None
    timezone: str = "UTC"  # IANA name
    rotation: str = "daily"  # "daily" (by the date in the path) or "size"
    max_bytes: int | None = None  # with rotation "size": rotate before passing this
    compress: str | None = None  # "gzip": compress rotated files in a child process
    retention_days: int | None = None  # delete rotated files older than this
    flush: str = "line"  # "line": one write per line; "interval": buffered
    flush_interval: float = 1.0  # seconds, with flush "interval"
    fsync_interval: float | None = None  # seconds between fsyncs; None: never fsync
    events: EventFilter = field(default_factory=EventFilter)
    private: bool = False  # log private messages (one file per nick)
    nolog_prefix: str | None = "[nolog]"  # lines starting with this are not logged
    opt_out: tuple[str, ...] = ()  # nicks or accounts whose lines become a marker
    max_open_files: int = 512  # global; least recently used files are closed first
    # Seconds a server-time stamp may be from our clock (ahead or behind) and still date
    # the line and its file: a server with a wrong clock must not send every later line
    # to 2999-01-01.log.  Beyond it the line gets our time (the server's is kept in the
    # JSONL).  None: trust any stamp a date can be computed from; 0: never trust one.
    server_time_tolerance: float | None = 86400.0


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int = 6667  # 6697 when tls is on and no port is given
    tls: bool = False
    verify: bool = True  # check the certificate and host name
    ca_file: str | None = None  # None: the system's CAs
    client_cert: str | None = None  # PEM (for SASL EXTERNAL / CertFP)
    client_key: str | None = None  # None: the key is in client_cert
    # Pinned certificates (``fingerprint``): with any, the CA and the name are not
    # checked, the certificate must match one of them (logbot.bot.pins)
    fingerprints: tuple[CertPin, ...] = ()

    def __str__(self) -> str:
        return f"{self.host}:{self.port}{' (tls)' if self.tls else ''}"


@dataclass(frozen=True)
class SaslOptions:
    username: str | None = None  # None: the network's nick
    password: Secret | None = field(default=None, repr=False)
    mechanisms: tuple[str, ...] = ("SCRAM-SHA-256", "PLAIN")  # or EXTERNAL, ECDSA-...
    required: bool = False  # disconnect if authentication fails
    # ECDSA-NIST256P-CHALLENGE: the private key's text (PEM or base64), checked at load,
    # and its public key as the services store it (base64 of the compressed point: not
    # a secret, shown by `logbot check` so that the operator knows what to register)
    key: Secret | None = field(default=None, repr=False)
    public_key: str | None = None


@dataclass(frozen=True)
class ReconnectOptions:
    """Capped, jittered exponential backoff between connection attempts."""

    initial_delay: float = 1.0  # seconds
    max_delay: float = 300.0
    factor: float = 2.0
    jitter: float = 0.1  # relative width of the random spread


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    key: Secret | None = field(default=None, repr=False)
    log: LogOptions = field(default_factory=LogOptions)


@dataclass(frozen=True)
class NetworkConfig:
    name: str  # letters, digits, '.', '_', '-': it names the log directory
    servers: tuple[ServerConfig, ...]
    nick: str
    alt_nicks: tuple[str, ...] = ()
    user: str | None = None  # None: the nick
    realname: str = "logbot"
    password: Secret | None = field(default=None, repr=False)  # server password (PASS)
    sasl: SaslOptions | None = None
    channels: tuple[ChannelConfig, ...] = ()
    log: LogOptions = field(default_factory=LogOptions)  # this network's defaults
    reconnect: ReconnectOptions = field(default_factory=ReconnectOptions)
    rejoin_after_kick: float | None = 10.0  # seconds; None: stay out
    quit_message: str = "logbot shutting down"
    line_rate: float | None = None  # lines/s sent; None: burst 4 then 1 line/s; 0: no limit
    registration_timeout: float = REGISTRATION_TIMEOUT  # s for CAP, SASL, 001 (60); then retry
    ping_interval: float = PING_INTERVAL  # seconds of silence before a PING (30)
    ping_timeout: float = PING_TIMEOUT  # seconds of silence that make the link dead (90)
    history_wait: float = HISTORY_WAIT  # s a rejoined channel waits for its history (5); 0: none
    max_connections: int = 10  # connections at most, when the channels exceed CHANLIMIT
    max_members: int = MAX_MEMBERS  # channel memberships tracked per connection (50,000)


#: The bundled plugins (``plugins/`` at the top of the repository) enabled by default.
DEFAULT_PLUGINS = ("help", "ping", "version", "uptime", "hello", "seen", "last", "grep", "admin")


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``burst`` at once, then one more every ``per`` seconds."""

    burst: int
    per: float


@dataclass(frozen=True)
class ExecPluginConfig:
    """A command answered by an executable (one child process per use)."""

    name: str  # the command name, and the name to enable
    command: tuple[str, ...]  # argv; a relative program path starts at the config's folder
    help: str = ""
    usage: str = ""
    admin: bool = False
    timeout: float | None = None  # seconds; None: PluginOptions.timeout


@dataclass(frozen=True)
class PluginOptions:
    """The ``plugins`` section: which reply plugins run, and the limits on all of them."""

    enabled: tuple[str, ...] = DEFAULT_PLUGINS
    plugin_dirs: tuple[str, ...] = ()  # searched before the bundled plugins/ folder
    prefix: str = "!"  # commands: "!cmd", "<nick>: cmd", "<nick>, cmd", or a private "cmd"
    data_dir: str = "data"  # plugins' key-value stores; relative to the working directory
    admins: tuple[str, ...] = ()  # "account:NAME" or a "nick!user@host" IRC mask (* and ?)
    ignore: tuple[str, ...] = ()  # "nick!user@host" IRC masks that never trigger a plugin
    timeout: float = 10.0  # seconds an async handler or exec plugin may take
    error_reply: str | None = "{nick}: sorry, {command} failed ({error})"  # None: silent
    user_rate: RateLimit = field(default_factory=lambda: RateLimit(burst=5, per=10.0))
    channel_rate: RateLimit = field(default_factory=lambda: RateLimit(burst=10, per=3.0))
    max_lines: int = 5  # lines per reply; the rest is dropped with a note
    max_line_bytes: int = 400  # UTF-8 bytes of reply text per line; longer lines are split
    loop_repeats: int = 3  # the same reply to the same target at most this many times ...
    loop_window: float = 60.0  # ... within this many seconds
    exec: tuple[ExecPluginConfig, ...] = ()
    # per plugin; not in the repr, as values may hold secrets from ${ENV}
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class HealthOptions:
    """The ``health`` section: the HTTP listener of ``/healthz`` and ``/metrics``."""

    port: int | None = None  # None: no listener (``logbot run --health-port`` wins)
    host: str = "127.0.0.1"  # the address to listen on; "0.0.0.0" or "::" for every one
    # Seconds log lines may wait for an unwritable file before /healthz says 503: long
    # enough for a retry (every 5 s) to ride out a blip, short enough to page someone.
    pending_grace: float = 30.0

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}" if self.port is not None else "off"


@dataclass(frozen=True)
class IndexOptions:
    """The ``index`` section: the SQLite search index of the jsonl logs (logbot.archive).

    The log files stay the source of truth; the index follows them from a separate
    process and can always be rebuilt from them (``logbot index --rebuild``)."""

    enabled: bool | None = None  # None: on when the config has a ``web`` section
    path: str | None = None  # None: <plugins.data_dir>/index.sqlite3
    interval: float = 1.0  # seconds between looks at the log files for new lines
    batch_lines: int = 5000  # lines indexed per transaction (one reactor turn)


@dataclass(frozen=True)
class ArchiveOptions:
    """The ``archive`` section: where the archive lives.  ``store: sqlite`` (the default)
    is the SQLite index of the ``index`` section, on this machine; ``store: postgres``
    feeds a PostgreSQL database (the ``postgres`` extra) that several bots may share,
    each event stored once (``logbot.archive.postgres``)."""

    store: str = "sqlite"  # "sqlite" or "postgres"
    dsn: Secret | None = field(default=None, repr=False)  # libpq connection string or URI
    instance: str | None = None  # this bot's name in a shared database; None: the host name
    dedupe_window: float = 3.0  # seconds: two bots' lines without msgid this close may match
    interval: float = 1.0  # seconds between looks at the log files for new lines
    batch_lines: int = 5000  # lines per database transaction


@dataclass(frozen=True)
class WebOptions:
    """The ``web`` section: the archive's web view (``logbot web``, or ``logbot run``'s
    child process).  Nothing is published that ``publish`` does not name."""

    port: int = 8080
    host: str = "127.0.0.1"  # the address to listen on; "0.0.0.0" or "::" for every one
    title: str = "IRC logs"
    # network name -> the channels published (as written in the config; compared
    # case-insensitively), or None for every channel of that network.  Private-message
    # logs are never published.
    publish: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)
    user: str | None = None  # HTTP basic auth, with password
    password: Secret | None = field(default=None, repr=False)
    token: Secret | None = field(default=None, repr=False)  # "Authorization: Bearer <token>"
    follow_interval: float = 5.0  # seconds between a live day page's looks for new lines
    max_results: int = 100  # search results per page

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


@dataclass(frozen=True)
class Config:
    networks: tuple[NetworkConfig, ...]
    reactor: str = "auto"  # "auto", "epoll", "poll" or "select"
    log: LogOptions = field(default_factory=LogOptions)  # the top-level defaults
    plugins: PluginOptions = field(default_factory=PluginOptions)
    health: HealthOptions = field(default_factory=HealthOptions)
    index: IndexOptions = field(default_factory=IndexOptions)
    archive: ArchiveOptions = field(default_factory=ArchiveOptions)
    web: WebOptions | None = None  # None: no web view
    source: str | None = None  # the file it was loaded from
