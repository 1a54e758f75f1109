"""Pytest fixtures that start real IRC servers (a plugin: see tests/conftest.py).

Session-wide servers, started once on first use and shared by every test (do not
stop or pause them: they refuse; use unique nicks and channel names):

    ngircd, inspircd, inspircd_anope     flood limits off
    inspircd_flood                       InspIRCd with its usual flood limits: 1 line/s
                                         after a burst, fake lag, and a kill
                                         ("RecvQ exceeded") past a 10 KB receive queue
    inspircd_flood_scaled                the same limits with a command rate
                                         ``servers.FLOOD_SPEEDUP`` (10) times higher:
                                         10 lines/s after the burst, the same kill

Function-scoped servers, for tests that stop, pause or kill the server:

    fresh_ngircd, fresh_inspircd, fresh_inspircd_anope, fresh_inspircd_flood
    ircd_factory(name, flood="off", accounts=None, sts_duration=None)
                                         -> a started IRCServer (flood: "off",
                                         "default" or "scaled"; sts_duration: InspIRCd
                                         with ircv3_sts, see servers.IRCServer)

Every server listens on 127.0.0.1 only (plain ``server.port``, TLS
``server.tls_port``, verified with ``server.client_context()``); ``OPER`` with
``server.oper`` (name, password) works on each; inspircd_anope has the NickServ
account ``testbot`` with the password ``server.accounts["testbot"]`` (both made
afresh for each run; SASL PLAIN, and EXTERNAL with
``server.client_context("testbot")``).

A missing server binary FAILS the test with the Debian package to install (a skip
would hide a missing part of the test suite), unless ``LOGBOT_SKIP_IRCD=1``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.ircd.servers import IRCServer, ServerStartError, missing_packages

SKIP_ENV = "LOGBOT_SKIP_IRCD"

_started: list[tuple[str, str, float]] = []  # (name, flood, seconds) for the summary


def _start(
    name: str,
    tmp_path_factory: pytest.TempPathFactory,
    flood: str = "off",
    accounts: dict[str, str] | None = None,
    sts_duration: int | None = None,
    **options: Any,
) -> IRCServer:
    missing = missing_packages(name)
    if missing:
        message = (
            f"IRC server {name} is not installed: run "
            f"'apt-get install -y --no-install-recommends {' '.join(missing)}' "
            f"(as .ci/run does), or set {SKIP_ENV}=1 to skip these tests"
        )
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    workdir = tmp_path_factory.mktemp(f"{name}-{flood}")
    server = IRCServer(
        name, workdir, flood=flood, accounts=accounts, sts_duration=sts_duration, **options
    )
    try:
        server.start()
    except ServerStartError as e:
        pytest.fail(str(e), pytrace=False)
    assert server.start_seconds is not None
    _started.append((name, flood, server.start_seconds))
    return server


def _shared(
    name: str, tmp_path_factory: pytest.TempPathFactory, flood: str = "off"
) -> Iterator[IRCServer]:
    server = _start(name, tmp_path_factory, flood)
    server.shared = True
    try:
        yield server
    finally:
        server.shared = False
        server.stop()


def _fresh(
    name: str, tmp_path_factory: pytest.TempPathFactory, flood: str = "off"
) -> Iterator[IRCServer]:
    server = _start(name, tmp_path_factory, flood)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ngircd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IRCServer]:
    yield from _shared("ngircd", tmp_path_factory)


@pytest.fixture(scope="session")
def inspircd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IRCServer]:
    yield from _shared("inspircd", tmp_path_factory)


@pytest.fixture(scope="session")
def inspircd_anope(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IRCServer]:
    yield from _shared("inspircd-anope", tmp_path_factory)


@pytest.fixture(scope="session")
def inspircd_flood(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IRCServer]:
    yield from _shared("inspircd", tmp_path_factory, flood="default")


@pytest.fixture(scope="session")
def inspircd_flood_scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IRCServer]:
    yield from _shared("inspircd", tmp_path_factory, flood="scaled")


@pytest.fixture
def fresh_ngircd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IRCServer]:
    yield from _fresh("ngircd", tmp_path_factory)


@pytest.fixture
def fresh_inspircd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IRCServer]:
    yield from _fresh("inspircd", tmp_path_factory)


@pytest.fixture
def fresh_inspircd_anope(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IRCServer]:
    yield from _fresh("inspircd-anope", tmp_path_factory)


@pytest.fixture
def fresh_inspircd_flood(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IRCServer]:
    yield from _fresh("inspircd", tmp_path_factory, flood="default")


@pytest.fixture
def ircd_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., IRCServer]]:
    """``ircd_factory(name, flood="off", accounts=None, sts_duration=None, **options)``:
    start a server owned by this test (stopped at its end), e.g. inspircd-anope with
    other accounts, InspIRCd with an STS policy, or with ``max_channels`` (and a
    ``chanlimit`` it says) lower than 100 (the other ``IRCServer`` options)."""
    servers: list[IRCServer] = []

    def start(
        name: str,
        flood: str = "off",
        accounts: dict[str, str] | None = None,
        sts_duration: int | None = None,
        **options: Any,
    ) -> IRCServer:
        server = _start(name, tmp_path_factory, flood, accounts, sts_duration, **options)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _started:
        starts = ", ".join(
            f"{name}{'' if flood == 'off' else '(flood=' + flood + ')'} {seconds:.2f}s"
            for name, flood, seconds in _started
        )
        terminalreporter.write_line(f"IRC servers started: {starts}")
