"""IRCv3 capability negotiation (ircv3.net/specs/extensions/capability-negotiation).

The dance, as the core drives it::

    -> CAP LS 302
    <- CAP * LS * :a b c          ("*" before the list: more lines follow)
    <- CAP * LS :d sasl=PLAIN
    -> CAP REQ :a sasl            (only capabilities we know)
    <- CAP * ACK :a sasl
       ... SASL, if acknowledged and configured ...
    -> CAP END                    (only when SASL is settled)

We request only capabilities in :data:`KNOWN_CAPS`.  A REQ is atomic: one
unknown name makes the server refuse the whole line, and InspIRCd offers
``inspircd.org/poison`` precisely to catch clients that request everything.

After registration the server may announce ``CAP NEW`` (we request what we
know) and ``CAP DEL`` (we forget it), with ``cap-notify``.

Some capabilities are read, never requested (:data:`READ_ONLY_CAPS`): ``sts``, whose
value is a policy for the client to act on, and which the spec forbids requesting.
Its value is handed on (``CapUpdate.sts``) when a complete ``CAP LS`` listing or a
``CAP NEW`` offers it; a ``CAP DEL`` of it changes nothing (the spec: a policy ends
only with ``duration=0``).

A listing is kept until its last line, and ``CAP NEW`` adds to it, so what is kept is
bounded (:data:`~logbot.irc.limits.MAX_CAP_ENTRIES`; servers offer a few dozen): past
``max_entries`` a capability we would not request is dropped (said once per
connection).  Those we would request are always kept, so a listing padded with junk
cannot cost us SASL (nor the ``sts`` policy).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from logbot.irc.diagnostics import Diagnostics
from logbot.irc.limits import MAX_CAP_ENTRIES
from logbot.irc.message import Message

__all__ = ["KNOWN_CAPS", "READ_ONLY_CAPS", "CapNegotiator", "CapUpdate"]

KNOWN_CAPS = frozenset(
    {
        "server-time",
        "message-tags",
        "account-tag",
        "extended-join",
        "multi-prefix",
        "userhost-in-names",
        "away-notify",
        "account-notify",
        "chghost",
        "setname",
        "batch",
        "draft/chathistory",
        "echo-message",
        "cap-notify",
        "invite-notify",
        "sasl",
        "draft/channel-rename",
        "standard-replies",
    }
)

#: Capabilities whose value we read and act on but never request (see above).
READ_ONLY_CAPS = frozenset({"sts"})

log = logging.getLogger(__name__)

# A REQ line must fit in 512 bytes with "CAP REQ :" and CRLF; stay well below.
_REQ_BUDGET = 400


@dataclass
class CapUpdate:
    """What the core should do after one CAP message."""

    lines: list[str] = field(default_factory=list)
    changed: bool = False  # ``enabled`` changed
    ready: bool = False  # negotiation settled: start SASL or send CAP END
    # The ``sts`` value, when a complete LS listing or this NEW offered it ("" when it
    # came without one); None: not offered.
    sts: str | None = None


class CapNegotiator:
    """Tracks offered and enabled capabilities; produces CAP lines."""

    def __init__(
        self,
        wanted: frozenset[str] | set[str] = KNOWN_CAPS,
        max_entries: int = MAX_CAP_ENTRIES,
        diagnostics: Diagnostics | None = None,
    ) -> None:
        unknown = set(wanted) - KNOWN_CAPS
        if unknown:
            raise ValueError(f"cannot request capabilities we do not handle: {sorted(unknown)}")
        self.wanted = frozenset(wanted)
        self.max_entries = max_entries
        self.diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        self.available: dict[str, str | None] = {}
        self.enabled: set[str] = set()
        self.ended = False  # CAP END sent, or CAP unsupported
        self._listing = False
        self._pending_reqs = 0

    def start(self) -> list[str]:
        self._listing = True
        return ["CAP LS 302"]

    def end(self) -> list[str]:
        """``CAP END`` once (nothing if already ended or never started)."""
        if self.ended:
            return []
        self.ended = True
        return ["CAP END"]

    def unsupported(self) -> None:
        """The server ignored CAP (registered without it, or 421)."""
        self._listing = False
        self.ended = True

    @property
    def sasl_mechanisms(self) -> list[str] | None:
        """Mechanisms from ``sasl=PLAIN,EXTERNAL`` (302), ``None`` if not listed."""
        value = self.available.get("sasl")
        return value.split(",") if value else None

    def _keeps(self, name: str, kept: dict[str, str | None] | set[str]) -> bool:
        """Whether ``name`` may be added to ``kept`` (``available`` or ``enabled``)."""
        if (
            name in kept
            or name in self.wanted
            or name in READ_ONLY_CAPS
            or len(kept) < self.max_entries
        ):
            return True
        self.diagnostics.once(
            "cap entries",
            log,
            "the server listed more than %d capabilities: %.60r and any further ones we "
            "would not request are ignored",
            self.max_entries,
            name,
        )
        return False

    def _offered(self, caps: list[str]) -> None:
        """Record ``name`` / ``name=value`` items of CAP LS or NEW in ``available``."""
        available = self.available
        for item in caps:
            name, sep, value = item.partition("=")
            if self._keeps(name, available):
                available[name] = value if sep else None

    def _request(self, names: list[str]) -> list[str]:
        wanted = sorted(n for n in names if n in self.wanted and n not in self.enabled)
        lines: list[str] = []
        current: list[str] = []
        for name in wanted:
            if current and len(" ".join(current + [name])) > _REQ_BUDGET:
                lines.append("CAP REQ :" + " ".join(current))
                current = []
            current.append(name)
        if current:
            lines.append("CAP REQ :" + " ".join(current))
        self._pending_reqs += len(lines)
        return lines

    def handle(self, msg: Message) -> CapUpdate:
        """Process one ``CAP`` message (``CAP <nick> <sub> [*] :<caps>``)."""
        update = CapUpdate()
        if len(msg.params) < 3:
            return update
        sub = msg.params[1].upper()
        more = len(msg.params) > 3 and msg.params[2] == "*"
        caps = msg.params[-1].split()
        if sub == "LS":
            self._offered(caps)
            if not more and self._listing:
                self._listing = False
                update.lines = self._request(list(self.available))
                update.ready = not update.lines
                if "sts" in self.available:
                    update.sts = self.available["sts"] or ""
        elif sub == "NEW":
            self._offered(caps)
            update.lines = self._request([item.partition("=")[0] for item in caps])
            for item in caps:
                name, _, value = item.partition("=")
                if name == "sts":
                    update.sts = value
        elif sub == "DEL":
            for name in caps:
                self.available.pop(name, None)
                update.changed |= name in self.enabled
                self.enabled.discard(name)
        elif sub in ("ACK", "NAK"):
            if sub == "ACK":
                for name in caps:
                    if name.startswith("-"):
                        self.enabled.discard(name[1:])
                    elif self._keeps(name, self.enabled):  # (an ACK of what we never asked)
                        self.enabled.add(name)
                update.changed = True
            if self._pending_reqs:
                self._pending_reqs -= 1
                update.ready = self._pending_reqs == 0 and not self.ended
        return update
