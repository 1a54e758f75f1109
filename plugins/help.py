"""``!help``: the commands there are, and how to use one (from the decorators)."""

from logbot.plugin import Context, command


@command("help", "commands", help="lists the commands, or shows how to use one", usage="[command]")
def help_command(context: Context) -> str:
    bot, nick = context.bot, context.nick
    if context.args:
        name = context.args[0].removeprefix(bot.prefix).lower()
        spec = bot.command(name)
        if spec is None:
            return f"{nick}: there is no command {name}; {bot.prefix}help lists them"
        text = f"{bot.prefix}{spec.name} {spec.usage}".rstrip()
        if spec.help:
            text += f": {spec.help}"
        if spec.aliases:
            text += f" (also {', '.join(bot.prefix + a for a in spec.aliases)})"
        if spec.admin:
            text += " (admins only)"
        return f"{nick}: {text}"
    names = [bot.prefix + s.name for s in bot.commands() if context.is_admin or not s.admin]
    return f"{nick}: commands: {', '.join(names)}; {bot.prefix}help <command> says more"
