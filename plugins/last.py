"""``!last [n] [nick]``: the channel's last lines from its own log, newest first."""

from logbot.plugin import Context, command


@command("last", help="shows the last lines said here, newest first", usage="[n] [nick]")
def last(context: Context) -> str | list[str]:
    if context.logs is None:
        return f"{context.nick}: ask me in a channel"
    most = max(1, int(context.config.get("max", 5)))
    count, nick = min(3, most), None
    for arg in context.args[:2]:
        if arg.isdecimal():  # not isdigit(): int("²") fails
            count = max(1, min(int(arg), most))
        else:
            nick = arg
    lines = context.logs.recent(count, nick=nick)
    if not lines:
        return f"{context.nick}: nothing logged here{f' from {nick}' if nick else ''} yet"
    return [line.line for line in lines]
