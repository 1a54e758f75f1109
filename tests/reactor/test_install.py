"""The process-wide default reactor and ``install()``.

Each test runs in a fresh interpreter (``sys.executable -c ...``) so that the global
state starts empty, whatever the other tests did.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_py(code, timeout=30):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(ROOT),
        env=env,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout.strip().splitlines()


def test_default_reactor_is_an_epoll_Reactor_created_on_first_use():
    out = run_py("""
        import logbot.reactor as r
        print(r._default is None)
        from logbot.reactor import reactor
        from logbot.reactor import reactor as again
        from logbot.reactor.loop import Reactor
        print(type(reactor) is Reactor, reactor.backendName, reactor is again)
        print(r.get_default() is reactor)
    """)
    assert out == ["True", "True epoll True", "True"]


def test_install_poll_before_first_use():
    out = run_py("""
        import logbot.reactor
        installed = logbot.reactor.install("poll")
        from logbot.reactor import reactor
        print(reactor.backendName, reactor is installed)
    """)
    assert out == ["poll True"]


def test_install_select_before_first_use():
    out = run_py("""
        import logbot.reactor
        logbot.reactor.install("select")
        from logbot.reactor import reactor
        print(reactor.backendName)
    """)
    assert out == ["select"]


def test_install_after_the_default_exists_raises_a_clear_error():
    out = run_py("""
        import logbot.reactor
        from logbot.reactor import reactor
        from logbot.reactor.error import ReactorAlreadyInstalledError, ReactorError
        try:
            logbot.reactor.install("poll")
        except ReactorAlreadyInstalledError as e:
            print(isinstance(e, ReactorError))
            print(e)
        from logbot.reactor import reactor as still
        print(still is reactor, still.backendName)
    """)
    assert out[0] == "True"
    message = out[1]
    assert "already" in message and "epoll" in message and "install()" in message
    assert out[2] == "True epoll"


def test_install_twice_raises():
    out = run_py("""
        import logbot.reactor
        from logbot.reactor.error import ReactorAlreadyInstalledError
        logbot.reactor.install("poll")
        try:
            logbot.reactor.install("epoll")
            print("no error")
        except ReactorAlreadyInstalledError:
            print("refused")
    """)
    assert out == ["refused"]


def test_install_of_an_unknown_backend_leaves_the_default_uninstalled():
    out = run_py("""
        import logbot.reactor
        try:
            logbot.reactor.install("iocp")
        except ValueError as e:
            print("ValueError", "epoll" in str(e))
        logbot.reactor.install("select")
        from logbot.reactor import reactor
        print(reactor.backendName)
    """)
    assert out == ["ValueError True", "select"]


def test_a_ported_program_runs_on_the_default_reactor():
    """Seed-style code: module-level ``reactor``, ``run()`` and ``stop()``."""
    out = run_py("""
        from logbot.reactor import reactor
        from logbot.reactor.protocol import Protocol, Factory
        from logbot.reactor.endpoints import TCP4ClientEndpoint, connectProtocol

        class Server(Protocol):
            def dataReceived(self, data):
                print(data.decode().strip())
                if b"later" in data:
                    reactor.stop()

        class Greeter(Protocol):
            def sendMessage(self, msg):
                self.transport.write(b"MESSAGE %s\\n" % msg)

        def gotProtocol(p):
            p.sendMessage(b"Hello")
            reactor.callLater(0.05, p.sendMessage, b"later")

        port = reactor.listenTCP(0, Factory.forProtocol(Server), interface="127.0.0.1")
        d = connectProtocol(TCP4ClientEndpoint(reactor, "localhost", port.getHost().port),
                            Greeter())
        d.addCallback(gotProtocol)
        reactor.addSystemEventTrigger("before", "shutdown", print, "shutting down")
        reactor.callLater(10, reactor.stop)  # safety bound
        reactor.run()
        print("done")
    """)
    assert out == ["MESSAGE Hello", "MESSAGE later", "shutting down", "done"]


def test_sigint_stops_the_default_reactor_through_the_triggers():
    out = run_py("""
        import os, signal
        from logbot.reactor import reactor
        reactor.addSystemEventTrigger("before", "shutdown", print, "before")
        reactor.addSystemEventTrigger("after", "shutdown", print, "after")
        reactor.callWhenRunning(os.kill, os.getpid(), signal.SIGINT)
        reactor.callLater(10, print, "safety bound reached")
        reactor.callLater(10, reactor.stop)
        reactor.run()
        print("returned")
    """)
    assert out == ["before", "after", "returned"]


BANNED = {
    "asyncio",
    "selectors",
    "twisted",
    "trio",
    "gevent",
    "tornado",
    "uvloop",
    "anyio",
    "curio",
    "eventlet",
}


def test_no_foreign_event_loop_is_imported_by_logbot():
    """No module of logbot/ imports asyncio, selectors, Twisted or the like (the stdlib's
    own ``socket`` imports ``selectors``; that is not ours, so the check is on source)."""
    import ast

    offenders = []
    for path in sorted((ROOT / "logbot").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") == "import_module"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names = [str(node.args[0].value)]
            else:
                continue
            for name in names:
                if name.split(".")[0] in BANNED:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert offenders == []


def test_importing_the_reactor_loads_no_foreign_event_loop():
    out = run_py("""
        import importlib, pkgutil, sys
        import logbot.reactor
        for m in pkgutil.walk_packages(logbot.reactor.__path__, "logbot.reactor."):
            importlib.import_module(m.name)
        from logbot.reactor import reactor
        banned = ("asyncio", "twisted", "trio", "gevent", "tornado", "uvloop")
        print(sorted(b for b in banned if b in sys.modules))
    """)
    assert out == ["[]"]
