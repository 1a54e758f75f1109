"""``scripts/check_layout.py``: logbot's own tree passes, and a planted cycle or an
import that reaches up a layer is found (with its file and line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "check_layout.py"


def run(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, timeout=60
    )


def plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "logbot" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "logbot"


def test_logbots_tree_has_no_cycle_and_no_layer_violation() -> None:
    done = run(REPO / "logbot")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "import cycles: 0, layer violations: 0"


@pytest.mark.parametrize(
    "importer",
    [
        "from logbot.reactor import a\n",
        "def later():\n    from logbot.reactor.a import x\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import logbot.reactor.a\n",
        "from . import a\n",
    ],
    ids=["top-level", "in-a-function", "type-checking", "relative"],
)
def test_a_cycle_is_found_wherever_the_import_stands(tmp_path: Path, importer: str) -> None:
    root = plant(
        tmp_path,
        {
            "__init__.py": "",
            "reactor/__init__.py": "",
            "reactor/a.py": "from logbot.reactor.b import y\nx = 1\n",
            "reactor/b.py": importer + "y = 2\n",
        },
    )
    done = run(root)
    assert done.returncode == 1
    assert "cycle: logbot.reactor.a, logbot.reactor.b" in done.stdout
    assert "logbot.reactor.b -> logbot.reactor.a  (" in done.stdout
    assert done.stdout.splitlines()[-1] == "import cycles: 1, layer violations: 0"


def test_a_package_and_its_own_module_make_a_cycle(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "__init__.py": "",
            "reactor/__init__.py": "def make():\n    from logbot.reactor.impl import Impl\n",
            "reactor/impl.py": "from logbot.reactor import make\nclass Impl: ...\n",
        },
    )
    assert "cycle: logbot.reactor, logbot.reactor.impl" in run(root).stdout


def test_an_import_up_a_layer_is_named_with_its_line(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "__init__.py": "",
            "bot/__init__.py": "",
            "bot/service.py": "import logbot.logs.record\n",
            "logs/__init__.py": "",
            "logs/record.py": "",
            "logs/writer.py": "import os\n\nfrom logbot.bot.service import x\n",
        },
    )
    done = run(root)
    assert done.returncode == 1
    assert "logs/writer.py:3: logbot.logs.writer imports logbot.bot.service" in done.stdout
    assert "service.py:1" not in done.stdout  # bot may import logs
    assert done.stdout.splitlines()[-1] == "import cycles: 0, layer violations: 1"


def test_a_new_part_must_be_placed_in_the_layers(tmp_path: Path) -> None:
    root = plant(tmp_path, {"__init__.py": "", "gadgets/__init__.py": ""})
    done = run(root)
    assert done.returncode == 1
    assert "logbot/gadgets is not in ALLOWED" in done.stdout
