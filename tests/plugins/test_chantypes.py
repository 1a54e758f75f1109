"""Plugin dispatch in ``&`` and ``+`` channels and for STATUSMSG targets.

Only a private message makes every line a command; a line in a channel must name the
command with the prefix or address the bot.  On ngircd (``CHANTYPES=#&+``, ``&`` and
``+`` also PREFIX symbols) ``&local`` and ``+modeless`` were taken for nicks, so talk
there that began with a command's name ran it.  A command sent to ``@#a`` (STATUSMSG)
is a command in ``#a`` answered to ``@#a``: to the audience that asked.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.plugins.fakes import PluginHarness

WHO = """
    from logbot.plugin import command

    @command("who")
    def who(context):
        return f"channel={context.channel} target={context.target} private={context.private}"
"""


def harness(tmp_path: Any, isupport: str) -> PluginHarness:
    h = PluginHarness(tmp_path, enabled=("who",))
    h.plugin("who", WHO)
    assert h.up() == []
    h.feed(f":irc.example 005 bot {isupport} :are supported")
    for chan in ("&local", "+modeless"):
        h.join(chan)
    h.sent()
    return h


@pytest.mark.parametrize("chan", ["&local", "+modeless"])
def test_talk_in_ampersand_and_plus_channels_is_not_a_private_command(
    tmp_path: Any, chan: str
) -> None:
    h = harness(tmp_path, "PREFIX=(qaohv)~&@%+ CHANTYPES=#&+")
    assert h.say("who is here?", target=chan) == []
    assert h.say("!who", target=chan, after=10) == [
        (chan, "channel=" + chan + " target=" + chan + " private=False")
    ]
    assert h.say("who", target="bot", after=10) == [
        ("alice", "channel=None target=alice private=True")
    ]


def test_a_statusmsg_command_is_answered_to_the_same_audience(tmp_path: Any) -> None:
    h = harness(tmp_path, "CHANTYPES=#&+ PREFIX=(ov)@+ STATUSMSG=@+")
    assert h.say("who goes there", target="@#a") == []
    assert h.say("!who", target="@#a", after=10) == [("@#a", "channel=#a target=@#a private=False")]
