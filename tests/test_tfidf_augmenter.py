"""Tests of the UDA TF-IDF word-replacement augmenter.

The statistics are checked against an independent, straightforward
implementation of UDA's reference procedure (google-research/uda,
``augmentation/word_level_augment.py``: ``get_data_stats``,
``TfIdfWordRep.get_replace_prob`` and the replacement-word distribution),
written below with dictionaries and loops, and its tokenisation against
Hugging Face's implementation of BERT's basic tokenizer.
"""

import gzip
import json
import math
import os
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from allsh_sklearn.augment import TfidfAugmenter
from allsh_sklearn.augment._tfidf import _BertBasicTokenizer, _WhitespaceTokenizer

# The old behaviour: whitespace words, punctuation kept, pair sides apart.
LEGACY = {"tokenizer": "whitespace", "replace_punctuation": False, "joint_pairs": False}

# A corpus small enough to check by hand (N = 3):
#   df:    the 2, cat 2, dog 1, a 1
#   idf:   the, cat -> log(3/2); dog, a -> log(3)
#   tfidf: the = (1/2 + 1/3) log(3/2), cat = (1/2 + 1/2) log(3/2),
#          dog = 2/3 log(3),           a = 1/2 log(3)
CORPUS = ["the cat", "the dog dog", "a cat"]
LOG15, LOG3 = math.log(1.5), math.log(3.0)

SST2_TRAIN = (
    Path(
        os.environ.get(
            "ALLSH_SKLEARN_DATA",
            Path(__file__).resolve().parents[2] / "shared" / "data",
        )
    )
    / "sst2"
    / "train.jsonl.gz"
)

LONG_SENTENCE = (
    "the quiet film follows a lonely baker through one long winter in a small "
    "harbour town where nothing much happens and everyone knows everyone"
)


def _long_corpus():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(200)]
    # Zipf-like frequencies: low ids common, high ids rare.
    weights = 1.0 / np.arange(1, len(words) + 1)
    weights /= weights.sum()
    corpus = [
        " ".join(rng.choice(words, size=rng.integers(3, 15), p=weights))
        for _ in range(300)
    ]
    return corpus + [LONG_SENTENCE]


def _changed_tokens(original, augmented, tokenize=str.split):
    before, after = tokenize(original), tokenize(augmented)
    assert len(before) == len(after)
    return [u != v for u, v in zip(before, after, strict=True)]


# UDA's reference procedure, written out plainly ---------------------------------
#
# A document is the word list of a text, or of both sides of a pair one after
# the other (UDA's word_list_a + word_list_b).


def uda_data_stats(documents):
    """UDA's get_data_stats: idf = log(N / df); tf_idf sums count/len * idf."""
    document_frequency = Counter()
    for words in documents:
        document_frequency.update(set(words))
    idf = {
        word: math.log(len(documents) / count)
        for word, count in document_frequency.items()
    }
    tf_idf = defaultdict(float)
    for words in documents:
        for word in words:
            tf_idf[word] += 1.0 / len(words) * idf[word]
    return idf, dict(tf_idf)


def uda_replace_prob(words, idf, p):
    """UDA's get_replace_prob, with the >= 1 cap its coin comparison implies."""
    current = defaultdict(float)
    for word in words:
        current[word] += 1.0 / len(words) * idf[word]
    scores = [current[word] for word in words]
    gaps = [max(scores) - score for score in scores]
    return [min(gap / sum(gaps) * p * len(words), 1.0) for gap in gaps]


def uda_replacement_distribution(tf_idf):
    """UDA's normalized_tf_idf: proportional to max tf_idf - tf_idf(w)."""
    top = max(tf_idf.values())
    total = sum(top - value for value in tf_idf.values())
    return {word: (top - value) / total for word, value in tf_idf.items()}


def uda_documents(items, tokenize):
    return [
        [w for side in item for w in tokenize(side)]
        if isinstance(item, tuple)
        else tokenize(item)
        for item in items
    ]


# Small corpora with punctuation, capitals and a sentence pair. By hand (N = 3
# documents, the pair being one):
#   df:  cat 3; the 2, a 2; sat, ".", dog, ",", "!" 1
#   idf: cat 0; the, a log(3/2); the others log(3)
UDA_CORPUS = ["The cat sat.", ("the dog", "A dog, a cat!"), "a cat"]


@pytest.fixture
def fitted():
    return TfidfAugmenter(p=0.3, random_state=0).fit(CORPUS)


