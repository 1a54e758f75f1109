"""How much a server can make one connection hold and spend: the receive side's limits.

A server decides what it sends, and everything the core keeps from it grows with
what it sends: every NAMES entry and JOIN becomes a tracked user (about 900 bytes
each), every ISUPPORT token and CAP entry a dictionary entry, every AUTHENTICATE
chunk part of a challenge.  Measured before these limits (``bench/bench_irc_floods.py``):
1,000,000 NAMES entries held 829 MiB and took 7.5 s of CPU, 1,200,000 ISUPPORT tokens
95 MiB, 8 MB of AUTHENTICATE chunks 6 s (the chunks were joined by repeated
concatenation).  A bot runs several networks on one loop, so one hostile or broken
network must cost a bounded amount and never stall the others.

Each default below is far above what a real server sends (noted for each), so that
no well-behaved network reaches it.  Past a limit, what is over is dropped (not
tracked, not stored), the first time is said once per connection
(:meth:`~logbot.irc.diagnostics.Diagnostics.once`), and every line still gives its
event: channel lines are logged whatever the limits.

:class:`ReceiveLimits` gathers them for :class:`~logbot.irc.core.IRCConnection`
(``limits=``); the defaults are the module's constants, documented in README ("IRC").
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MAX_CAP_ENTRIES",
    "MAX_CHANNELS",
    "MAX_CHANNEL_MEMBERS",
    "MAX_ISUPPORT_TOKENS",
    "MAX_MEMBERS",
    "MAX_SASL_CHALLENGE",
    "MAX_SCRAM_ITERATIONS",
    "REFOLD_BUDGET",
    "ReceiveLimits",
]

#: Channels of ours tracked at once.  Servers let a user into 20-250 channels
#: (Libera's CHANLIMIT is 250); only a server that forces JOINs on us gets further.
MAX_CHANNELS = 10_000
#: Members tracked in one channel.  The largest channels of the big networks hold a
#: few thousand users; one flooded channel must not take the whole of MAX_MEMBERS.
MAX_CHANNEL_MEMBERS = 10_000
#: Memberships tracked in all channels together (a user in three of our channels
#: counts three times; ours count, but are always tracked).  About 40 MiB when each is
#: a user of its own; 1,000 channels of 20 users (bench/bench_logbot.py) are 21,000.
MAX_MEMBERS = 50_000
#: ISUPPORT (005) tokens kept; servers send 20-60.
MAX_ISUPPORT_TOKENS = 1_000
#: Capabilities kept from CAP LS / CAP NEW, besides those we request; servers offer
#: 10-40.
MAX_CAP_ENTRIES = 1_000
#: Base64 bytes of one SASL challenge, reassembled from 400-byte AUTHENTICATE chunks;
#: a SCRAM server-first message is about 100.
MAX_SASL_CHALLENGE = 16_384
#: Names (users and memberships) re-keyed after CASEMAPPING changes, per connection; a
#: change that would take it past this is ignored.  Servers send CASEMAPPING once,
#: before any channel (a re-keying of one name); at MAX_MEMBERS one re-keys 100,000
#: names in 75 ms, so a server flipping it in every 005 line stalled the loop for
#: minutes.  This allows that one, and thousands in a small state.
REFOLD_BUDGET = 120_000
#: SCRAM iterations a server may ask for.  PBKDF2 runs on the loop: 100,000 take about
#: 25 ms here, the 1,000,000 a server could ask for before took 0.22-0.42 s of every
#: network's time.  Servers use 4,096 (RFC 7677's minimum) to 10,000 or so.
MAX_SCRAM_ITERATIONS = 100_000


@dataclass(frozen=True)
class ReceiveLimits:
    """The limits of one connection; see the constants for each default and why."""

    channels: int = MAX_CHANNELS
    channel_members: int = MAX_CHANNEL_MEMBERS
    members: int = MAX_MEMBERS
    isupport_tokens: int = MAX_ISUPPORT_TOKENS
    refold_budget: int = REFOLD_BUDGET
    cap_entries: int = MAX_CAP_ENTRIES
    sasl_challenge: int = MAX_SASL_CHALLENGE
    scram_iterations: int = MAX_SCRAM_ITERATIONS

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"limit {name} must be an int >= 1, not {value!r}")
