"""Admin commands: ``!join``, ``!part`` and ``!reload`` (for configured admins only)."""

from logbot.plugin import Context, command


@command("join", help="joins a channel (until !part)", usage="<#channel> [key]", admin=True)
def join(context: Context) -> str:
    if not context.args:
        return f"{context.nick}: usage: {context.bot.prefix}join <#channel> [key]"
    key = context.args[1] if len(context.args) > 1 else None
    return f"{context.nick}: {context.bot.join(context.args[0], key)}"


@command(
    "part", help="leaves a channel (this one by default)", usage="[#channel] [reason]", admin=True
)
def part(context: Context) -> str:
    args = list(context.args)
    channel = args.pop(0) if args and args[0][:1] in "#&+!" else context.channel
    if channel is None:
        return f"{context.nick}: usage: {context.bot.prefix}part <#channel> [reason]"
    reason = " ".join(args) or f"asked by {context.nick}"
    # Part after the reply has been queued, so that a reply to the channel being left
    # still reaches it.
    context.clock.callLater(0, context.bot.part, channel, reason)
    return f"{context.nick}: leaving {channel}"


@command(
    "reload",
    help="reloads a plugin's code and settings, or all plugins",
    usage="[plugin]",
    admin=True,
)
def reload(context: Context) -> str:
    name = context.args[0] if context.args else None
    return f"{context.nick}: " + "; ".join(context.bot.reload(name))
