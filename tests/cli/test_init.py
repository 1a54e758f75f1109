"""``logbot init``: the starter config, from options or from the prompts, then checked."""

from __future__ import annotations

import os
import pty
import shutil
import stat
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml

from logbot.cli.starter_config import Answers, StarterError, fill_sample, network_name
from logbot.config.loader import load_config
from tests.cli.process import REPO, environment, logbot


def _answers(**changes: object) -> Answers:
    values: dict[str, object] = {
        "host": "irc.libera.chat",
        "port": 6697,
        "tls": True,
        "nick": "logbot",
        "channels": ("#a",),
        "log_root": "logs",
        "network": "libera",
        "file": "config.yaml",
    }
    values.update(changes)
    return Answers(**values)  # type: ignore[arg-type]


def _comments(text: str) -> set[str]:
    return {line for line in text.splitlines() if line.lstrip().startswith("#")}


def test_the_package_ships_the_sample_config() -> None:
    shipped = resources.files("logbot.cli").joinpath("sample-config.yaml")
    assert shipped.read_text(encoding="utf-8") == (REPO / "config.yaml").read_text()
    wanted = '"logbot.cli" = ["sample-config.yaml"]'
    assert wanted in (REPO / "pyproject.toml").read_text()


def test_init_from_the_files_a_wheel_installs(tmp_path: Path) -> None:
    """setuptools' build_py lays out the wheel's files from a copy of the tree, where
    the sample is a symlink to config.yaml: the layout gets the file itself, and
    ``logbot init`` run from it (and from nowhere else) fills it in."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "config.yaml"):
        shutil.copy(REPO / name, src)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "logbot", src / "logbot", symlinks=True, ignore=ignore)
    assert (src / "logbot" / "cli" / "sample-config.yaml").is_symlink()
    built = tmp_path / "built"
    build = subprocess.run(
        [sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py"]
        + ["--build-lib", str(built)],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    shipped = built / "logbot" / "cli" / "sample-config.yaml"
    assert not shipped.is_symlink()
    assert shipped.read_text() == (REPO / "config.yaml").read_text()
    # the bundled plugins beside it, where the loader finds them in a source tree
    (built / "plugins").symlink_to(REPO / "plugins")
    shutil.copy(REPO / "pyproject.toml", built)
    home = tmp_path / "home"
    home.mkdir()
    code = "import logbot, runpy; print(logbot.__file__, flush=True); runpy.run_module('logbot')"
    result = subprocess.run(
        [sys.executable, "-c", code, "init", "--server", "h", "--nick", "n"],
        cwd=home,
        env=environment(PYTHONPATH=str(built)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    where, _, printed = result.stdout.partition("\n")
    assert where == str(built / "logbot" / "__init__.py")
    assert result.returncode == 0, result.stderr
    assert printed.startswith("Wrote config.yaml") and "config.yaml: OK" in printed
    assert (home / "config.yaml").read_text().startswith("# logbot sample configuration.\n")


def test_options_give_a_commented_checked_config(tmp_path: Path) -> None:
    result = logbot(
        "init",
        "--server",
        "irc.libera.chat:6697",
        "--tls",
        "--nick",
        "archiver",
        "--channel",
        "#logbot",
        "--channel",
        "##a&b",
        "--log-root",
        "irc-logs",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert out.startswith("Wrote config.yaml (readable by you only")
    assert "\nconfig.yaml: OK\n" in out  # logbot check's verdict and summary
    assert "  servers: irc.libera.chat:6697 (tls)\n" in out
    assert "  channels: #logbot, ##a&b\n" in out
    assert out.endswith(
        "Next:\n"
        "  logbot check --connect config.yaml   # try the server and the nick\n"
        "  logbot run config.yaml               # log until stopped (Ctrl-C)\n"
    )
    path = tmp_path / "config.yaml"
    assert stat.S_IMODE(path.lstat().st_mode) == 0o600
    text = path.read_text()
    assert '      - "#logbot"\n      - "##a&b"\n' in text  # channel names quoted
    # the sample's comments are all there, but for the header's lines about the sample
    sample = (REPO / "config.yaml").read_text()
    lost = _comments(sample) - _comments(text)
    assert lost and lost <= set(sample.splitlines()[:5])
    config = load_config(path)
    (network,) = config.networks
    assert (network.name, network.nick, network.alt_nicks) == (
        "libera",
        "archiver",
        ("archiver_", "archiver__"),
    )
    (server,) = network.servers
    assert (server.host, server.port, server.tls) == ("irc.libera.chat", 6697, True)
    assert [c.name for c in network.channels] == ["#logbot", "##a&b"]
    assert config.log.root == "irc-logs"
    assert os.listdir(tmp_path) == ["config.yaml"]  # no temporary file left


def test_the_prompts_on_a_terminal(tmp_path: Path) -> None:
    """stdin is a terminal (a pty); every answer is typed ahead, one line each: a bad
    host and a channel without '#' are refused and asked again."""
    master, slave = pty.openpty()
    try:
        answers = b"bad host!\nirc.oftc.net\nn\n\n9nick\nscribe\nlogbot\n#x, #y\nmy logs\n"
        os.write(master, answers)
        result = subprocess.run(
            [sys.executable, "-m", "logbot", "init", "oftc.yaml"],
            cwd=tmp_path,
            env=environment(),
            stdin=slave,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(slave)
        os.close(master)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "IRC server (host name) [irc.libera.chat]: Error: bad host 'bad host!'" in out
    assert "Connect with TLS [Y/n]: Port [6667]: " in out  # no TLS: the plain port
    assert "Nick [logbot]: Error: bad nick '9nick'" in out
    assert "Error: bad channel name 'logbot'" in out
    assert "Folder for the logs [logs]: " in out
    assert "oftc.yaml: OK" in out and "logbot run oftc.yaml" in out
    network = load_config(tmp_path / "oftc.yaml").networks[0]
    assert (network.name, network.nick, network.servers[0].port) == ("oftc", "scribe", 6667)
    assert not network.servers[0].tls
    assert [c.name for c in network.channels] == ["#x", "#y"]
    assert "logs under: my logs " in out


def test_refusals(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("precious\n")
    (tmp_path / "link.yaml").symlink_to("mine.yaml")
    cases = [
        (["init"], 2, "logbot init: missing --server and --nick (not asking: no terminal)\n"),
        (["init", "--nick", "a"], 2, "logbot init: missing --server (not asking: no terminal)\n"),
        (["init", "mine.yaml", "--server", "h", "--nick", "a"], 1, "mine.yaml exists; give"),
        (["init", "link.yaml", "--server", "h", "--nick", "a"], 1, "link.yaml exists; give"),
        (["init", "--server", "h", "--nick", "a b"], 2, "logbot init: --nick: bad nick 'a b'"),
        (["init", "--server", "h;x", "--nick", "a"], 2, "logbot init: --server: bad host 'h;x'"),
        (["init", "--server", "h:0", "--nick", "a"], 2, "logbot init: --server: bad port '0'"),
        (["init", "--server", "h", "--nick", "a", "--channel", "a"], 2, "bad channel name 'a'"),
    ]
    for args, status, message in cases:
        result = logbot(*args, cwd=tmp_path)
        assert (result.returncode, result.stdout) == (status, ""), args
        assert result.stderr.startswith("logbot init: ") and message in result.stderr, args
    assert (tmp_path / "mine.yaml").read_text() == "precious\n"
    assert sorted(os.listdir(tmp_path)) == ["link.yaml", "mine.yaml"]


def test_force_replaces_a_symlink_not_its_target(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("precious\n")
    (tmp_path / "link.yaml").symlink_to("mine.yaml")
    result = logbot(
        "init", "link.yaml", "--force", "--server", "127.0.0.1", "--nick", "b", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "mine.yaml").read_text() == "precious\n"
    link = tmp_path / "link.yaml"
    assert not link.is_symlink() and stat.S_IMODE(link.stat().st_mode) == 0o600
    network = load_config(link).networks[0]
    assert (network.name, network.channels) == ("local", ())
    assert (network.servers[0].port, network.servers[0].tls) == (6667, False)


def test_a_failing_check_is_the_exit_status(tmp_path: Path) -> None:
    """The file is written, then ``check`` says the log root cannot be written to."""
    (tmp_path / "blocker").write_text("a file where the log folder should be\n")
    result = logbot(
        "init", "--server", "h", "--nick", "a", "--log-root", "blocker/logs", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "config.yaml: OK, but folders cannot be written to" in result.stdout
    assert "logbot: log root blocker/logs: " in result.stderr
    assert "Next:" not in result.stdout
    assert (tmp_path / "config.yaml").exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"nick": "[x]`y|z\\"},
        {"channels": ('#"q"', "#back\\slash", "#${HOME}", "&amp", "!12345x", "+yes")},
        {"log_root": "/srv/irc logs/${NOT_A_VARIABLE}: yes # no"},
        {"host": "2001:db8::1", "network": "null"},
        {"channels": ()},
    ],
)
def test_odd_values_read_back_as_given(tmp_path: Path, changes: dict[str, object]) -> None:
    answers = _answers(**changes)
    path = tmp_path / "c.yaml"
    path.write_text(fill_sample(answers))
    config = load_config(path, environ={})  # "${...}" is literal: no variable is needed
    network = config.networks[0]
    assert network.nick == answers.nick and network.name == answers.network
    assert network.servers[0].host == answers.host
    assert tuple(c.name for c in network.channels) == answers.channels
    assert config.log.root == answers.log_root
    yaml.safe_load(path.read_text())


def test_values_are_checked_before_anything_is_written() -> None:
    for changes, message in [
        ({"nick": "a b"}, "--nick: bad nick"),
        ({"host": "a/b"}, "--server: bad host"),
        ({"channels": ("#a", "#A")}, "--channel: '#A' given twice"),
        ({"log_root": "a\nb"}, "--log-root: bad folder"),
        ({"network": "-x"}, "--network: bad network name"),
    ]:
        with pytest.raises(StarterError, match=message):
            fill_sample(_answers(**changes))


def test_network_names_from_hosts() -> None:
    assert network_name("irc.libera.chat") == "libera"
    assert network_name("irc.oftc.net") == "oftc"
    assert network_name("chat.freenode.net") == "freenode"
    assert network_name("example.org") == "example"
    assert network_name("localhost") == "localhost"
    assert network_name("127.0.0.1") == "local"
    assert network_name("192.0.2.7") == "irc"
