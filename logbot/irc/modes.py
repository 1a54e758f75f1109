"""Channel and user MODE strings: which letter takes which parameter.

``+ov-l alice bob`` cannot be read without the server's ISUPPORT: PREFIX
modes (o, v, ...) and CHANMODES group A (lists: b, e, I) and B (key) always
take a parameter, group C (limit) only when set, group D and user modes
never.  A letter the server did not announce takes none: guessing otherwise
would shift every following parameter.
"""

from __future__ import annotations

from collections.abc import Callable

from logbot.irc.events import ModeChange
from logbot.irc.isupport import ISupport

__all__ = ["apply_channel_modes", "parse_modes"]


def parse_modes(
    modestring: str, args: list[str] | tuple[str, ...], isupport: ISupport, channel: bool
) -> tuple[ModeChange, ...]:
    """Pair each mode letter of ``modestring`` with its parameter, in order."""
    prefix_modes = isupport.prefix[0]
    groups = isupport.chanmodes
    pending = list(args)
    changes: list[ModeChange] = []
    adding = True
    for letter in modestring:
        if letter in "+-":
            adding = letter == "+"
            continue
        takes = channel and (
            letter in prefix_modes
            or letter in groups.list_modes
            or letter in groups.always_param
            or (adding and letter in groups.set_param)
        )
        param = pending.pop(0) if takes and pending else None
        changes.append(ModeChange(adding, letter, param))
    return tuple(changes)


def apply_channel_modes(
    modes: dict[str, str | None],
    members: dict[str, set[str]],
    changes: tuple[ModeChange, ...],
    isupport: ISupport,
    fold: Callable[[str], str],
) -> None:
    """Apply ``changes`` to a channel's ``modes`` and its ``members``' prefixes.

    List modes (bans, exceptions) are not kept: a logger does not need them
    and they can be large.
    """
    prefix_modes = isupport.prefix[0]
    list_modes = isupport.chanmodes.list_modes
    for change in changes:
        if change.mode in prefix_modes and change.param is not None:
            member = members.get(fold(change.param))
            if member is not None:
                (member.add if change.adding else member.discard)(change.mode)
        elif change.mode in list_modes:
            continue
        elif change.adding:
            modes[change.mode] = change.param
        else:
            modes.pop(change.mode, None)
