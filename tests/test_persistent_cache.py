"""Tests of SQLiteAugmentationCache: round trips, persistence, crash safety."""

import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from allsh_sklearn.augment._cache import MemoryAugmentationCache, augment_with_cache
from allsh_sklearn.augment._persistent_cache import SQLiteAugmentationCache

# A writer process: batch b holds keys ("fp-<tag>", b % 3, "<tag> text b-i");
# every value is a known function of its key, so a reader can tell a complete
# entry from a torn one. It prints each batch number once committed.
WRITER = textwrap.dedent(
    """
    import sys
    from allsh_sklearn.augment._persistent_cache import SQLiteAugmentationCache

    path, tag, n_batches, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), \\
        int(sys.argv[4])
    cache = SQLiteAugmentationCache(path, timeout=120)
    for b in range(n_batches):
        batch = {}
        for i in range(size):
            item = f"{tag} text {b}-{i} " + "x" * (i % 50)
            key = (f"fp-{tag}", b % 3, item if i % 2 else (item, "pair " + item))
            batch[key] = (
                "value of " + item[::-1] if i % 2
                else ("value of " + item[::-1], "pair value " + item.upper())
            )
        cache.set_many(batch)
        print(b, flush=True)
    """
)


def expected_value(item):
    if isinstance(item, tuple):
        text = item[0]
        return ("value of " + text[::-1], "pair value " + text.upper())
    return "value of " + item[::-1]


def start_writer(path, tag, n_batches, size):
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), tag, str(n_batches), str(size)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def read_all(path):
    """Every row of the cache file, decoded back to (key, value)."""
    import json

    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT fingerprint, copy_index, item, value FROM augmentations"
        ).fetchall()
        check = connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()
    decoded = []
    for fingerprint, copy_index, item, value in rows:
        if item.startswith("["):
            item = tuple(json.loads(item))
        value = json.loads(value)
        decoded.append(
            ((fingerprint, copy_index, item),
             tuple(value) if isinstance(value, list) else value)
        )
    return check, decoded


def test_round_trip_of_texts_pairs_and_unicode(tmp_path):
    cache = SQLiteAugmentationCache(tmp_path / "cache.sqlite")
    entries = {
        ("f", 0, "a film"): "a movie",
        ("f", 1, "a film"): "one film",
        ("g", 0, "a film"): "a picture",
        ("f", 0, ("premise", "hypothesis")): ("premise'", "hypothesis'"),
        ("f", 0, "café ☕ \"quoted\" \n newline"): "naïve 😀",
    }
    cache.set_many(entries)
    keys = list(entries) + [("f", 2, "a film"), ("h", 0, "missing")]
    assert cache.get_many(keys) == list(entries.values()) + [None, None]
    assert len(cache) == len(entries)
    # Duplicated keys and numpy integers as copy indices.
    import numpy as np

    assert cache.get_many([("f", np.int64(0), "a film")] * 3) == ["a movie"] * 3
    cache.set_many({("f", 0, "a film"): "overwritten"})
    assert cache.get_many([("f", 0, "a film")]) == ["overwritten"]
    cache.clear("g")
    assert cache.get_many([("g", 0, "a film")]) == [None]
    cache.close()


def test_same_interface_as_memory_cache(tmp_path):
    memory, sqlite = MemoryAugmentationCache(), SQLiteAugmentationCache(
        tmp_path / "c.sqlite"
    )
    entries = {("f", k, f"text {i}"): f"copy {k} of {i}" for k in range(2)
               for i in range(700)}
    for cache in (memory, sqlite):
        cache.set_many(entries)
    keys = list(entries) + [("f", 5, "text 1")]
    assert sqlite.get_many(keys) == memory.get_many(keys)  # > one SQL chunk


def test_entries_persist_across_instances_and_pickling(tmp_path):
    path = tmp_path / "sub" / "folder" / "cache.sqlite"
    with SQLiteAugmentationCache(path) as cache:
        cache.set_many({("f", 0, "a film"): "a movie"})
    reopened = SQLiteAugmentationCache(path)
    assert reopened.get_many([("f", 0, "a film")]) == ["a movie"]
    restored = pickle.loads(pickle.dumps(reopened))
    assert restored.get_many([("f", 0, "a film")]) == ["a movie"]
    journal = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


