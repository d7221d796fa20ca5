"""Tests for allsh_sklearn.datasets: loaders on the shared data, errors, and
the download parsers on tiny archives built here (no network needed)."""

import gzip
import http.server
import io
import json
import os
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from allsh_sklearn.datasets import (
    KNOWN_DATASETS,
    DataHomeNotFoundError,
    DatasetNotFoundError,
    DownloadError,
    SplitNotFoundError,
    _download,
    fetch_dataset,
    get_data_home,
    list_datasets,
    load_dataset,
    make_word_sentiment,
)
from allsh_sklearn.datasets._synthetic import NEGATIVE_WORDS, POSITIVE_WORDS

ENV = "ALLSH_SKLEARN_DATA"
RTE_HEADER = "index\tsentence1\tsentence2\tlabel\n"
QNLI_HEADER = "index\tquestion\tsentence\tlabel\n"
QQP_HEADER = "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"


def _shared_data_home():
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


SHARED = _shared_data_home()


def _is_str(value):
    return isinstance(value, str)


def _meta(home, name):
    with open(home / name / "meta.json", encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture
def shared():
    """The real data home; skip the test if it (or a dataset) is absent."""

    def need(*names):
        for name in names:
            if not (SHARED / name / "meta.json").is_file():
                pytest.skip(f"dataset {name!r} not found in {SHARED}")
        return SHARED

    return need


def _write_dataset(home, name, splits, label_names, **meta):
    """Write a small dataset in the data-home layout."""
    folder = home / name
    folder.mkdir(parents=True)
    for split, rows in splits.items():
        with gzip.open(folder / f"{split}.jsonl.gz", "wt", encoding="utf-8") as f:
            for row in rows:
                f.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    content = {
        "name": name,
        "label_names": label_names,
        "splits": {split: len(rows) for split, rows in splits.items()},
        **meta,
    }
    (folder / "meta.json").write_text(json.dumps(content), encoding="utf-8")
    return folder


@pytest.fixture
def tiny_home(tmp_path):
    home = tmp_path / "data"
    _write_dataset(
        home,
        "toy",
        {
            "train": [{"text": f"text {i}", "label": i % 3} for i in range(20)],
            "test": [{"text": "a", "label": 0}, {"text": "b", "label": 2}],
        },
        ["x", "y", "z"],
        source="made in a test",
        license="CC0",
        notes="tiny",
    )
    _write_dataset(
        home,
        "toy_pairs",
        {"dev": [{"text": "p", "text_pair": "q", "label": 1}]},
        ["no", "yes"],
    )
    return home


# ---------------------------------------------------------------------------
# get_data_home
# ---------------------------------------------------------------------------


def test_get_data_home_resolution_order(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(ENV, raising=False)
    default = get_data_home()
    assert isinstance(default, Path)
    assert default == tmp_path / "home" / "allsh_sklearn_data"

    monkeypatch.setenv(ENV, str(tmp_path / "from_env"))
    assert get_data_home() == tmp_path / "from_env"
    # The argument wins over the environment variable.
    assert get_data_home(tmp_path / "from_arg") == tmp_path / "from_arg"
    assert get_data_home(str(tmp_path / "from_arg")) == tmp_path / "from_arg"

    # An empty variable counts as unset; "~" is expanded.
    monkeypatch.setenv(ENV, "")
    assert get_data_home() == default
    assert get_data_home("~/x") == tmp_path / "home" / "x"


def test_get_data_home_rejects_non_paths():
    with pytest.raises(TypeError, match="'data_home' parameter"):
        get_data_home(3)


def test_load_dataset_reads_env_var(tiny_home, monkeypatch):
    monkeypatch.setenv(ENV, str(tiny_home))
    assert len(load_dataset("toy", "test").data) == 2


# ---------------------------------------------------------------------------
# Shared data
# ---------------------------------------------------------------------------


def test_sst2_train_matches_meta(shared):
    home = shared("sst2")
    meta = _meta(home, "sst2")
    bunch = load_dataset("sst2", "train", data_home=home)
    assert isinstance(bunch, Bunch)
    assert len(bunch.data) == len(bunch.target) == meta["splits"]["train"]
    assert all(isinstance(text, str) for text in bunch.data[:100])
    assert bunch.target.dtype == np.int64
    assert bunch.target_names == meta["label_names"] == ["negative", "positive"]
    assert set(np.unique(bunch.target)) == {0, 1}
    assert bunch.name == "sst2" and bunch.split == "train"
    assert bunch.is_pair is False
    assert meta["source"] in bunch.DESCR and meta["license"] in bunch.DESCR
    assert "60,614 rows" in bunch.DESCR


def test_trec_test_matches_meta(shared):
    home = shared("trec")
    meta = _meta(home, "trec")
    bunch = load_dataset("trec", split="test", data_home=home)
    assert len(bunch.data) == meta["splits"]["test"] == 500
    assert bunch.target_names == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    assert bunch.target.min() >= 0 and bunch.target.max() < 6


@pytest.mark.parametrize(
    "name, split", [("rte", "train"), ("rte", "dev"), ("twitter_ppdb", "test")]
)
def test_pair_tasks_return_tuples(shared, name, split):
    home = shared(name)
    bunch = load_dataset(name, split, data_home=home)
    assert bunch.is_pair is True
    assert len(bunch.data) == _meta(home, name)["splits"][split]
    assert all(
        isinstance(pair, tuple) and len(pair) == 2 and all(map(_is_str, pair))
        for pair in bunch.data
    )


def test_return_X_y(shared):
    home = shared("trec")
    X, y = load_dataset("trec", "test", data_home=home, return_X_y=True)
    bunch = load_dataset("trec", "test", data_home=home)
    assert X == bunch.data
    np.testing.assert_array_equal(y, bunch.target)
    assert y.dtype == np.int64


def test_n_samples_is_deterministic_subset(shared):
    home = shared("trec")
    full = load_dataset("trec", "test", data_home=home)
    rows = set(zip(full.data, full.target.tolist(), strict=True))
    a = load_dataset("trec", "test", data_home=home, n_samples=50, random_state=0)
    b = load_dataset("trec", "test", data_home=home, n_samples=50, random_state=0)
    c = load_dataset("trec", "test", data_home=home, n_samples=50, random_state=1)
    assert len(a.data) == len(a.target) == 50
    assert a.data == b.data
    np.testing.assert_array_equal(a.target, b.target)
    assert a.data != c.data
    assert set(zip(a.data, a.target.tolist(), strict=True)) <= rows
    assert "random subsample of 500" in a.DESCR
    # A RandomState instance is accepted too.
    d = load_dataset(
        "trec",
        "test",
        data_home=home,
        n_samples=50,
        random_state=np.random.RandomState(0),
    )
    assert d.data == a.data
    # n_samples equal to the split size is a permutation of all rows.
    e = load_dataset("trec", "test", data_home=home, n_samples=500, random_state=0)
    assert sorted(e.data) == sorted(full.data)


def test_list_datasets_shared(shared):
    home = shared("sst2", "rte", "trec")
    frame = list_datasets(home)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [
        "name",
        "splits",
        "n_rows",
        "n_classes",
        "label_names",
        "is_pair",
        "license",
    ]
    assert frame["name"].tolist() == sorted(frame["name"])
    by_name = frame.set_index("name")
    assert by_name.loc["sst2", "splits"] == _meta(home, "sst2")["splits"]
    assert by_name.loc["trec", "n_classes"] == 6
    assert by_name.loc["rte", "is_pair"] and not by_name.loc["sst2", "is_pair"]
    assert by_name.loc["sst2", "n_rows"] == sum(_meta(home, "sst2")["splits"].values())


# ---------------------------------------------------------------------------
# Small data homes
# ---------------------------------------------------------------------------


def test_list_datasets_small_home(tiny_home):
    (tiny_home / "_downloads").mkdir()  # not a dataset
    (tiny_home / "no_meta").mkdir()  # not a dataset either
    rows = list_datasets(tiny_home, as_frame=False)
    assert [row["name"] for row in rows] == ["toy", "toy_pairs"]
    assert rows[0]["splits"] == {"train": 20, "test": 2}
    assert rows[0]["label_names"] == ["x", "y", "z"]
    assert rows[0]["is_pair"] is False and rows[1]["is_pair"] is True


def test_list_datasets_empty_home(tmp_path):
    frame = list_datasets(tmp_path)
    assert len(frame) == 0 and "name" in frame.columns


def test_load_small_dataset(tiny_home):
    bunch = load_dataset("toy", data_home=tiny_home)
    assert bunch.data[:2] == ["text 0", "text 1"]
    assert bunch.target.tolist()[:4] == [0, 1, 2, 0]
    assert bunch.DESCR.splitlines()[1] == "Labels: 0=x, 1=y, 2=z"
    assert Path(bunch.filename) == tiny_home / "toy" / "train.jsonl.gz"
    X, y = load_dataset("toy_pairs", "dev", data_home=tiny_home, return_X_y=True)
    assert X == [("p", "q")] and y.tolist() == [1]


def test_blank_lines_are_skipped(tmp_path):
    rows = ['{"text": "a", "label": 0}', "", '{"text": "b", "label": 1}', ""]
    _write_dataset(tmp_path, "blank", {"train": rows}, ["n", "p"])
    assert load_dataset("blank", data_home=tmp_path).data == ["a", "b"]


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_missing_data_home_message(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataHomeNotFoundError) as info:
        load_dataset("sst2", data_home=missing)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for part in (
        str(missing),
        "data_home argument",
        "<split>.jsonl.gz",
        "meta.json",
        "ALLSH_SKLEARN_DATA",
        "fetch_dataset",
    ):
        assert part in message
    with pytest.raises(DataHomeNotFoundError, match="nowhere"):
        list_datasets(missing)

    monkeypatch.setenv(ENV, str(missing))
    with pytest.raises(DataHomeNotFoundError, match="environment variable"):
        load_dataset("sst2")
    monkeypatch.delenv(ENV)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(DataHomeNotFoundError, match="allsh_sklearn_data.*default"):
        load_dataset("sst2")


def test_unknown_dataset_message(tiny_home):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("sst3", data_home=tiny_home)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, FileNotFoundError)
    assert "Unknown dataset 'sst3'" in message
    assert "['toy', 'toy_pairs']" in message  # what the data home holds
    for known in KNOWN_DATASETS:
        assert repr(known) in message


def _outside_dataset(tmp_path):
    """A valid dataset folder outside the data home (the escape target)."""
    return _write_dataset(
        tmp_path / "outside",
        "x",
        {"train": [{"text": "secret", "label": 0}]},
        ["a"],
    )


@pytest.mark.parametrize(
    "name",
    [
        "toy/../../outside/x",  # relative escape through a dataset folder
        "../outside/x",
        "toy/../toy",  # stays inside, but is not a plain name either
        "toy/",
        "./toy",
        ".",
        "..",
        "",
        "toy\\..\\..\\outside\\x",
        "to\x00y",
    ],
)
def test_names_with_path_parts_are_rejected(tiny_home, tmp_path, name):
    _outside_dataset(tmp_path)
    with pytest.raises(ValueError) as info:
        load_dataset(name, data_home=tiny_home)
    message = str(info.value)
    assert "The 'name' parameter of load_dataset" in message
    assert "plain dataset name" in message
    assert f"Got {name!r} instead" in message
    # The allowed names: the data home's datasets and the known ones.
    assert "['toy', 'toy_pairs']" in message
    assert "'sst2'" in message


def test_absolute_name_does_not_read_outside_the_data_home(tiny_home, tmp_path):
    outside = _outside_dataset(tmp_path)
    assert load_dataset("toy", data_home=tiny_home).data  # the home works
    with pytest.raises(ValueError, match="plain dataset name") as info:
        load_dataset(str(outside), data_home=tiny_home)
    assert repr(str(outside)) in str(info.value)


def test_bad_name_is_reported_before_the_data_home_is_needed(tmp_path):
    with pytest.raises(ValueError, match="plain dataset name"):
        load_dataset("sst2/../x", data_home=tmp_path / "missing")


def test_known_but_absent_dataset_suggests_fetch(tiny_home):
    with pytest.raises(DatasetNotFoundError, match=r"fetch_dataset\('imdb'\)"):
        load_dataset("imdb", data_home=tiny_home)


def test_folder_without_meta(tiny_home):
    (tiny_home / "half").mkdir()
    with pytest.raises(DatasetNotFoundError, match="has no meta.json"):
        load_dataset("half", data_home=tiny_home)


def test_unknown_split_message(tiny_home):
    with pytest.raises(SplitNotFoundError) as info:
        load_dataset("toy", split="validation", data_home=tiny_home)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "no split 'validation'" in message
    assert "['train', 'test']" in message


def test_unknown_split_message_shared(shared):
    home = shared("qqp")
    with pytest.raises(SplitNotFoundError, match=r"Available splits: \['dev'\]"):
        load_dataset("qqp", "train", data_home=home)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"name": 3}, TypeError, "'name' parameter"),
        ({"split": None}, TypeError, "'split' parameter"),
        ({"n_samples": 0}, ValueError, r"\[1, 20\].*Got 0"),
        ({"n_samples": 21}, ValueError, r"\[1, 20\].*Got 21"),
        ({"n_samples": 0.5}, TypeError, "'n_samples' parameter"),
        ({"n_samples": True}, TypeError, "'n_samples' parameter"),
    ],
)
def test_parameter_errors(tiny_home, kwargs, error, match):
    params = {"name": "toy", "split": "train", "data_home": tiny_home, **kwargs}
    with pytest.raises(error, match=match):
        load_dataset(**params)


