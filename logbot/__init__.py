"""logbot: an IRC logging bot that runs on its own reactor.

Layers import one way only: ``cli -> bot -> (plugins, health, logs, config) -> irc ->
reactor`` (README, "Layout"; ``scripts/check_layout.py`` checks it).
"""

__version__ = "0.1.0"
