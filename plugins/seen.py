"""``!seen <nick>``: when someone last spoke in this channel, and what they said.

Kept per channel in the plugin's store (on disk under the data directory), so
a channel only ever learns about its own talk.  Lines starting with the
``nolog_prefix`` setting (default ``[nolog]``) are remembered without their text.

A nick change is remembered too, under the old nick, in each channel where the bot
saw the one changing it: asked about ``bob`` after ``bob`` became ``bobby``, the
answer says so and goes on with what is known of ``bobby`` (``bob was last seen 5 min
ago changing nick to bobby, after saying: hi; bobby was last seen 2 min ago, saying:
...``).  Why follow the chain: the person asked about is still here under the new
nick, and that is what the asker wants to know.  It is followed at most
:data:`MAX_HOPS` steps, and never back to a nick already named or to an entry older
than the change that led to it (that entry is about an earlier holder of the nick),
so a reply stays a few lines whatever the store holds.  The old nick's entry keeps
what was last said under it; its time becomes that of the change.

Bounded: at most ``max_nicks`` (channel, nick) pairs per network (:data:`MAX_NICKS`),
the least recently seen forgotten first (the store's ``limit()``).  Unbounded, the
store filled up at some 61,000 nicks, and from then on a new speaker's line raised an
error instead of being remembered.
"""

from typing import Any

from logbot.plugin import Context, command, event, format_duration

MAX_TEXT = 200  # characters of the last message kept
#: (channel, nick) pairs remembered per network by default (setting ``max_nicks``):
#: about 14 MiB of store at 200-character messages, saved in a child process.
MAX_NICKS = 50_000
#: Nick changes followed from the nick asked about (default 3): ``bob`` -> ``bobby`` ->
#: ``bobby_away`` -> ``bob2`` is answered in full; a longer chain ends with "..." and
#: the asker can ask about the last nick named.
MAX_HOPS = 3


def _key(context: Context, channel: str, nick: str) -> str:
    fold = context.bot.fold  # the server's CASEMAPPING: Bob[1] and bob{1} are one nick
    return f"{fold(channel)} {fold(nick)}"


def _store(context: Context) -> Any:
    """The store, limited to the ``max_nicks`` setting (once, and after a reload that
    changed it): every writer calls this, so no path into the store is unbounded."""
    store = context.store
    setting = context.config.get("max_nicks")
    wanted = MAX_NICKS if setting is None else _max_nicks(setting)
    if store.max_keys != wanted:
        store.limit(wanted)
    return store


@event("message")
def remember_message(context: Context) -> None:
    _remember(context, context.text)


@event("action")
def remember_action(context: Context) -> None:
    _remember(context, f"* {context.nick} {context.text}")


def _remember(context: Context, text: str | None) -> None:
    if context.channel is None or context.nick is None:
        return
    nolog = context.config.get("nolog_prefix", "[nolog]")
    if nolog and context.text.startswith(nolog):
        text = None
    # set_later: the value is JSON by construction, and most are replaced before the
    # store is written (a speaker says more than one line in five seconds): encoded then.
    _store(context).set_later(
        _key(context, context.channel, context.nick),
        {
            "nick": context.nick,
            "time": context.now(),
            "text": None if text is None else text[:MAX_TEXT],
        },
    )


@event("nick")
def remember_nick_change(context: Context) -> None:
    """``old`` became ``new`` (``context.text``): an entry under the old nick in every
    channel the bot shares with them (none: the bot saw no channel of theirs), keeping
    what they last said there under the old nick."""
    old, new = context.nick, context.text
    channels = getattr(context.event, "channels", ())
    if not old or not new or not channels:
        return
    store = _store(context)
    now = context.now()
    for channel in channels:
        key = _key(context, channel, old)
        before = store.get(key)
        said = before.get("text") if isinstance(before, dict) else None
        store.set(key, {"nick": old, "time": now, "text": said, "renamed": new})


def _max_nicks(setting: Any) -> int:
    """The ``max_nicks`` setting, or :data:`MAX_NICKS` for anything but an int >= 1."""
    if isinstance(setting, int) and not isinstance(setting, bool) and setting >= 1:
        return setting
    return MAX_NICKS


@command("seen", help="says when someone last spoke here, and what they said", usage="<nick>")
def seen(context: Context) -> str:
    if context.channel is None:
        return f"{context.nick}: ask me in a channel"
    if not context.args:
        return f"{context.nick}: usage: {context.bot.prefix}seen <nick>"
    who = context.args[0]
    entry = context.store.get(_key(context, context.channel, who))
    if entry is None:
        return f"{context.nick}: I have not seen {who} say anything here"
    return f"{context.nick}: {'; '.join(_chain(context, entry))}"


def _chain(context: Context, entry: dict[str, Any]) -> list[str]:
    """One sentence per entry, from ``entry`` along its nick changes (see the module
    docstring for where it stops)."""
    assert context.channel is not None
    now = context.now()
    fold = context.bot.fold
    named = {fold(entry["nick"])}
    parts: list[str] = []
    for hop in range(MAX_HOPS + 1):
        ago = format_duration(now - entry["time"])
        new = entry.get("renamed")
        if new is None:
            said = f", saying: {entry['text']}" if entry.get("text") else ""
            parts.append(f"{entry['nick']} was last seen {ago} ago{said}")
            break
        # What the first nick said before the change; later hops only name the change.
        said = f", after saying: {entry['text']}" if hop == 0 and entry.get("text") else ""
        parts.append(f"{entry['nick']} was last seen {ago} ago changing nick to {new}{said}")
        if fold(new) in named:
            break  # back to a nick already named: the rest of the answer is above
        if hop == MAX_HOPS:
            parts.append("...")
            break
        named.add(fold(new))
        following = context.store.get(_key(context, context.channel, new))
        if following is None or following["time"] < entry["time"]:
            parts.append(f"{new} has not said anything here since")
            break
        entry = following
    return parts