def test_malformed_rows(tmp_path):
    _write_dataset(
        tmp_path,
        "bad_json",
        {"train": ['{"text": "a", "label": 0}', "{not json"]},
        ["n", "p"],
    )
    with pytest.raises(ValueError, match="line 2: not valid JSON"):
        load_dataset("bad_json", data_home=tmp_path)
    _write_dataset(
        tmp_path,
        "no_label",
        {"train": [{"text": "a", "label": 0}, {"text": "b"}]},
        ["n", "p"],
    )
    with pytest.raises(ValueError, match="line 2: every row"):
        load_dataset("no_label", data_home=tmp_path)
    _write_dataset(
        tmp_path, "bad_label", {"train": [{"text": "a", "label": 5}]}, ["n", "p"]
    )
    with pytest.raises(ValueError, match="label 5, outside the 2 label_names"):
        load_dataset("bad_label", data_home=tmp_path)
    folder = _write_dataset(tmp_path, "bad_meta", {"train": []}, ["n"])
    (folder / "meta.json").write_text('{"name": "bad_meta"}')
    with pytest.raises(ValueError, match="label_names"):
        load_dataset("bad_meta", data_home=tmp_path)


# ---------------------------------------------------------------------------
# Download parsers on tiny synthetic originals
# ---------------------------------------------------------------------------


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in members.items():
            archive.writestr(member, text)
    return path