# Fitted statistics ---------------------------------------------------------------


def test_idf_and_tfidf_on_a_hand_checked_corpus(fitted):
    vocabulary = fitted.vocabulary_
    assert set(vocabulary) == {"the", "cat", "dog", "a"}
    expected_idf = {"the": LOG15, "cat": LOG15, "dog": LOG3, "a": LOG3}
    expected_tfidf = {
        "the": 5 / 6 * LOG15,
        "cat": LOG15,
        "dog": 2 / 3 * LOG3,
        "a": 1 / 2 * LOG3,
    }
    for word, index in vocabulary.items():
        assert fitted.idf_[index] == pytest.approx(expected_idf[word])
        assert fitted.tfidf_[index] == pytest.approx(expected_tfidf[word])
    assert fitted.n_texts_ == 3


def test_replacement_distribution_favours_uninformative_words(fitted):
    tfidf = fitted.tfidf_
    expected = (tfidf.max() - tfidf) / (tfidf.max() - tfidf).sum()
    np.testing.assert_allclose(fitted.replacement_distribution_, expected)
    assert fitted.replacement_distribution_.sum() == pytest.approx(1.0)
    # "dog" has the largest corpus score: it is never drawn.
    assert fitted.replacement_distribution_[fitted.vocabulary_["dog"]] == 0.0


def test_single_text_corpus_gives_a_uniform_distribution():
    augmenter = TfidfAugmenter(random_state=0).fit(["a b c"])
    np.testing.assert_allclose(augmenter.idf_, 0.0)
    np.testing.assert_allclose(augmenter.replacement_distribution_, [1 / 3] * 3)
    assert augmenter.transform(["a b c", "c a"]) == ["a b c", "c a"]


# Replacement probabilities ----------------------------------------------------


def test_replacement_probabilities_on_a_hand_checked_sentence(fitted):
    # s = [log1.5, log3, log3, log1.5] / 4, max - s = [log2, 0, 0, log2] / 4,
    # Z = log2 / 8, so p * (max - s) / Z = [2p, 0, 0, 2p].
    probabilities = fitted._replacement_probabilities(["the", "dog", "a", "cat"])
    np.testing.assert_allclose(probabilities, [0.6, 0.0, 0.0, 0.6])


def test_replacement_probabilities_count_repeats_and_are_capped():
    # "the" twice: s_the = 2/3 log1.5, s_dog = 1/3 log3; the probability of
    # "the" is p * gap / (2 gap / 3) = 1.5 p.
    augmenter = TfidfAugmenter(p=0.3).fit(CORPUS)
    np.testing.assert_allclose(
        augmenter._replacement_probabilities(["the", "the", "dog"]), [0.45, 0.45, 0.0]
    )
    augmenter.set_params(p=0.8)
    np.testing.assert_allclose(
        augmenter._replacement_probabilities(["the", "dog", "a", "cat"]),
        [1.0, 0.0, 0.0, 1.0],
    )


def test_unseen_words_get_the_largest_idf(fitted):
    # "zebra" scores log3 / 2, like a fitted word of idf log3.
    np.testing.assert_allclose(
        fitted._replacement_probabilities(["zebra", "the"]),
        fitted._replacement_probabilities(["dog", "the"]),
    )
    np.testing.assert_allclose(
        fitted._replacement_probabilities(["zebra", "the"]), [0.0, 0.6]
    )


@pytest.mark.parametrize(
    "sentence", ["dog", "dog a", "the cat", "dog dog dog", "zebra", "zebra lion"]
)
def test_equal_scores_leave_the_sentence_unchanged(fitted, sentence):
    probabilities = fitted._replacement_probabilities(sentence.split())
    assert np.isfinite(probabilities).all()
    np.testing.assert_array_equal(probabilities, 0.0)
    copies = fitted.augment([sentence], n_copies=50)
    assert all(copy == [sentence] for copy in copies)


@pytest.mark.parametrize("tokenizer", ["whitespace", "bert-basic"])
def test_punctuation_is_never_replaced_with_replace_punctuation_false(tokenizer):
    corpus = ["a , b", "a , d", "e . f -- g", "h , i"]
    augmenter = TfidfAugmenter(
        p=1.0, tokenizer=tokenizer, replace_punctuation=False, random_state=0
    ).fit(corpus)
    tokenize = augmenter.build_tokenizer()
    punctuation = {",", "--", ".", "-"}
    sentence = "a , b -- c ."
    words = tokenize(sentence)
    changed = np.zeros(len(words))
    for copy in augmenter.augment([sentence], n_copies=100):
        new = tokenize(copy[0])
        for i, word in enumerate(words):
            if word in punctuation:
                assert new[i] == word
            changed[i] += new[i] != word
    # Other words are replaced ("a", in 2 of the 4 texts, often).
    assert changed[words.index("a")] > 0


