"""``!grep <words>``: search the channel's own log, newest first.

Words, not a regular expression: anyone may type a pattern, and a regular
expression can be made to run for minutes.  A line matches when it holds every
word, ignoring case.
"""

from logbot.plugin import Context, command


@command("grep", help="finds lines said here holding every word, newest first", usage="<words>")
def grep(context: Context) -> str | list[str]:
    if context.logs is None:
        return f"{context.nick}: ask me in a channel"
    if not context.args:
        return f"{context.nick}: usage: {context.bot.prefix}grep <words>"
    most = int(context.config.get("max", 3))
    lines = context.logs.recent(most, words=context.args)
    if not lines:
        return f"{context.nick}: no line here holds {context.argtext!r}"
    return [line.line for line in lines]