def test_parse_glue_sst2_and_split(tmp_path, monkeypatch):
    train = "sentence\tlabel\n" + "".join(f"phrase {i} \t{i % 2}\n" for i in range(10))
    dev = "sentence\tlabel\nit 's good .\t1\nit 's bad .\t0\n"
    path = _zip(
        tmp_path / "SST-2.zip",
        {
            "SST-2/train.tsv": train,
            "SST-2/dev.tsv": dev,
            "SST-2/test.tsv": "index\tsentence\n0\tunlabeled\n",
        },
    )
    splits, n_dropped = _download._parse_glue_zip(path, "sst2")
    assert n_dropped == 0
    assert splits["dev"] == [
        {"text": "it 's good .", "label": 1},
        {"text": "it 's bad .", "label": 0},
    ]
    assert splits["train"][0] == {"text": "phrase 0", "label": 0}  # stripped

    monkeypatch.setattr(_download, "_SST2_DEV_SIZE", 3)
    built, notes = _download._build("sst2", {"archive": path})
    assert [len(built[s]) for s in ("train", "dev", "test")] == [7, 3, 2]
    again, _ = _download._build("sst2", {"archive": path})
    assert again == built  # deterministic carve
    texts = [row["text"] for row in built["train"] + built["dev"]]
    assert sorted(texts) == sorted(row["text"] for row in splits["train"])
    assert [row["text"] for row in built["train"]] == sorted(
        (row["text"] for row in built["train"]), key=lambda t: int(t.split()[1])
    )  # file order kept