def test_punctuation_is_replaced_by_default_as_in_uda():
    corpus = ["a , b", "c , d", "e . f -- g", "h , i"]
    augmenter = TfidfAugmenter(p=1.0, random_state=0).fit(corpus)
    tokenize = augmenter.build_tokenizer()
    copies = [tokenize(c[0]) for c in augmenter.augment(["a , b -- c ."], 200)]
    words = tokenize("a , b -- c .")
    assert words == ["a", ",", "b", "-", "-", "c", "."]
    # "-" (twice, in one text of four) has the largest score and stays; ","
    # and "." are replaced like words.
    for i in (1, 6):
        assert any(copy[i] != words[i] for copy in copies)
    assert all(copy[3] == copy[4] == "-" for copy in copies)


# Outputs -----------------------------------------------------------------------


def test_transform_returns_one_output_per_input(fitted):
    X = ["the cat", "the dog dog a cat", "a", "cat the"]
    assert len(fitted.transform(X)) == len(X)
    copies = fitted.augment(X, n_copies=3)
    assert len(copies) == 3
    assert all(len(copy) == len(X) for copy in copies)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["the", "cat", "dog", "a", "zebra", ","]),
            min_size=1,
            max_size=12,
        ).map(" ".join),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([{}, LEGACY]),
)
def test_outputs_keep_the_number_of_texts_and_tokens(texts, options):
    augmenter = TfidfAugmenter(p=0.5, random_state=0, **options).fit(CORPUS)
    tokenize = augmenter.build_tokenizer()
    augmented = augmenter.transform(texts)
    assert len(augmented) == len(texts)
    for original, new in zip(texts, augmented, strict=True):
        assert new.strip()
        assert len(tokenize(new)) == len(tokenize(original))
        assert len(new.split()) == len(original.split())


def test_replaced_words_come_from_the_vocabulary_by_the_distribution():
    corpus = _long_corpus()
    augmenter = TfidfAugmenter(p=0.5, random_state=0).fit(corpus)
    vocabulary = augmenter.vocabulary_
    drawn = np.zeros(len(vocabulary))
    for copy in augmenter.augment(corpus[:100], n_copies=20):
        for original, new in zip(corpus[:100], copy, strict=True):
            for before, after in zip(original.split(), new.split(), strict=True):
                if before != after:
                    assert after in vocabulary
                    drawn[vocabulary[after]] += 1
    distribution = augmenter.replacement_distribution_
    assert drawn[distribution == 0].sum() == 0
    # Empirical frequencies follow the distribution (total variation).
    assert drawn.sum() > 2000
    assert 0.5 * np.abs(drawn / drawn.sum() - distribution).sum() < 0.1


def test_informative_words_are_replaced_less_often(fitted):
    # Probabilities [0.6, 0, 0, 0.6]; a replacement may draw the same word.
    n_copies = 2000
    sentence = "the dog a cat"
    changed = np.zeros(4)
    for copy in fitted.augment([sentence], n_copies=n_copies):
        changed += _changed_tokens(sentence, copy[0])
    frequency = changed / n_copies
    q = fitted.replacement_distribution_
    expected_the = 0.6 * (1 - q[fitted.vocabulary_["the"]])
    expected_cat = 0.6 * (1 - q[fitted.vocabulary_["cat"]])
    assert frequency[1] == frequency[2] == 0.0
    assert frequency[0] == pytest.approx(expected_the, abs=0.04)
    assert frequency[3] == pytest.approx(expected_cat, abs=0.04)


def test_replacement_frequency_decreases_with_the_word_score():
    corpus = _long_corpus()
    augmenter = TfidfAugmenter(p=0.3, random_state=0).fit(corpus)
    sentence = corpus[-1]
    tokens = sentence.split()
    probabilities = augmenter._replacement_probabilities(tokens)
    n_copies = 1000
    changed = np.zeros(len(tokens))
    for copy in augmenter.augment([sentence], n_copies=n_copies):
        changed += _changed_tokens(sentence, copy[0])
    frequency = changed / n_copies
    never = probabilities == 0.0
    assert never.any() and (frequency[never] == 0).all()
    # Frequencies track the probabilities (rare same-word draws aside).
    np.testing.assert_allclose(frequency, probabilities, atol=0.05)
    assert np.mean(frequency) == pytest.approx(0.3, abs=0.03)


