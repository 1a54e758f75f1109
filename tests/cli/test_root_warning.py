"""``logbot run`` as root outside a container: one warning line."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from logbot.cli.root_warning import in_container, root_warning
from tests.cli.process import REPO, environment, logbot

WARNING = "WARNING logbot: running as root outside a container"


def test_the_guess(tmp_path: Path) -> None:
    marker = tmp_path / ".dockerenv"
    init = tmp_path / "environ"
    init.write_bytes(b"HOME=/\0TERM=linux\0")
    absent = str(tmp_path / "absent")
    bare = {"markers": [absent], "init_environ": str(init)}
    assert not in_container({}, **bare)
    assert root_warning(0, {}, **bare) is not None
    assert root_warning(1000, {}, **bare) is None  # not root: nothing to say
    marker.touch()
    assert in_container({}, markers=[absent, str(marker)], init_environ=str(init))
    init.write_bytes(b"HOME=/\0container=lxc\0")
    assert in_container({}, **bare)
    init.write_bytes(b"")
    assert in_container({"container": "podman"}, **bare)
    assert in_container({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, **bare)
    # PID 1's environment unreadable (not root): no answer from there
    assert not in_container({}, markers=[absent], init_environ=absent)
    # the override wins over every guess, either way
    marker_env = {"markers": [str(marker)], "init_environ": str(init)}
    assert not in_container({"LOGBOT_CONTAINER": "no", "container": "x"}, **marker_env)
    assert in_container({"LOGBOT_CONTAINER": "YES"}, **bare)
    assert not in_container({"LOGBOT_CONTAINER": "maybe"}, **bare)  # ignored


def test_run_warns_once_as_root_outside_a_container(tmp_path: Path) -> None:
    """The process as it starts: ``$LOGBOT_CONTAINER`` stands for the machine (this
    suite may run as root in a container); it stops at a health port already taken."""
    (tmp_path / "config.yaml").write_text((REPO / "config.yaml").read_text())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        outside = logbot(
            "run", "--health-port", port, cwd=tmp_path, env=environment(LOGBOT_CONTAINER="no")
        )
        inside = logbot(
            "run", "--health-port", port, cwd=tmp_path, env=environment(LOGBOT_CONTAINER="yes")
        )
    for result in (outside, inside):
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr.splitlines()[-1].endswith(
            f"ERROR logbot: health: cannot listen on 127.0.0.1:{port}: Address already in use;"
            " not starting"
        )
    warned = [line for line in outside.stderr.splitlines() if WARNING in line]
    assert len(warned) == (1 if os.geteuid() == 0 else 0)
    assert WARNING not in inside.stderr
