"""``!version``: which logbot this is."""

import platform

from logbot.plugin import Context, command


@command("version", help="says which logbot version runs here")
def version(context: Context) -> str:
    return f"{context.nick}: logbot {context.bot.version} on Python {platform.python_version()}"
