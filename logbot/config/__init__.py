"""The config file: reading it (``reader``: problems with their lines, ``${ENV}``,
``*_file`` secrets), typed values (``values``), one module per section
(``logging_section``, ``networks_section``, ``plugins_section``,
``health_section``), the frozen settings the rest of logbot reads (``settings``) and
the public face, :func:`~logbot.config.loader.load_config` (``loader``).

Why a package of its own: everything else receives a frozen
:class:`~logbot.config.settings.Config` and never sees YAML, so a config key is read
in exactly one place.  It imports nothing of logbot but :mod:`logbot.irc.sasl`'s
``Secret`` (a value that never prints).
"""
