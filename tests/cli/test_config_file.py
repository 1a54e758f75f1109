"""Which config ``check``, ``run`` and ``health`` read: ``FILE``, ``-c``,
``$LOGBOT_CONFIG``, ``./config.yaml``, and what they say when there is none."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.cli.process import REPO, environment, logbot

NEXT = (
    "Create one with `logbot init`, or try `logbot demo` (a test server on this machine, "
    "no network needed).\n"
)


def _sample(folder: Path, name: str) -> Path:
    path = folder / name
    shutil.copy(REPO / "config.yaml", path)
    return path


def test_no_config_found_says_where_it_looked(tmp_path: Path) -> None:
    looked = (
        "looked for FILE or -c/--config (not given), $LOGBOT_CONFIG (not set), "
        f"./config.yaml (not in {tmp_path})."
    )
    for command in ("run", "check"):
        result = logbot(command, cwd=tmp_path)
        assert (result.returncode, result.stdout) == (2, ""), command
        assert result.stderr == f"logbot: no config file: {looked}\n{NEXT}", command
    result = logbot("health", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "logbot: no health port and no config file: looked for --port (not given), "
        "$LOGBOT_HEALTH_PORT (not set), -c/--config (not given), $LOGBOT_CONFIG (not set), "
        f"./config.yaml (not in {tmp_path}).\n{NEXT}"
    )


def test_a_config_named_somehow_is_read_as_before(tmp_path: Path) -> None:
    """``-c`` or ``$LOGBOT_CONFIG`` naming a missing file: the loader's own message."""
    result = logbot("run", "-c", "gone.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "logbot: invalid config:\ncannot read gone.yaml: No such file or directory\n"
    )
    env = environment(LOGBOT_CONFIG=str(_sample(tmp_path, "env.yaml")))
    result = logbot("check", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{tmp_path}/env.yaml: OK\n")


def test_check_takes_the_file_as_an_argument(tmp_path: Path) -> None:
    """As the sample's header says: ``logbot check config.yaml``; the argument wins
    over ``$LOGBOT_CONFIG``, and over ``-c`` only when they agree."""
    _sample(tmp_path, "config.yaml")
    _sample(tmp_path, "other.yaml")
    env = environment(LOGBOT_CONFIG="other.yaml")
    result = logbot("check", "config.yaml", cwd=tmp_path, env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("config.yaml: OK\n")
    result = logbot("check", "config.yaml", "-c", "./config.yaml", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("config.yaml: OK\n")
    for command in ("check", "run"):
        result = logbot(command, "config.yaml", "-c", "other.yaml", cwd=tmp_path)
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == (
            "logbot: two config files given: config.yaml and -c other.yaml; give one\n"
        )


def test_run_takes_the_file_as_an_argument(tmp_path: Path) -> None:
    """The argument is what ``run`` loads: a bad config given so is the one reported."""
    (tmp_path / "bad.yaml").write_text("networks: []\nbogus: 1\n")
    result = logbot("run", "bad.yaml", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("logbot: invalid config:\n")
    assert "bogus: unknown key" in result.stderr and "(bad.yaml line 2)" in result.stderr
