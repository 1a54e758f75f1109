"""logbot: an IRC logging bot that runs on its own reactor.

Layers import one way only: ``cli -> bot -> irc -> reactor``.
"""

__version__ = "0.1.0"
