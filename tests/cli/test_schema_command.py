"""``logbot schema``: it prints the schema shipped in the package, from the source tree
and from what a wheel installs (the file is package data: without its line in
pyproject.toml the wheel would lack it and the command would fail once installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from logbot.cli import main
from logbot.logs.schema import SCHEMA_FILE, SCHEMA_ID, schema_text

REPO = Path(__file__).resolve().parents[2]


def test_schema_prints_the_shipped_file() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0, result.output
    assert result.output == (REPO / "logbot" / "logs" / SCHEMA_FILE).read_text() == schema_text()
    assert json.loads(result.output)["$id"] == SCHEMA_ID


def test_schema_from_the_files_a_wheel_installs(tmp_path: Path) -> None:
    """setuptools' build_py lays out what goes into the wheel (modules and package data)
    from a copy of the tree; ``python -m logbot schema`` then runs from that layout."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(REPO / "pyproject.toml", src)
    shutil.copy(REPO / "README.md", src)
    shutil.copytree(REPO / "logbot", src / "logbot", ignore=shutil.ignore_patterns("__pycache__"))
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
    assert (built / "logbot" / "logs" / SCHEMA_FILE).is_file()
    (tmp_path / "elsewhere").mkdir()
    code = "import logbot, runpy; print(logbot.__file__, flush=True); runpy.run_module('logbot')"
    run = subprocess.run(
        [sys.executable, "-c", code, "schema"],
        cwd=tmp_path / "elsewhere",
        env=dict(os.environ, PYTHONPATH=str(built)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    where, _, printed = run.stdout.partition("\n")
    assert where == str(built / "logbot" / "__init__.py"), run.stdout + run.stderr
    assert run.returncode == 0, run.stderr
    assert printed == schema_text()
