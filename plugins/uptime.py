"""``!uptime``: how long the bot has run, and been connected to this network."""

from logbot.plugin import Context, command, format_duration


@command("uptime", help="says how long the bot has been running and connected")
def uptime(context: Context) -> str:
    bot, now = context.bot, context.now()
    text = f"{context.nick}: up {format_duration(now - bot.started)}"
    if bot.connected_since is not None:
        text += f"; connected to {bot.server} for {format_duration(now - bot.connected_since)}"
    return text