def test_augment_with_cache_uses_it(tmp_path):
    from allsh_sklearn.augment._backtranslation import BackTranslationAugmenter

    calls = []

    def forward(texts):
        calls.append(len(texts))
        return [t + " again" for t in texts]

    texts = ["a moving film about grief", ("a premise text", "a hypothesis text")]
    augmenter = BackTranslationAugmenter(
        backend=(forward, lambda t: t), min_chars=None, max_length_diff=None,
        random_state=0,
    ).fit(texts)
    cache = SQLiteAugmentationCache(tmp_path / "c.sqlite")
    first, computed = augment_with_cache(augmenter, texts, 1, cache)
    second, recomputed = augment_with_cache(augmenter, texts, 1, cache)
    assert first == second and computed == 2 and recomputed == 0
    assert second[0][1] == ("a premise text again", "a hypothesis text again")


def test_killed_writer_leaves_only_complete_batches_and_others_can_write(tmp_path):
    path = tmp_path / "crash.sqlite"
    size = 200
    writer = start_writer(path, "killed", 10_000, size)
    committed = -1
    deadline = time.monotonic() + 120
    # Let it commit a few batches, then kill it while it keeps writing.
    while committed < 4 and time.monotonic() < deadline:
        line = writer.stdout.readline()
        if not line:
            break
        committed = int(line)
    assert committed >= 4, writer.stderr.read()
    time.sleep(0.05)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL

    # The file opens, passes SQLite's integrity check and holds whole
    # batches only, each entry equal to the function of its key.
    cache = SQLiteAugmentationCache(path)
    check, rows = read_all(path)
    assert check == "ok"
    assert len(rows) >= (committed + 1) * size
    assert len(rows) % size == 0
    for key, value in rows:
        assert value == expected_value(key[2])
    some_key = rows[0][0]
    assert cache.get_many([some_key]) == [expected_value(some_key[2])]

    # Two writers at once, while this process reads: both finish, all lands.
    writers = [start_writer(path, tag, 15, size) for tag in ("first", "second")]
    while any(w.poll() is None for w in writers):
        cache.get_many([some_key])
        time.sleep(0.01)
    for w in writers:
        assert w.returncode == 0, w.stderr.read()
    check, rows = read_all(path)
    assert check == "ok"
    by_tag = {}
    for key, value in rows:
        assert value == expected_value(key[2])
        by_tag[key[0]] = by_tag.get(key[0], 0) + 1
    assert by_tag["fp-first"] == by_tag["fp-second"] == 15 * size


@pytest.mark.parametrize("bad_value", [object()])
def test_unserialisable_value_is_rejected_without_partial_write(tmp_path, bad_value):
    cache = SQLiteAugmentationCache(tmp_path / "c.sqlite")
    with pytest.raises(TypeError):
        cache.set_many({("f", 0, "good"): "fine", ("f", 0, "bad"): bad_value})
    assert len(cache) == 0


# The store utility under both caches ------------------------------------------

from allsh_sklearn.utils import SchemaVersionError, SQLiteStore  # noqa: E402

_TABLE = ["CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT)"]


