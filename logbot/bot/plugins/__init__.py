"""Reply plugins: finding and loading them (``loader``), recognising commands
(``dispatch``), keeping replies safe (``replies``), running handlers and
containing their errors (``manager``), executables as plugins (``exec``), and
what a handler may read or keep (``logview``, ``store``).

Plugins themselves import only :mod:`logbot.plugin`.
"""