def test_parse_glue_pairs(tmp_path):
    rte = _zip(
        tmp_path / "RTE.zip",
        {
            "RTE/train.tsv": RTE_HEADER
            + '0\tA "quoted" premise.\tA hypothesis.\tentailment\n'
            "1\tAnother premise.\tNot it.\tnot_entailment\n",
            "RTE/dev.tsv": RTE_HEADER + "0\tP.\tH.\tentailment\n",
        },
    )
    splits, _ = _download._parse_glue_zip(rte, "rte")
    assert splits["train"] == [
        {"text": 'A "quoted" premise.', "text_pair": "A hypothesis.", "label": 0},
        {"text": "Another premise.", "text_pair": "Not it.", "label": 1},
    ]
    qqp = _zip(
        tmp_path / "QQP-clean.zip",
        {
            "QQP/train.tsv": QQP_HEADER + "0\t1\t2\tHow old?\tWhat age?\t1\n"
            "1\t3\t4\tbroken row\t0\n",
            "QQP/dev.tsv": QQP_HEADER + "5\t6\t7\tWhy?\tHow?\t0\n",
        },
    )
    splits, n_dropped = _download._parse_glue_zip(qqp, "qqp")
    assert n_dropped == 1
    assert splits["train"] == [
        {"text": "How old?", "text_pair": "What age?", "label": 1}
    ]
    assert splits["dev"][0]["label"] == 0
    qnli = _zip(
        tmp_path / "QNLIv2.zip",
        {
            "QNLI/train.tsv": QNLI_HEADER + "0\tQ?\tS.\tnot_entailment\n",
            "QNLI/dev.tsv": QNLI_HEADER + "0\tQ2?\tS2.\tentailment\n",
        },
    )
    splits, _ = _download._parse_glue_zip(qnli, "qnli")
    assert splits["train"] == [{"text": "Q?", "text_pair": "S.", "label": 1}]


