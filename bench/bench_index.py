"""The archive's SQLite index: lines indexed per second, and how long searches take.

Writes ``--lines`` realistic jsonl lines (default 1,000,000) to a temporary log root:
three networks, a dozen channels each (a few busy ones, many quiet: Zipf), 60 days,
2,000 nicks and a vocabulary of 30,000 words, both drawn with Zipf-like frequencies
(the most common word in about one message in eight, as "the" is), 90 % messages, the
rest actions, notices, joins, parts, quits, nick changes.  The days before the last
``--plain-days`` are gzip-compressed, as the rotation leaves them.  Then:

- **index**: one full ``Index.update`` of the root into a new index (the time of
  ``logbot index`` on a new index): lines per second, the index's size;
- **search**: each kind of query ``--runs`` times on different words of the same
  frequency (word ranks 1-5 are the most common; 10,000+ the rare ones), limit 100,
  newest first: median and p95 in ms.

Run by hand (it is not a test)::

    python bench/bench_index.py --lines 100000
    python bench/bench_index.py                 # 1,000,000 lines: a few minutes
    python bench/bench_index.py --tree /tmp/before --lines 200000
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import itertools
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

NETWORKS = ("libera", "oftc", "hackint")
CHANNELS = 12  # per network
DAYS = 60
NICKS = 2000
VOCABULARY = 30000
# the commonest words of English chat, most common first
COMMON = ["the", "to", "a", "and", "i", "is", "it", "you", "of", "that", "in", "for", "on",
          "this", "with", "be", "not", "have", "are", "but", "was", "just", "so", "what", "if",
          "do", "can", "it's", "like", "no", "at", "we", "get", "my", "as", "all"]  # fmt: skip
KINDS = (
    ["message"] * 90 + ["action"] * 3 + ["notice"] * 1 + ["join"] * 2 + ["part"] * 2
    + ["quit"] * 1 + ["nick"] * 1
)  # fmt: skip


def zipf_cumulative(n: int, s: float = 1.05) -> list[float]:
    return list(itertools.accumulate(1 / (rank**s) for rank in range(1, n + 1)))


def made_up_words(rng: random.Random, n: int) -> list[str]:
    """``n`` distinct pronounceable words, a few with accents (café, naïve...)."""
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    words: list[str] = []
    seen = set(COMMON)
    while len(words) < n:
        length = rng.choice((2, 2, 3, 3, 4))
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(length))
        if rng.random() < 0.02:
            word = word[:-1] + rng.choice("éèàüïô")
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def generate(root: Path, lines: int, plain_days: int, seed: int = 1) -> tuple[list[str], list[str]]:
    """Write the log files; the vocabulary (most common first) and the nicks."""
    rng = random.Random(seed)
    vocabulary = COMMON + made_up_words(rng, VOCABULARY - len(COMMON))
    word_weights = zipf_cumulative(len(vocabulary))
    nicks = [f"{rng.choice(['al', 'bo', 'cy', 'di', 'ed'])}{i}" for i in range(NICKS)]
    nick_weights = zipf_cumulative(NICKS, 1.2)
    channels = [(net, f"#chan{c:02d}") for net in NETWORKS for c in range(CHANNELS)]
    channel_weights = zipf_cumulative(len(channels), 0.9)
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    per_day = lines // DAYS
    for day in range(DAYS):
        count = per_day if day < DAYS - 1 else lines - per_day * (DAYS - 1)
        date = start + datetime.timedelta(days=day)
        stamps = sorted(rng.randrange(86_400_000) for _ in range(count))
        where = rng.choices(range(len(channels)), cum_weights=channel_weights, k=count)
        by_file: dict[int, list[str]] = {}
        for ms, c in zip(stamps, where, strict=True):
            by_file.setdefault(c, []).append(
                line(rng, date, ms, channels[c], vocabulary, word_weights, nicks, nick_weights)
            )
        compress = day < DAYS - plain_days
        for c, records in by_file.items():
            net, chan = channels[c]
            folder = root / net / chan
            folder.mkdir(parents=True, exist_ok=True)
            data = ("\n".join(records) + "\n").encode()
            name = f"{date:%Y-%m-%d}.jsonl"
            if compress:
                (folder / (name + ".gz")).write_bytes(gzip.compress(data, compresslevel=6))
            else:
                (folder / name).write_bytes(data)
    return vocabulary, nicks


def line(
    rng: random.Random,
    date: datetime.datetime,
    ms: int,
    where: tuple[str, str],
    vocabulary: list[str],
    word_weights: list[float],
    nicks: list[str],
    nick_weights: list[float],
) -> str:
    when = date + datetime.timedelta(milliseconds=ms)
    kind = rng.choice(KINDS)
    nick = rng.choices(nicks, cum_weights=nick_weights)[0]
    text: str | None = None
    record: dict[str, Any] = {
        "time": when.isoformat(timespec="milliseconds").replace("+00:00", "+00:00"),
        "time_ms": int(when.timestamp() * 1000),
        "time_source": "server",
        "type": kind,
        "network": where[0],
        "channel": where[1],
        "nick": nick,
        "user": "~" + nick,
        "host": f"user/{nick}",
        "account": nick if rng.random() < 0.6 else None,
    }
    if kind in ("message", "action", "notice"):
        text = " ".join(rng.choices(vocabulary, cum_weights=word_weights, k=rng.randint(3, 18)))
    elif kind in ("part", "quit"):
        text = rng.choice(["Leaving", "Quit: bye", "Ping timeout: 240 seconds", ""])
    record["text"] = text
    if kind == "nick":
        record["target"] = nick + "_"
    record["msgid"] = f"{rng.getrandbits(64):016x}" if rng.random() < 0.5 else None
    record["tags"] = {"time": when.astimezone(datetime.UTC).isoformat()[:23] + "Z"}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def timed(f: Callable[[], Any], runs: int) -> tuple[float, float, int]:
    """Median and p95 in ms over ``runs`` calls of ``f``, and the last result's size."""
    times = []
    size = 0
    for _ in range(runs):
        t = time.perf_counter()
        size = len(f())
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--plain-days", type=int, default=10, help="days left uncompressed")
    parser.add_argument("--runs", type=int, default=20, help="searches per kind")
    parser.add_argument("--keep", type=Path, help="keep the logs and index in this folder")
    args = parser.parse_args()
    sys.path.insert(0, str(args.tree.resolve()))
    from logbot.archive.index import Index
    from logbot.archive.model import Query

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-index-"))
    folder.mkdir(parents=True, exist_ok=True)
    root = folder / "logs"
    try:
        t = time.perf_counter()
        vocabulary, nicks = generate(root, args.lines, args.plain_days)
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        print(
            f"wrote {args.lines:,} lines ({size / 2**20:.0f} MiB on disk) in"
            f" {time.perf_counter() - t:.1f} s under {root}"
        )
        path = folder / "index.sqlite3"
        path.unlink(missing_ok=True)
        index = Index(path)
        t = time.perf_counter()
        indexed = index.update(root)
        took = time.perf_counter() - t
        print(
            f"index: {indexed:,} lines in {took:.1f} s = {indexed / took:,.0f} lines/s;"
            f" {path.stat().st_size / 2**20:.0f} MiB"
        )
        t = time.perf_counter()
        again = index.update(root)
        took_ms = (time.perf_counter() - t) * 1000
        print(f"update with nothing new: {again} lines in {took_ms:.0f} ms")
        runs = args.runs
        rng = random.Random(2)

        def words(lo: int, hi: int) -> Callable[[], str]:
            return lambda: vocabulary[rng.randrange(lo, hi)]

        def nick() -> str:
            return nicks[rng.randrange(0, 50)]

        kinds: list[tuple[str, Callable[[], Query]]] = [
            ("word, rank 1-5", lambda: Query(words=words(0, 5)())),
            ("word, rank 100-200", lambda: Query(words=words(100, 200)())),
            ("word, rank 10000+", lambda: Query(words=words(10000, VOCABULARY)())),
            ("two words, 10-100", lambda: Query(words=f"{words(10, 100)()} {words(10, 100)()}")),
            ("prefix (3 letters)*", lambda: Query(words=words(200, 2000)()[:3] + "*")),
            ("nick + common word", lambda: Query(words=words(0, 5)(), nick=nick())),
            ("nick + rare word", lambda: Query(words=words(1000, 5000)(), nick=nick())),
            (
                "channel + word 100+",
                lambda: Query(words=words(100, 1000)(), network="libera", channel="#chan03"),
            ),
            ("nick only", lambda: Query(nick=nick())),
            ("regex, one channel", lambda: Query(regex=r"\bba\w+ze", channel="#chan05")),
            (
                "regex, network+channel",
                lambda: Query(regex=r"\bba\w+ze", network="oftc", channel="#chan05"),
            ),
        ]
        print(f"\nsearch (limit 100, newest first), {runs} runs each:")
        print(f"  {'query':<22} {'median ms':>10} {'p95 ms':>8} {'hits':>6}")
        for label, make in kinds:
            queries = [make() for _ in range(runs)]
            it = iter(queries)
            median, p95, hits = timed(lambda it=it: index.search(next(it)), runs)
            print(f"  {label:<22} {median:10.1f} {p95:8.1f} {hits:6d}")
        median, p95, _ = timed(lambda: [index.count(Query(words=vocabulary[0]))], runs)
        print(f"  {'count, rank-1 word':<22} {median:10.1f} {p95:8.1f}")
        index.close()
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
