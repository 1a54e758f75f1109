"""Word searches in the PostgreSQL archive and in the SQLite index, side by side.

Generates ``--rows`` jsonl lines (default 1,000,000) with bench_index.py's line maker
(its Zipf-like vocabulary of 30,000 words with a few accents, 3 networks of 12
channels, 2,000 nicks), spread over a year (365 days) instead of its 60, written as
plain jsonl files to a temporary log root.  Then:

- **SQLite**: one full ``Index.update`` of the root (the normal index of the files);
- **PostgreSQL**: its own server (tests/pg/server.py's ``PgServer``, in a temporary
  folder), the schema migrated, the same files loaded with ``COPY`` (not through the
  feed; one bot, no duplicates), ``days``/``channels``/``instances`` filled by SQL,
  ``VACUUM ANALYZE``;
- **search**: each kind of query below, ``--queries`` different ones (seeded: every
  run asks the same), each run ``--repeat`` times on both stores in turn, limit 100,
  newest first: median and p95 in ms over all the runs of a kind, the mean hits, and
  how many queries gave the same hits (network, channel, day, seq) on both.

Run by hand (it is not a test)::

    python bench/bench_pg_search.py --rows 100000
    python bench/bench_pg_search.py                  # 1,000,000 rows: several minutes
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_index
from bench_index import CHANNELS, NETWORKS, NICKS, VOCABULARY, line, made_up_words, zipf_cumulative

#: Days the rows are spread over.
DAYS = 365
#: Texts kept while generating, to take phrases from (two words that do follow).
PHRASE_SOURCES = 2000
#: Results per search, as the web view's pages ask.
LIMIT = 100
#: The PostgreSQL settings that can change without a restart (the test server's
#: shared_buffers, 32 MB, stays: the OS page cache holds the rest, as for SQLite).
PG_SETTINGS = {"work_mem": "16MB", "effective_cache_size": "1GB", "random_page_cost": "1.1"}

_COLUMNS = (
    "id, network, channel, name, day, time_ms, type, nick, nick_key, text, msgid,"
    " match_key, instance, marker, gap_from_ms, record"
)


def generate(root: Path, rows: int, seed: int = 1) -> tuple[list[str], list[str], list[str]]:
    """Write the log files; the vocabulary (most common first), the nicks, and some
    texts to take phrases from."""
    rng = random.Random(seed)
    vocabulary = bench_index.COMMON + made_up_words(rng, VOCABULARY - len(bench_index.COMMON))
    word_weights = zipf_cumulative(len(vocabulary))
    nicks = [f"{rng.choice(['al', 'bo', 'cy', 'di', 'ed'])}{i}" for i in range(NICKS)]
    nick_weights = zipf_cumulative(NICKS, 1.2)
    channels = [(net, f"#chan{c:02d}") for net in NETWORKS for c in range(CHANNELS)]
    channel_weights = zipf_cumulative(len(channels), 0.9)
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    per_day = rows // DAYS
    texts: list[str] = []
    for day in range(DAYS):
        count = per_day if day < DAYS - 1 else rows - per_day * (DAYS - 1)
        date = start + datetime.timedelta(days=day)
        stamps = sorted(rng.randrange(86_400_000) for _ in range(count))
        where = rng.choices(range(len(channels)), cum_weights=channel_weights, k=count)
        by_file: dict[int, list[str]] = {}
        for ms, c in zip(stamps, where, strict=True):
            text = line(rng, date, ms, channels[c], vocabulary, word_weights, nicks, nick_weights)
            by_file.setdefault(c, []).append(text)
            if len(texts) < PHRASE_SOURCES and rng.random() < 0.01:
                texts.append(text)
        for c, records in by_file.items():
            net, chan = channels[c]
            folder = root / net / chan
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{date:%Y-%m-%d}.jsonl").write_text("\n".join(records) + "\n")
    phrases = [t for t in (json.loads(r).get("text") for r in texts) if t and " " in t]
    return vocabulary, nicks, phrases


def load_postgres(conn: Any, root: Path) -> int:
    """COPY every file's lines into ``events`` (one bot, ids in file order), then the
    tables the feed keeps; the rows loaded."""
    from logbot.archive.model import channel_key

    loaded = 0
    next_id = 1
    with conn.cursor() as cur:
        with cur.copy(f"COPY events ({_COLUMNS}) FROM STDIN") as copy:
            for path in sorted(root.rglob("*.jsonl")):
                with path.open(encoding="utf-8") as f:
                    for raw in f:
                        rec = json.loads(raw)
                        nick = rec.get("nick")
                        copy.write_row(
                            (
                                next_id,
                                rec["network"],
                                channel_key(rec["channel"]),
                                rec["channel"],
                                rec["time"][:10],
                                rec["time_ms"],
                                rec["type"],
                                nick,
                                None if nick is None else channel_key(nick),
                                rec.get("text"),
                                rec.get("msgid"),
                                next_id,
                                "bench",
                                False,
                                None,
                                raw.rstrip("\n"),
                            )
                        )
                        next_id += 1
                        loaded += 1
        cur.execute(
            "INSERT INTO days (network, channel, day, count)"
            " SELECT network, channel, day, count(*) FROM events GROUP BY 1, 2, 3"
        )
        cur.execute(
            "INSERT INTO channels (network, channel, name, last_ms)"
            " SELECT DISTINCT ON (network, channel) network, channel, name, time_ms"
            " FROM events ORDER BY network, channel, time_ms DESC"
        )
        cur.execute(
            "INSERT INTO instances (instance, first_ms, last_ms, lines)"
            " SELECT instance, min(time_ms), max(time_ms), count(*) FROM events GROUP BY 1"
        )
        cur.execute("SELECT setval('events_id_seq', %s)", (next_id,))
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE")
    return loaded


def percentile(sorted_ms: list[float], p: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, round(p * (len(sorted_ms) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=20, help="queries per kind")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each query")
    parser.add_argument("--keep", type=Path, help="keep the logs and the SQLite index here")
    args = parser.parse_args()
    tree = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(tree))
    import psycopg

    from logbot.archive.index import Index
    from logbot.archive.model import Query
    from logbot.archive.postgres.reads import PgArchive
    from logbot.archive.postgres.schema import migrate
    from tests.pg.server import PgServer

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-pg-search-"))
    folder.mkdir(parents=True, exist_ok=True)
    root = folder / "logs"
    server = None
    try:
        t = time.perf_counter()
        vocabulary, nicks, phrases = generate(root, args.rows)
        print(f"wrote {args.rows:,} lines over {DAYS} days in {time.perf_counter() - t:.1f} s")

        path = folder / "index.sqlite3"
        path.unlink(missing_ok=True)
        index = Index(path)
        t = time.perf_counter()
        indexed = index.update(root)
        print(
            f"SQLite: {indexed:,} lines indexed in {time.perf_counter() - t:.1f} s;"
            f" {path.stat().st_size / 2**20:.0f} MiB"
        )

        server = PgServer.start()
        dsn = server.create_database("bench")
        with psycopg.connect(server.dsn(), autocommit=True) as admin:
            for name, value in PG_SETTINGS.items():
                admin.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            admin.execute("SELECT pg_reload_conf()")
        conn = psycopg.connect(dsn)
        migrate(conn)
        t = time.perf_counter()
        loaded = load_postgres(conn, root)
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        print(
            f"PostgreSQL: {loaded:,} rows loaded (COPY, then VACUUM ANALYZE) in"
            f" {time.perf_counter() - t:.1f} s; {size / 2**20:.0f} MiB"
        )
        conn.close()
        archive = PgArchive.connect(dsn)

        rng = random.Random(2)

        def word(lo: int, hi: int) -> str:
            return vocabulary[rng.randrange(lo, min(hi, len(vocabulary)))]

        def phrase() -> str:
            words = rng.choice(phrases).split()
            at = rng.randrange(len(words) - 1)
            return f'"{words[at]} {words[at + 1]}"'

        kinds: list[tuple[str, Callable[[], Query]]] = [
            ("rare word (10000+)", lambda: Query(words=word(10000, VOCABULARY))),
            ("common word (1-5)", lambda: Query(words=word(0, 5))),
            ("two words (10-100)", lambda: Query(words=f"{word(10, 100)} {word(10, 100)}")),
            ("prefix (3 letters)*", lambda: Query(words=word(200, 2000)[:3] + "*")),
            ("phrase", lambda: Query(words=phrase())),
            (
                "nick + word (100+)",
                lambda: Query(words=word(100, 1000), nick=nicks[rng.randrange(50)]),
            ),
            (
                "channel + word (100+)",
                lambda: Query(words=word(100, 1000), network="libera", channel="#chan03"),
            ),
        ]
        stores: list[tuple[str, Any]] = [("sqlite", index), ("postgres", archive)]
        print(
            f"\nsearch, limit {LIMIT}, newest first; {args.queries} queries per kind,"
            f" {args.repeat} runs each (ms)"
        )
        print(
            f"  {'query':<22} {'sqlite med':>10} {'p95':>7} {'pg med':>8} {'p95':>7}"
            f" {'hits':>6} {'same':>6}"
        )
        for label, make in kinds:
            queries = [make() for _ in range(args.queries)]
            queries = [dataclasses.replace(query, limit=LIMIT) for query in queries]
            for _, store in stores:  # warm the caches once
                for query in queries:
                    store.search(query)
            times: dict[str, list[float]] = {name: [] for name, _ in stores}
            same = 0
            hits = 0
            for query in queries:
                seen: dict[str, list[tuple[str, str, str, int]]] = {}
                for _ in range(args.repeat):
                    for store_name, store in stores:
                        started = time.perf_counter()
                        found = store.search(query)
                        times[store_name].append((time.perf_counter() - started) * 1000)
                        seen[store_name] = [(h.network, h.channel, h.day, h.seq) for h in found]
                same += seen["sqlite"] == seen["postgres"]
                hits += len(seen["postgres"])
            cells = ""
            for (store_name, _), width in zip(stores, (10, 8), strict=True):
                ordered = sorted(times[store_name])
                median, p95 = statistics.median(ordered), percentile(ordered, 0.95)
                cells += f" {median:{width}.1f} {p95:7.1f}"
            print(f"  {label:<22}{cells} {hits / len(queries):6.0f} {same:>3}/{len(queries)}")
        archive.close()
        index.close()
    finally:
        if server is not None:
            server.stop()
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