def test_parse_glue_errors(tmp_path):
    path = _zip(tmp_path / "RTE.zip", {"RTE/train.tsv": "a\tb\n1\t2\n"})
    with pytest.raises(ValueError, match="expected columns"):
        _download._parse_glue_zip(path, "rte")
    path = _zip(
        tmp_path / "RTE2.zip",
        {"RTE/train.tsv": RTE_HEADER + "0\tP\tH\tmaybe\n"},
    )
    with pytest.raises(ValueError, match="label 'maybe'"):
        _download._parse_glue_zip(path, "rte")
    path = _zip(tmp_path / "SST-2.zip", {"SST-2/train.tsv": "sentence\tlabel\n"})
    with pytest.raises(ValueError, match="no dev.tsv"):
        _download._parse_glue_zip(path, "sst2")


def _imdb_tar(path):
    files = {
        "aclImdb/train/pos/3_10.txt": "Great.<br /><br />Loved it.",
        "aclImdb/train/pos/1_8.txt": "Fine film.",
        "aclImdb/train/neg/2_1.txt": "Awful.",
        "aclImdb/test/neg/0_3.txt": "Dull, caf\u00e9 scene.",
        "aclImdb/test/pos/5_9.txt": "Superb.",
        "aclImdb/train/unsup/0_0.txt": "No label.",
        "aclImdb/train/urls_pos.txt": "http://example.com\n",
        "aclImdb/imdb.vocab": "the\n",
    }
    with tarfile.open(path, "w:gz") as archive:
        for member, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_parse_imdb_tar(tmp_path):
    path = _imdb_tar(tmp_path / "aclImdb_v1.tar.gz")
    splits = _download._parse_imdb_tar(path)
    assert splits["train"] == [
        {"text": "Awful.", "label": 0},
        {"text": "Fine film.", "label": 1},
        {"text": "Great.<br /><br />Loved it.", "label": 1},
    ]
    assert splits["test"] == [
        {"text": "Dull, caf\u00e9 scene.", "label": 0},
        {"text": "Superb.", "label": 1},
    ]
    assert _download._parse_imdb_tar(path.read_bytes()) == splits
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz"):
        pass
    with pytest.raises(ValueError, match="no aclImdb"):
        _download._parse_imdb_tar(empty)