def test_sentence_pairs_with_joint_pairs_false_are_two_documents():
    corpus = _long_corpus()
    augmenter = TfidfAugmenter(p=0.5, joint_pairs=False, random_state=0).fit(
        [(text, text) for text in corpus[:50]] + corpus
    )
    assert augmenter.n_texts_ == 100 + len(corpus)
    first, second = LONG_SENTENCE, corpus[0] + " " + corpus[1]
    copies = augmenter.augment([(first, second), first], n_copies=5)
    for k, (pair, single) in enumerate(copies):
        assert isinstance(pair, tuple) and len(pair) == 2
        assert pair[0] != first and pair[1] != second
        # Each side is the copy that side alone would get.
        alone = augmenter.augment([first, second], n_copies=1, copy_offset=k)[0]
        assert pair == tuple(alone)
        assert single == alone[0]


# Determinism -------------------------------------------------------------------


def test_int_random_state_is_deterministic():
    corpus = _long_corpus()
    first = TfidfAugmenter(random_state=7).fit(corpus)
    second = TfidfAugmenter(random_state=7).fit(corpus)
    assert first.augment(corpus, n_copies=2) == second.augment(corpus, n_copies=2)
    assert first.fingerprint() == second.fingerprint()
    other = TfidfAugmenter(random_state=8).fit(corpus)
    assert other.transform([LONG_SENTENCE]) != first.transform([LONG_SENTENCE])


def test_copy_is_independent_of_the_batch():
    corpus = _long_corpus()
    augmenter = TfidfAugmenter(p=0.5, random_state=0).fit(corpus)
    batch = corpus[:40]
    copies = augmenter.augment(batch, n_copies=3)
    reversed_copies = augmenter.augment(batch[::-1], n_copies=3)
    for k in range(3):
        assert reversed_copies[k][::-1] == copies[k]
        assert augmenter.augment(batch[5:6], copy_offset=k)[0] == [copies[k][5]]
        mixed = augmenter.augment(["zebra lion", batch[5], "the end"], copy_offset=k)
        assert mixed[0][1] == copies[k][5]


def test_copy_indices_give_different_copies():
    augmenter = TfidfAugmenter(p=0.3, random_state=0).fit(_long_corpus())
    copies = [copy[0] for copy in augmenter.augment([LONG_SENTENCE], n_copies=8)]
    assert len(set(copies)) == 8
    assert LONG_SENTENCE not in copies


def test_random_state_none_and_instance_are_accepted():
    for random_state in (None, np.random.RandomState(0)):
        augmenter = TfidfAugmenter(random_state=random_state).fit(CORPUS)
        assert isinstance(augmenter.seed_, int)
        assert len(augmenter.transform(["the dog a cat"])) == 1


def test_fingerprint_changes_with_the_fitted_corpus():
    corpus = _long_corpus()
    augmenter = TfidfAugmenter(random_state=0)
    token = augmenter.fit(corpus).fingerprint()
    assert augmenter.fit(list(corpus)).fingerprint() == token
    assert augmenter.fit(corpus[:-1]).fingerprint() != token
    assert augmenter.fit(corpus + [corpus[0]]).fingerprint() != token
    assert augmenter.set_params(p=0.4).fit(corpus).fingerprint() != token


# Parameters --------------------------------------------------------------------


@pytest.mark.parametrize("p", [0, 0.0, -0.1, 1.5, float("nan"), float("inf")])
def test_p_out_of_range_raises_value_error(p):
    augmenter = TfidfAugmenter(p=p)  # __init__ only stores it
    with pytest.raises(
        ValueError,
        match=r"The 'p' parameter of TfidfAugmenter must be a float in \(0, 1\]\. "
        r"Got .* instead",
    ):
        augmenter.fit(CORPUS)


@pytest.mark.parametrize("p", ["0.3", None, True, [0.3]])
def test_p_of_wrong_type_raises_type_error(p):
    with pytest.raises(
        TypeError, match=r"The 'p' parameter of TfidfAugmenter must be a float"
    ):
        TfidfAugmenter(p=p).fit(CORPUS)


