"""Health and metrics over HTTP: a minimal HTTP/1.x server on the reactor (``http``),
the ``/healthz`` and ``/metrics`` routes and their listener (``server``), and the
reports themselves, pure functions of the service's state (``metrics``).

It reads the service through its attributes and never imports :mod:`logbot.bot`, so
the service depends on it and not the other way round.
"""