def test_parse_ag_news_csv():
    content = (
        b'"3","Wall St. Bears","Reuters - Short-sellers, Wall Street\'s\\band."\n'
        b'"1","Title","  World news, in ""quotes"". "\n'
        b'"4","Sci","#39;Space\' race"\n'
    )
    rows = _download._parse_ag_news_csv(content)
    assert rows == [
        {"text": "Reuters - Short-sellers, Wall Street's\\band.", "label": 2},
        {"text": 'World news, in "quotes".', "label": 0},
        {"text": "#39;Space' race", "label": 3},
    ]
    with pytest.raises(ValueError, match="class index '7'"):
        _download._parse_ag_news_csv(b'"7","t","d"\n')
    with pytest.raises(ValueError, match="expected class, title, description"):
        _download._parse_ag_news_csv(b'"1","only a title"\n')


def test_parse_trec_labels():
    content = (
        b"DESC:manner How did serfdom develop in and then leave Russia ?\n"
        b"LOC:city What is the sister\xf0city of Paris ?\r\n"
        b"ABBR:exp What does NASA stand for ?\n\n"
    )
    rows = _download._parse_trec_labels(content)
    assert rows == [
        {"text": "How did serfdom develop in and then leave Russia ?", "label": 1},
        {"text": "What is the sister\u00f0city of Paris ?", "label": 4},
        {"text": "What does NASA stand for ?", "label": 0},
    ]
    with pytest.raises(ValueError, match="line 1"):
        _download._parse_trec_labels(b"WHAT:x Why ?\n")


def test_parse_stsa_and_twitter():
    assert _download._parse_stsa_binary(b"1 a good film .\n0 a bad one .\n") == [
        {"text": "a good film .", "label": 1},
        {"text": "a bad one .", "label": 0},
    ]
    with pytest.raises(ValueError, match="stsa.binary"):
        _download._parse_stsa_binary(b"positive a good film .\n")
    content = (
        b"Trump wins \tTrump has won \t(4,6)\thttps://t.co/a\n"
        b"Trump wins \tUnrelated text \t(1,6)\thttps://t.co/a\n"
        b"Trump wins \tUndecided \t(3,6)\thttps://t.co/a\n"
    )
    rows, n_discarded = _download._parse_twitter_url_corpus(content)
    assert n_discarded == 1
    assert rows == [
        {"text": "Trump wins", "text_pair": "Trump has won", "label": 1},
        {"text": "Trump wins", "text_pair": "Unrelated text", "label": 0},
    ]
    with pytest.raises(ValueError, match="Twitter URL corpus, line 1"):
        _download._parse_twitter_url_corpus(b"no tabs here\n")


# ---------------------------------------------------------------------------
# fetch_dataset end to end with file:// URLs, and offline failures
# ---------------------------------------------------------------------------