@pytest.mark.parametrize("p", [1, 1.0, np.float32(0.5), 1e-6])
def test_valid_p_is_accepted(p):
    TfidfAugmenter(p=p, random_state=0).fit(CORPUS).transform(["the dog a cat"])


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError):
        TfidfAugmenter().transform(["the cat"])


def test_clone_and_params_round_trip(fitted):
    params = fitted.get_params()
    assert params == {
        "p": 0.3,
        "tokenizer": "bert-basic",
        "replace_punctuation": True,
        "joint_pairs": True,
        "random_state": 0,
    }
    cloned = clone(fitted)
    assert cloned.get_params() == params
    assert not hasattr(cloned, "vocabulary_")
    cloned.set_params(p=0.5, random_state=3, **LEGACY)
    assert cloned.get_params() == {"p": 0.5, "random_state": 3, **LEGACY}
    assert fitted.get_params() == params


# Real data ---------------------------------------------------------------------


@pytest.mark.skipif(not SST2_TRAIN.exists(), reason="SST-2 data not available")
def test_sst2_replaces_about_a_p_fraction_of_tokens():
    with gzip.open(SST2_TRAIN, "rt", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    assert len(texts) == 60614
    sample = texts[:2000]
    rates = {}
    for name, options in (("uda", {}), ("legacy", LEGACY)):
        augmenter = TfidfAugmenter(p=0.3, random_state=0, **options).fit(texts)
        tokenize = augmenter.build_tokenizer()
        augmented = augmenter.transform(sample)
        rates[name] = np.mean(
            [
                flag
                for original, new in zip(sample, augmented, strict=True)
                for flag in _changed_tokens(original, new, tokenize)
            ]
        )
    # Measured on seeds 0-2: 0.294-0.299 with UDA's procedure (a replacement
    # sometimes draws the same word), 0.257-0.264 when punctuation is never
    # replaced (whitespace words).
    assert 0.27 < rates["uda"] < 0.32
    assert 0.22 < rates["legacy"] < 0.29
    assert rates["legacy"] < 0.93 * rates["uda"]


# Tokenisation (BERT's basic tokenizer, as UDA uses it) ----------------------------


@pytest.mark.parametrize(
    "text, words",
    [
        ("The film.", ["the", "film", "."]),
        ("film. Film film", ["film", ".", "film", "film"]),
        ("Don't stop!", ["don", "'", "t", "stop", "!"]),
        ("it 's", ["it", "'", "s"]),
        ("a--b ... c", ["a", "-", "-", "b", ".", ".", ".", "c"]),
        ("Great.<br /><br />Bad<BR>ugly<br/>", ["great", ".", "bad", "ugly"]),
        ("a < b > c", ["a", "<", "b", ">", "c"]),
        ("Café déjà-vu…", ["cafe", "deja", "-", "vu", "…"]),
        ("«Bonjour»", ["«", "bonjour", "»"]),
        ("tab\tnew\nline\u00a0nbsp\u3000ideo", ["tab", "new", "line", "nbsp", "ideo"]),
        ("zero\u200bwidth a\x00b c\ufffdd", ["zerowidth", "ab", "cd"]),
        ("x ≠ y", ["x", "=", "y"]),  # NFD gives "=" + a combining mark
        ("$5 or 50%", ["$", "5", "or", "50", "%"]),
    ],
)
def test_bert_basic_words_by_hand(text, words):
    assert TfidfAugmenter().build_tokenizer()(text) == words


def test_whitespace_words_are_case_sensitive_chunks():
    tokenize = TfidfAugmenter(tokenizer="whitespace").build_tokenizer()
    assert tokenize("The film. film<br />Film") == ["The", "film.", "film<br", "/>Film"]


def test_no_punctuation_or_space_separator_beyond_the_scanned_planes():
    # The tokenizer's character classes scan U+0000-U+1FFFF only.
    assert not [
        code
        for code in range(0x20000, sys.maxunicode + 1)
        if unicodedata.category(chr(code))[0] == "P"
        or unicodedata.category(chr(code)) == "Zs"
    ]


def _hf_bert_basic():
    """Hugging Face's BERT normaliser and pre-tokenizer (Rust), no CJK split."""
    tokenizers = pytest.importorskip("tokenizers")
    normalizer = tokenizers.normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=False, strip_accents=True, lowercase=True
    )
    pre_tokenizer = tokenizers.pre_tokenizers.BertPreTokenizer()

    def tokenize(text):
        # UDA's clean_web_text turns IMDB's "<br />" into a space first.
        text = text.replace("<br />", " ")
        normalized = normalizer.normalize_str(text)
        return [word for word, _ in pre_tokenizer.pre_tokenize_str(normalized)]

    return tokenize