def test_store_chunks_reads_and_rolls_back_failed_writes(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite", schema=_TABLE, version=1)
    with store.write() as connection:
        connection.executemany(
            "INSERT INTO t VALUES (?, ?)", [(k, str(k)) for k in range(1200)]
        )
    # 1,300 values in chunks of 500: three statements, every row found once
    rows = store.select_in(
        "SELECT k FROM t WHERE v != ? AND k IN ({marks})", range(100, 1400), ["7"]
    )
    assert sorted(k for (k,) in rows) == list(range(100, 1200))
    with pytest.raises(KeyError):
        with store.write() as connection:
            connection.execute("DELETE FROM t")
            raise KeyError("interrupted")
    assert store.count("t") == 1200
    clone = pickle.loads(pickle.dumps(store))
    assert clone.count("t") == 1200 and clone.version == 1
    store.close()
    assert store.count("t") == 1200  # reopens


def test_store_schema_versions(tmp_path):
    path = tmp_path / "v.sqlite"
    # a file from before versioning (user_version 0) gets the version
    legacy = sqlite3.connect(path)
    legacy.execute(_TABLE[0])
    legacy.execute("INSERT INTO t VALUES (1, 'kept')")
    legacy.commit()
    legacy.close()
    assert SQLiteStore(path, schema=_TABLE, version=1).count("t") == 1
    # an upgrade runs the migration with the version bump
    upgraded = SQLiteStore(
        path,
        schema=_TABLE,
        version=2,
        migrations={1: ["ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'new'"]},
    )
    with upgraded.read() as connection:
        assert connection.execute("SELECT v, w FROM t").fetchall() == [("kept", "new")]
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 2
    # a newer file is refused, untouched; so is an older one without migration
    with pytest.raises(SchemaVersionError, match="newer allsh_sklearn"):
        SQLiteStore(path, schema=_TABLE, version=1)
    with pytest.raises(SchemaVersionError, match="no migration from version 2"):
        SQLiteStore(path, schema=_TABLE, version=3)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 2
    with pytest.raises(ValueError, match="'synchronous' parameter"):
        SQLiteStore(path, synchronous="fast")
    with pytest.raises(ValueError, match="'version' parameter"):
        SQLiteStore(path, version=0)


def test_store_read_only_and_forked_children(tmp_path):
    path = tmp_path / "r.sqlite"
    store = SQLiteStore(path, schema=_TABLE)
    with store.write() as connection:
        connection.execute("INSERT INTO t VALUES (1, 'a')")
    store.close()
    reader = SQLiteStore(path, schema=_TABLE, readonly=True)
    assert reader.select_in("SELECT v FROM t WHERE k IN ({marks})", [1]) == [("a",)]
    with pytest.raises(OSError, match="read-only"):
        with reader.write():
            pass
    # a forked child opens its own connection and its write lands
    store.count("t")  # the parent's connection exists before the fork
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            with store.write() as connection:
                connection.execute("INSERT INTO t VALUES (2, 'child')")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert store.select_in("SELECT v FROM t WHERE k IN ({marks})", [2]) == [
        ("child",)
    ]


def test_store_translates_sqlite_errors_through_its_hook(tmp_path):
    class Translating(SQLiteStore):
        def translate(self, error):
            return LookupError(f"translated: {error}")

    store = Translating(tmp_path / "t.sqlite", schema=_TABLE)
    with pytest.raises(LookupError, match="translated: no such table"):
        store.select_in("SELECT * FROM missing WHERE k IN ({marks})", [1])
    with pytest.raises(LookupError, match="translated"):
        with store.write() as connection:
            connection.execute("INSERT INTO missing VALUES (1)")
    with pytest.raises(LookupError, match="translated"):
        with store.read() as connection:
            connection.execute("SELECT * FROM missing")
    assert store.count("t") == 0  # nothing half-written, the store still works


def test_store_closes_the_connections_of_threads_that_ended(tmp_path):
    """A server's worker threads come and go; their connections do not pile up."""
    import threading

    store = SQLiteStore(tmp_path / "s.sqlite", schema=_TABLE, version=1)
    opened = []

    def work(k):
        with store.write() as connection:
            connection.execute("INSERT INTO t VALUES (?, ?)", (k, str(k)))
        opened.append(store.connection())

    for k in range(6):
        thread = threading.Thread(target=work, args=(k,))
        thread.start()
        thread.join()
    # Each new connection closes those of the threads that ended before it:
    # the store holds the main thread's and the last thread's, not seven.
    main = store.connection()
    assert [c for _, _, c in store._opened] == [main, opened[-1]]
    for connection in opened[:-1]:
        with pytest.raises(sqlite3.ProgrammingError):
            connection.execute("SELECT 1")
    assert store.count("t") == 6
    store.close()