@pytest.fixture
def trec_sources(tmp_path, monkeypatch):
    src = tmp_path / "originals"
    src.mkdir()
    (src / "train_5500.label").write_bytes(
        b"NUM:date When was Ozzy Osbourne born ?\nHUM:ind Who wrote Hamlet ?\n"
    )
    (src / "TREC_10.label").write_bytes(b"LOC:city Where is Basel ?\n")
    monkeypatch.setitem(
        _download.URLS,
        "trec",
        {
            "train": (src / "train_5500.label").as_uri(),
            "test": (src / "TREC_10.label").as_uri(),
        },
    )
    return src


def test_fetch_dataset_writes_loadable_layout(tmp_path, trec_sources):
    home = tmp_path / "home"
    folder = fetch_dataset("trec", data_home=home, verbose=False)
    assert folder == home / "trec"
    assert sorted(p.name for p in folder.iterdir()) == [
        "meta.json",
        "test.jsonl.gz",
        "train.jsonl.gz",
    ]
    assert not (home / "_downloads").exists()  # archives removed by default
    meta = _meta(home, "trec")
    assert meta["splits"] == {"train": 2, "test": 1}
    assert meta["label_names"] == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    assert {"name", "source", "license", "notes"} <= set(meta)
    bunch = load_dataset("trec", "train", data_home=home)
    assert bunch.data == ["When was Ozzy Osbourne born ?", "Who wrote Hamlet ?"]
    assert bunch.target.tolist() == [5, 3]
    assert list_datasets(home)["name"].tolist() == ["trec"]
    # Reproducible bytes: gzip mtime is fixed.
    first = (folder / "train.jsonl.gz").read_bytes()
    fetch_dataset("trec", data_home=home, force=True, verbose=False)
    assert (folder / "train.jsonl.gz").read_bytes() == first


def test_fetch_dataset_skips_present_and_keeps_archives(tmp_path, trec_sources):
    home = tmp_path / "home"
    fetch_dataset("trec", data_home=home, keep_archives=True, verbose=False)
    assert sorted(p.name for p in (home / "_downloads").iterdir()) == [
        "TREC_10.label",
        "train_5500.label",
    ]
    # Present: nothing is downloaded, even from a dead URL.
    _download.URLS["trec"]["train"] = "http://127.0.0.1:9/train_5500.label"
    assert fetch_dataset("trec", data_home=home, verbose=False) == home / "trec"
    # A file already in _downloads (e.g. copied by hand) is used, not fetched.
    fetch_dataset("trec", data_home=home, force=True, verbose=False)
    assert (home / "_downloads" / "train_5500.label").is_file()


def test_fetch_imdb_and_glue_end_to_end(tmp_path, monkeypatch):
    archive = _imdb_tar(tmp_path / "aclImdb_v1.tar.gz")
    zipped = _zip(
        tmp_path / "RTE.zip",
        {
            "RTE/train.tsv": RTE_HEADER + "0\tP.\tH.\tentailment\n",
            "RTE/dev.tsv": RTE_HEADER + "0\tP2.\tH2.\tnot_entailment\n",
        },
    )
    monkeypatch.setitem(_download.URLS, "imdb", {"archive": archive.as_uri()})
    monkeypatch.setitem(_download.URLS, "rte", {"archive": zipped.as_uri()})
    home = tmp_path / "home"
    fetch_dataset("imdb", data_home=home, verbose=False)
    fetch_dataset("rte", data_home=home, verbose=False)
    imdb = load_dataset("imdb", "test", data_home=home)
    assert imdb.data == ["Dull, caf\u00e9 scene.", "Superb."]
    rte = load_dataset("rte", "dev", data_home=home)
    assert rte.is_pair and rte.data == [("P2.", "H2.")] and rte.target.tolist() == [1]