# Letters, digits, ASCII and Unicode punctuation, accents, combining marks,
# spaces of several kinds, control characters and IMDB's line break. Greek
# capital sigma is left out: its lower case depends on the neighbouring
# letters, which implementations handle differently.
_ALPHABET = list("aAbZz09 .,!?'\"-()$%<>/\\`~^|") + [
    "é", "É", "ñ", "ü", "ß", "İ", "\u0301", "…", "«", "»", "—", "–", "¿", "、",
    "\u00a0", "\u3000", "\t", "\n", "\r", "\x00", "\x0b", "\x1c", "\x7f",
    "\u200b", "\ufffd", "≠", "€", "日", "<br />",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), max_size=30).map("".join))
def test_bert_basic_words_match_hugging_face(text):
    reference = _hf_bert_basic()
    assert TfidfAugmenter().build_tokenizer()(text) == reference(text)


def test_bert_basic_words_match_hugging_face_on_imdb(data_home):
    reference = _hf_bert_basic()
    tokenize = TfidfAugmenter().build_tokenizer()
    with gzip.open(data_home / "imdb" / "train.jsonl.gz", "rt") as handle:
        lines = [line for _, line in zip(range(3000), handle, strict=False)]
    texts = [json.loads(line)["text"] for line in lines]
    assert sum(not text.isascii() for text in texts) > 100
    assert sum("<br />" in text for text in texts) > 1000
    for text in texts:
        assert tokenize(text) == reference(text)


# Replacement words are vocabulary words: normalised words of the tokenizer.
_WORDS = ["film", "a", "the", ",", ".", "'", "-", "ß", "日", "€", "x"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_ALPHABET + ["<BR>", "<br/>"]), max_size=30).map("".join),
    st.data(),
)
def test_rendered_copy_tokenizes_to_the_replaced_words(text, data):
    for tokenizer in (_BertBasicTokenizer(), _WhitespaceTokenizer()):
        words = tokenizer.tokenize(text)
        assert tokenizer.render(text, {}) == text
        if not words:
            continue
        positions = data.draw(
            st.sets(st.integers(0, len(words) - 1), max_size=len(words))
        )
        replacements = {i: data.draw(st.sampled_from(_WORDS)) for i in positions}
        if isinstance(tokenizer, _WhitespaceTokenizer):
            replacements = {i: w for i, w in replacements.items() if w.strip()}
        copy = tokenizer.render(text, replacements)
        expected = [replacements.get(i, word) for i, word in enumerate(words)]
        assert tokenizer.tokenize(copy) == expected
        # Given the words (the augmenter passes them), the same copy.
        assert tokenizer.render(text, replacements, list(words)) == copy


def test_copies_keep_the_text_outside_the_replaced_words():
    corpus = ["The Film is GOOD.<br /><br />Really  good", "a film", "the plot"]
    augmenter = TfidfAugmenter(p=0.5, random_state=0).fit(corpus)
    tokenize = augmenter.build_tokenizer()
    for (copy,) in augmenter.augment(corpus[:1], n_copies=30):
        assert copy.count("<br /><br />") == 1
        assert "  " in copy  # the double space stays
        new, old = tokenize(copy), tokenize(corpus[0])
        for before, after in zip(old, new, strict=True):
            if before == after and before in ("the", "film"):
                # An unchanged word keeps its case in the copy.
                assert before.capitalize() in copy


# Statistics: UDA's reference procedure ----------------------------------------


def test_uda_reference_statistics_by_hand():
    # Checks the straightforward implementation itself on the corpus above.
    tokenize = TfidfAugmenter().build_tokenizer()
    documents = uda_documents(UDA_CORPUS, tokenize)
    assert documents[1] == ["the", "dog", "a", "dog", ",", "a", "cat", "!"]
    idf, tf_idf = uda_data_stats(documents)
    l15, l3 = math.log(1.5), math.log(3)
    assert idf == pytest.approx(
        {
            "the": l15,
            "cat": 0,
            "sat": l3,
            ".": l3,
            "dog": l3,
            "a": l15,
            ",": l3,
            "!": l3,
        }
    )
    assert tf_idf["the"] == pytest.approx(l15 / 4 + l15 / 8)
    assert tf_idf["dog"] == pytest.approx(2 * l3 / 8)
    # Pair document (8 words): s = [l15, 2 l3, 2 l15, 2 l3, l3, 2 l15, 0, l3] / 8;
    # the gaps 8 (max - s) sum to 10 l3 - 5 l15 = 5 log 6, and
    # prob = p * gap / mean(gap) = p 8 gap / (5 log 6).
    expected = [
        0.3 * 8 * gap / (5 * math.log(6))
        for gap in (
            2 * l3 - l15, 0, 2 * l3 - 2 * l15, 0, l3, 2 * l3 - 2 * l15, 2 * l3, l3
        )
    ]  # fmt: skip
    probabilities = uda_replace_prob(documents[1], idf, 0.3)
    assert probabilities == pytest.approx(expected)
    assert probabilities[0] == pytest.approx(0.48)  # "the": gap 8 (max - s) = log 6


