"""``!ping``: is the bot there?"""

from logbot.plugin import Context, command


@command("ping", help="answers pong")
def ping(context: Context) -> str:
    return f"{context.nick}: pong"