def test_fetch_corrupt_download_is_not_reused(tmp_path, monkeypatch):
    bogus = tmp_path / "SST-2.zip"
    bogus.write_text("<html>not a zip</html>")
    monkeypatch.setitem(_download.URLS, "sst2", {"archive": bogus.as_uri()})
    home = tmp_path / "home"
    with pytest.raises(ValueError, match="Could not read the original files of 'sst2'"):
        fetch_dataset("sst2", data_home=home, verbose=False)
    assert not (home / "_downloads" / "SST-2.zip").exists()
    assert not (home / "sst2" / "meta.json").exists()


def test_fetch_offline_message(tmp_path, monkeypatch):
    url = "http://127.0.0.1:9/train_5500.label"
    monkeypatch.setitem(_download.URLS, "trec", {"train": url, "test": url})
    home = tmp_path / "home"
    with pytest.raises(DownloadError) as info:
        fetch_dataset("trec", data_home=home, timeout=5, verbose=False)
    assert isinstance(info.value, ConnectionError)
    message = str(info.value)
    for part in (
        url,
        str(home / "_downloads" / "train_5500.label"),
        f"data_home={str(home)!r}",
        "<split>.jsonl.gz",
        "meta.json",
        "ALLSH_SKLEARN_DATA",
    ):
        assert part in message
    # No partial file is left behind.
    assert not (home / "_downloads").exists()
    assert not (home / "trec").exists()


class _NotFoundHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server API)
        self.send_error(404)

    def log_message(self, *args):
        pass


def test_fetch_http_error_message(tmp_path, monkeypatch):
    server = http.server.HTTPServer(("127.0.0.1", 0), _NotFoundHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/TREC_10.label"
        monkeypatch.setitem(_download.URLS, "trec", {"test": url})
        with pytest.raises(DownloadError, match="Not Found"):
            fetch_dataset("trec", data_home=tmp_path, timeout=5, verbose=False)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"name": "mnist"}, ValueError, "must be one of"),
        ({"name": "trec", "timeout": 0}, ValueError, "'timeout' parameter"),
        ({"name": "trec", "timeout": "5"}, TypeError, "'timeout' parameter"),
    ],
)
def test_fetch_parameter_errors(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        fetch_dataset(data_home=tmp_path, **kwargs)


def test_every_known_dataset_is_downloadable():
    assert set(_download.URLS) == set(KNOWN_DATASETS) == set(_download.LABEL_NAMES)


# make_word_sentiment ---------------------------------------------------------


def test_make_word_sentiment_labels_follow_the_sentiment_words():
    X, y = make_word_sentiment(200, n_filler_words=30, max_filler=8, random_state=1)
    assert len(X) == 200 and y.shape == (200,) and set(y) == {0, 1}
    for text, label in zip(X, y, strict=True):
        words = text.split()
        fillers = [w for w in words if w[0] == "w" and w[1:].isdigit()]
        sentiment = [w for w in words if w not in fillers]
        assert 1 <= len(sentiment) <= 2
        assert set(sentiment) <= set(POSITIVE_WORDS if label else NEGATIVE_WORDS)
        assert 4 <= len(fillers) <= 7
        assert all(0 <= int(w[1:]) < 30 for w in fillers)


def test_make_word_sentiment_is_reproducible():
    first = make_word_sentiment(50, random_state=3)
    assert first[0] == make_word_sentiment(50, random_state=3)[0]
    assert first[0] != make_word_sentiment(50, random_state=4)[0]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_samples": 0}, ValueError, r"'n_samples' .* an int >= 1\. Got 0 "),
        ({"max_filler": 4}, ValueError, r"'max_filler' .* an int >= 5\. Got 4 "),
        ({"n_filler_words": 2.5}, TypeError, r"'n_filler_words' .* >= 1\. Got 2\.5"),
        ({"n_samples": True}, TypeError, r"'n_samples' .* an int >= 1\. Got True"),
        ({"random_state": "x"}, ValueError, r"'random_state' .* Got 'x' "),
    ],
)
def test_make_word_sentiment_rejects_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_word_sentiment(**kwargs)
