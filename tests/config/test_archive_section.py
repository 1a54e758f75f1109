"""The ``archive`` section: the store, its DSN (a secret), the instance, the window."""

from __future__ import annotations

from pathlib import Path

import pytest

from logbot.config.loader import ConfigError, load_config, summary

NETWORKS = """
networks:
  - name: n
    servers: ["127.0.0.1:6667"]
    nick: b
    channels: ["#a"]
"""


def load(tmp_path: Path, archive: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.yaml"
    path.write_text(NETWORKS + archive)
    return load_config(str(path), environ=env or {})


def problems(tmp_path: Path, archive: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, archive)
    return str(caught.value)


def test_defaults_are_the_sqlite_store(tmp_path: Path) -> None:
    config = load(tmp_path, "")
    assert config.archive.store == "sqlite" and config.archive.dsn is None
    assert config.archive.dedupe_window == 3.0 and config.archive.instance is None


def test_postgres_with_a_dsn_from_the_environment_stays_secret(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "archive: {store: postgres, dsn: '${PGDSN}', instance: bot-1}\n",
        {"PGDSN": "host=db password=s3cret-pw"},
    )
    assert config.archive.dsn is not None
    assert config.archive.dsn.reveal() == "host=db password=s3cret-pw"
    assert "s3cret" not in repr(config) and "s3cret" not in summary(config)
    assert "archive: postgres (dsn set; instance bot-1)" in summary(config)


def test_dsn_file(tmp_path: Path) -> None:
    (tmp_path / "dsn").write_text("host=db\n")
    config = load(tmp_path, f"archive: {{store: postgres, dsn_file: {tmp_path / 'dsn'}}}\n")
    assert config.archive.dsn is not None and config.archive.dsn.reveal() == "host=db"


@pytest.mark.parametrize(
    ("archive", "expected"),
    [
        ("archive: {store: postgres}", "archive.store: postgres needs dsn or dsn_file"),
        ("archive: {dsn: 'host=x'}", "archive.dsn: is only for store: postgres"),
        ("archive: {store: mysql}", "archive.store"),
        ("archive: {store: postgres, dsn: x, dedupe_window: 61}", "must be at most 60"),
        ("archive: {store: postgres, dsn: x, dedupe_window: -1}", "archive.dedupe_window"),
        ("archive: {store: postgres, dsn: x, instance: ''}", "archive.instance"),
        ('archive: {store: postgres, dsn: x, instance: "a\\tb"}', "printable"),
        ("archive: {store: postgres, dsn: x, batch_lines: 0}", "archive.batch_lines"),
        ("archive: {stor: postgres}", "unknown key"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, archive: str, expected: str) -> None:
    assert expected in problems(tmp_path, archive + "\n")


def test_the_sample_s_archive_section_is_valid_when_uncommented(tmp_path: Path) -> None:
    """config.yaml's commented ``archive:`` block, with its '#' removed, loads, and says
    the defaults it claims (but for the store and the DSN it shows)."""
    sample = (Path(__file__).resolve().parents[2] / "config.yaml").read_text().splitlines()
    start = sample.index("# archive:")
    block = []
    for line in sample[start:]:
        if not line.startswith("#"):
            break
        block.append(line[2:])
    config = load(tmp_path, "\n".join(block) + "\n", {"LOGBOT_DSN": "host=db"})
    archive = config.archive
    assert archive.store == "postgres" and archive.dsn is not None
    assert (archive.instance, archive.dedupe_window, archive.interval, archive.batch_lines) == (
        None,
        3.0,
        1.0,
        5000,
    )


def test_postgres_without_psycopg_is_a_config_problem_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logbot.config import archive_section

    monkeypatch.setattr(archive_section, "have_psycopg", lambda: False)
    found = problems(tmp_path, "archive: {store: postgres, dsn: 'host=x'}\n")
    assert "archive.store: postgres needs psycopg, which is not installed" in found
    assert "pip install 'logbot[postgres]'" in found
    load(tmp_path, "archive: {store: sqlite}\n")  # the default store needs nothing
