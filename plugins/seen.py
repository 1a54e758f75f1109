"""``!seen <nick>``: when someone last spoke in this channel, and what they said.

Kept per channel in the plugin's store (on disk under the data directory), so
a channel only ever learns about its own talk.  Lines starting with the
``nolog_prefix`` setting (default ``[nolog]``) are remembered without their text.

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


def _key(context: Context, nick: str) -> str:
    fold = context.bot.fold  # the server's CASEMAPPING: Bob[1] and bob{1} are one nick
    return f"{fold(context.channel)} {fold(nick)}"


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
    store = context.store
    setting = context.config.get("max_nicks")
    wanted = MAX_NICKS if setting is None else _max_nicks(setting)
    if store.max_keys != wanted:  # (once, and after a reload that changed it)
        store.limit(wanted)
    store.set(
        _key(context, context.nick),
        {
            "nick": context.nick,
            "time": context.now(),
            "text": None if text is None else text[:MAX_TEXT],
        },
    )


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
    entry = context.store.get(_key(context, who))
    if entry is None:
        return f"{context.nick}: I have not seen {who} say anything here"
    ago = format_duration(context.now() - entry["time"])
    said = f", saying: {entry['text']}" if entry.get("text") else ""
    return f"{context.nick}: {entry['nick']} was last seen {ago} ago{said}"
