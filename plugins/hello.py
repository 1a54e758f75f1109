"""``logbot: hello``: the bot says what it is, as the seed's log bot does."""

from logbot.plugin import Context, command


@command("hello", "hi", help="says what this bot is")
def hello(context: Context) -> str:
    return f"{context.nick}: I am a log bot"
