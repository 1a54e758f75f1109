"""The reply-plugin machinery: finding and loading plugins (``loader``), recognising
commands (``dispatch``), keeping replies safe (``replies``), running handlers and
containing their errors (``manager``, ``runner``), executables as plugins
(``exec``), what a handler may read or keep (``logview``, ``store``), what the limits
did (``stats``), and what a plugin may ask of the bot (``control``).

Plugins themselves import only :mod:`logbot.plugin`, the public API beside this
package (the split of Sopel's ``sopel/plugins/`` and ``sopel/plugin.py``).
"""
