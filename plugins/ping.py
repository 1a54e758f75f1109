"""``!ping``: is the bot there?"""

from logbot.plugin import command


@command("ping", help="answers pong")
def ping(context):
    return f"{context.nick}: pong"