def _uda_corpus():
    """A larger corpus: texts with punctuation and capitals, and pairs."""
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(40)] + [",", ".", "!", "The", "THE", "it's"]
    weights = 1.0 / np.arange(1, len(words) + 1)
    weights /= weights.sum()

    def sentence():
        return " ".join(rng.choice(words, size=rng.integers(2, 12), p=weights))

    texts = [sentence() for _ in range(120)]
    pairs = [(sentence(), sentence()) for _ in range(60)]
    return texts + pairs


@pytest.mark.parametrize("p", [0.1, 0.3, 0.9])
def test_statistics_match_uda_reference(p):
    corpus = UDA_CORPUS + _uda_corpus()
    augmenter = TfidfAugmenter(p=p, random_state=0).fit(corpus)
    tokenize = augmenter.build_tokenizer()
    documents = uda_documents(corpus, tokenize)
    idf, tf_idf = uda_data_stats(documents)
    assert augmenter.n_texts_ == len(corpus)
    assert set(augmenter.vocabulary_) == set(idf)
    for word, index in augmenter.vocabulary_.items():
        assert augmenter.idf_[index] == pytest.approx(idf[word], abs=1e-12)
        assert augmenter.tfidf_[index] == pytest.approx(tf_idf[word], abs=1e-12)
    distribution = uda_replacement_distribution(tf_idf)
    for word, index in augmenter.vocabulary_.items():
        assert augmenter.replacement_distribution_[index] == pytest.approx(
            distribution[word], abs=1e-12
        )
    for words in documents:
        np.testing.assert_allclose(
            augmenter._replacement_probabilities(words),
            uda_replace_prob(words, idf, p),
            rtol=1e-10,
            atol=1e-12,
        )


def test_pair_is_one_document_and_its_copy_is_split_back():
    augmenter = TfidfAugmenter(p=0.3, random_state=0).fit(UDA_CORPUS)
    assert augmenter.n_texts_ == 3
    # "cat" is in all three documents (idf 0): one pair counts once.
    assert augmenter.idf_[augmenter.vocabulary_["cat"]] == 0.0
    separate = TfidfAugmenter(p=0.3, joint_pairs=False).fit(UDA_CORPUS)
    assert separate.n_texts_ == 4
    assert separate.idf_[separate.vocabulary_["cat"]] == pytest.approx(math.log(4 / 3))
    tokenize = augmenter.build_tokenizer()
    pair = UDA_CORPUS[1]
    for first, second in (c[0] for c in augmenter.augment([pair], n_copies=50)):
        assert len(tokenize(first)) == 2 and len(tokenize(second)) == 6


def _empirical(augmenter, item, n_copies):
    """Change frequency of each word and the words put in, over many copies."""
    tokenize = augmenter.build_tokenizer()
    sides = item if isinstance(item, tuple) else (item,)
    words = [w for side in sides for w in tokenize(side)]
    changed = np.zeros(len(words))
    drawn = Counter()
    for (copy,) in augmenter.augment([item], n_copies=n_copies):
        copy_sides = copy if isinstance(copy, tuple) else (copy,)
        new = [w for side in copy_sides for w in tokenize(side)]
        assert len(new) == len(words)
        for i, (before, after) in enumerate(zip(words, new, strict=True)):
            if before != after:
                changed[i] += 1
                drawn[after] += 1
    return words, changed / n_copies, drawn


@pytest.mark.parametrize("which", [1, 130, -1])  # a pair, a text, a pair
def test_replacement_frequencies_match_uda_probabilities(which):
    corpus = UDA_CORPUS + _uda_corpus()
    augmenter = TfidfAugmenter(p=0.3, random_state=0).fit(corpus)
    tokenize = augmenter.build_tokenizer()
    idf, tf_idf = uda_data_stats(uda_documents(corpus, tokenize))
    q = uda_replacement_distribution(tf_idf)
    n = 6000
    words, frequency, _ = _empirical(augmenter, corpus[which], n)
    # A word changes when its coin falls (UDA's probability) and the drawn
    # word differs from it.
    expected = np.array(uda_replace_prob(words, idf, 0.3)) * [
        1 - q[word] for word in words
    ]
    tolerance = 5 * np.sqrt(expected * (1 - expected) / n) + 1 / n
    assert (np.abs(frequency - expected) <= tolerance).all(), (frequency, expected)


def test_replacement_words_follow_uda_distribution():
    corpus = UDA_CORPUS + _uda_corpus()
    augmenter = TfidfAugmenter(p=0.3, random_state=0).fit(corpus)
    tokenize = augmenter.build_tokenizer()
    idf, tf_idf = uda_data_stats(uda_documents(corpus, tokenize))
    q = uda_replacement_distribution(tf_idf)
    drawn, expected = Counter(), Counter()
    n = 3000
    for item in corpus[-4:]:  # four pairs, about 60 words
        words, _, counts = _empirical(augmenter, item, n)
        drawn += counts
        for word, probability in zip(
            words, uda_replace_prob(words, idf, 0.3), strict=True
        ):
            for other, share in q.items():
                if other != word:
                    expected[other] += n * probability * share
    vocabulary = sorted(q)
    assert set(drawn) <= {w for w in vocabulary if q[w] > 0}
    observed = np.array([drawn[w] for w in vocabulary], dtype=float)
    wanted = np.array([expected[w] for w in vocabulary])
    assert observed.sum() > 10_000
    assert observed.sum() == pytest.approx(wanted.sum(), rel=0.03)
    # Chi-square goodness of fit over the words expected at least 5 times.
    keep = wanted >= 5
    result = stats.chisquare(
        observed[keep], wanted[keep] * observed[keep].sum() / wanted[keep].sum()
    )
    assert result.pvalue > 1e-3, result


# Options -----------------------------------------------------------------------


def test_legacy_options_give_the_whitespace_procedure():
    corpus = ["the film.", "the film is good", "film . film"]
    augmenter = TfidfAugmenter(**LEGACY).fit(corpus)
    assert set(augmenter.vocabulary_) == {"the", "film.", "film", "is", "good", "."}
    uda = TfidfAugmenter().fit(corpus)
    assert set(uda.vocabulary_) == {"the", "film", ".", "is", "good"}


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"tokenizer": "bert"}, ValueError, r"'tokenizer'.*\['bert-basic', "),
        ({"tokenizer": str.split}, ValueError, "'tokenizer' parameter"),
        ({"replace_punctuation": "no"}, TypeError, "'replace_punctuation'"),
        ({"joint_pairs": 1}, TypeError, "'joint_pairs' parameter"),
    ],
)
def test_invalid_options_raise_before_fitting(params, error, match):
    with pytest.raises(error, match=match):
        TfidfAugmenter(**params).fit(CORPUS)


@pytest.mark.parametrize(
    "params",
    [
        {"tokenizer": "whitespace"},
        {"replace_punctuation": False},
        {"joint_pairs": False},
    ],
)
def test_each_option_changes_the_fingerprint(params):
    # Caches key copies by fingerprint: copies of one procedure are never
    # served to another.
    corpus = _long_corpus()
    default = TfidfAugmenter(random_state=0).fit(corpus).fingerprint()
    assert TfidfAugmenter(random_state=0, **params).fit(corpus).fingerprint() != (
        default
    )


def test_strategy_specs_set_the_tfidf_options():
    from allsh_sklearn.presets import build_strategy

    legacy = build_strategy(
        "allsh:tokenizer=whitespace,replace_punctuation=false,joint_pairs=false"
    )
    assert {key: legacy.augmenter.get_params()[key] for key in LEGACY} == LEGACY
    default = build_strategy("allsh-wca").augmenter.get_params()
    assert default["tokenizer"] == "bert-basic" and default["replace_punctuation"]
    with pytest.raises(ValueError, match="'tokenizer' is for the TF-IDF augmenter"):
        build_strategy("allsh:augmenter=synonym,tokenizer=whitespace")
    with pytest.raises(ValueError, match="'tokenizer' parameter of TfidfAugmenter"):
        build_strategy("allsh:tokenizer=bert")
