"""Tests of BackTranslationAugmenter and its translation backends."""

import os
import pickle
import shutil
import subprocess
import sys
import textwrap

import pytest
from sklearn.base import clone

from allsh_sklearn.augment._backtranslation import BackTranslationAugmenter
from allsh_sklearn.augment._cache import augment_with_cache
from allsh_sklearn.augment._translators import (
    ApertiumTranslator,
    CallableTranslator,
    HuggingFaceTranslator,
    TranslationBackendError,
)

REAL_SENTENCES = [
    "it 's a charming and often affecting journey .",
    "the acting , costumes , music , cinematography and sound are all astounding "
    "given the production 's austere locales .",
    "unflinchingly bleak and desperate",
    "the story is predictable and the characters are thin .",
    "a gorgeous , witty , seductive movie .",
    "this is the worst film i have seen this year .",
]

HAS_APERTIUM = shutil.which("apertium") is not None
needs_apertium = pytest.mark.skipif(
    not HAS_APERTIUM,
    reason="Debian's Apertium is not installed: apt-get install apertium-eng-spa",
)


class CountingTranslator:
    """A deterministic fake translation that counts the texts it receives."""

    def __init__(self, suffix):
        self.suffix = suffix
        self.calls = 0
        self.texts = 0

    def __call__(self, texts):
        self.calls += 1
        self.texts += len(texts)
        return [f"{text} {self.suffix}" for text in texts]

    def cache_token(self):
        return f"counting-{self.suffix}"


def _strip_suffix(suffix):
    return CallableTranslator(
        lambda texts: [t.replace(f" {suffix}", " again") for t in texts],
        cache_token=f"strip-{suffix}",
    )


def seeded_shuffle(texts, *, sample=False, temperature=1.0, top_k=None, seeds=None):
    """A stochastic 'translation': shuffles words with each text's own seed."""
    import numpy as np

    out = []
    for text, seed in zip(texts, seeds, strict=True):
        words = text.split()
        np.random.default_rng(seed).shuffle(words)
        out.append(" ".join(words))
    return out


def identity(texts):
    return list(texts)


# Apertium ---------------------------------------------------------------------


@needs_apertium
def test_apertium_round_trip_on_real_sentences():
    augmenter = BackTranslationAugmenter(backend="apertium", random_state=0)
    out = augmenter.fit_transform(REAL_SENTENCES)
    assert len(out) == len(REAL_SENTENCES)
    assert all(isinstance(text, str) and text for text in out)
    changed = [a != b for a, b in zip(REAL_SENTENCES, out, strict=True)]
    assert sum(changed) >= len(REAL_SENTENCES) // 2
    assert augmenter.n_translated_ == len(REAL_SENTENCES)
    # Apertium is deterministic: every copy is the same translation.
    first, second = augmenter.augment(REAL_SENTENCES, n_copies=2)
    assert first == second == out


@needs_apertium
def test_apertium_keeps_one_output_per_text_whatever_the_characters():
    texts = [
        "first line\nsecond line of the same text",
        "tabs\tand\rcarriage returns",
        "brackets [like] {these} and <tags> & ^ $ @ \\ / stuff",
        "a # hash and * star and 100 % sure",
        "unicode: café, naïve, 😀, \u2028separator",
        "null \x00 byte",
        "the film is good .",
    ]
    translator = ApertiumTranslator("eng-spa")
    batch = translator.translate(texts)
    assert len(batch) == len(texts)
    assert all("\n" not in text for text in batch)
    # A text's translation does not depend on its neighbours in the batch.
    alone = [translator.translate([text])[0] for text in texts]
    assert batch == alone


@needs_apertium
def test_apertium_sentence_pairs():
    pairs = [("the cat sat on the mat", "a dog slept on the rug")]
    out = BackTranslationAugmenter(random_state=0).fit(pairs).transform(pairs)
    assert len(out) == 1 and isinstance(out[0], tuple) and len(out[0]) == 2
    assert out[0] != pairs[0]


def test_apertium_missing_binary_says_how_to_install():
    translator = ApertiumTranslator("eng-spa", executable="no-such-apertium-binary")
    install = "apt-get install apertium-eng-spa"
    with pytest.raises(TranslationBackendError, match=install):
        translator.translate(["a film"])


@needs_apertium
def test_apertium_missing_pair_says_how_to_install():
    translator = ApertiumTranslator("eng-xyz")
    with pytest.raises(TranslationBackendError, match="install apertium-eng-xyz"):
        translator.translate(["a film"])


# Tiny MarianMT and FSMT models built from a config ------------------------------

CORPUS = [
    "a charming and often affecting journey",
    "the film is bad and the plot is dull",
    "it is a good movie with great acting",
    "ein bezaubernder und bewegender film",
    "der film ist schlecht und langweilig",
    "es ist ein guter film mit tollen schauspielern",
]


@pytest.fixture(scope="module")
def tiny_marian_dir(tmp_path_factory):
    """A randomly initialised MarianMT model with a real MarianTokenizer."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    spm = pytest.importorskip("sentencepiece")
    import json

    import torch

    folder = tmp_path_factory.mktemp("tiny-marian")
    for name in ("source", "target"):
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(CORPUS * 10), model_prefix=str(folder / name),
            vocab_size=60, model_type="unigram", character_coverage=1.0,
            hard_vocab_limit=False, bos_id=-1, eos_id=-1, unk_id=0, pad_id=-1,
            minloglevel=2,
        )
        os.replace(folder / f"{name}.model", folder / f"{name}.spm")
    pieces = spm.SentencePieceProcessor(model_file=str(folder / "source.spm"))
    vocab = {"</s>": 0, "<unk>": 1, "<pad>": 2}
    for i in range(pieces.get_piece_size()):
        vocab.setdefault(pieces.id_to_piece(i), len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = transformers.MarianTokenizer(
        source_spm=str(folder / "source.spm"), target_spm=str(folder / "target.spm"),
        vocab=str(folder / "vocab.json"),
    )
    tokenizer.save_pretrained(folder)
    config = transformers.MarianConfig(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
        decoder_ffn_dim=32, max_position_embeddings=64, pad_token_id=2,
        eos_token_id=0, decoder_start_token_id=2, forced_eos_token_id=0,
    )
    torch.manual_seed(0)
    transformers.MarianMTModel(config).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny_fsmt_dir(tmp_path_factory):
    """A randomly initialised FSMT model with a real FSMTTokenizer."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("sacremoses")
    import json

    import torch

    folder = tmp_path_factory.mktemp("tiny-fsmt")
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for letter in "abcdefghijklmnopqrstuvwxyz":
        vocab.setdefault(letter, len(vocab))
        vocab.setdefault(letter + "</w>", len(vocab))
    for name in ("vocab-src.json", "vocab-tgt.json"):
        (folder / name).write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = transformers.FSMTTokenizer(
        langs=["en", "de"], src_vocab_file=str(folder / "vocab-src.json"),
        tgt_vocab_file=str(folder / "vocab-tgt.json"),
        merges_file=str(folder / "merges.txt"),
    )
    tokenizer.save_pretrained(folder)
    config = transformers.FSMTConfig(
        langs=["en", "de"], src_vocab_size=len(vocab), tgt_vocab_size=len(vocab),
        d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    transformers.FSMTForConditionalGeneration(config).save_pretrained(folder)
    return str(folder)


def _neural(kind, forward, backward=None, **params):
    params.setdefault("min_chars", None)
    params.setdefault("max_length_diff", None)
    return BackTranslationAugmenter(
        backend=kind, forward=forward, backward=forward if backward is None
        else backward, max_length=10, **params
    )


@pytest.fixture(scope="module")
def marian_translator(tiny_marian_dir):
    """One loaded translator shared by the tests (loading is the slow part)."""
    translator = HuggingFaceTranslator(tiny_marian_dir, kind="marian", max_length=10)
    translator.translate(["warm up"])
    return translator


def test_marian_sampling_is_seeded_and_diverse(marian_translator):
    texts = CORPUS[:2]

    def make(seed):
        return _neural("marian", marian_translator, random_state=seed).fit(texts)

    copies = make(0).augment(texts, n_copies=2)
    assert [len(copy) for copy in copies] == [2, 2]
    assert all(isinstance(text, str) for copy in copies for text in copy)
    assert copies[0] != copies[1]  # sampled copies differ
    assert make(0).augment(texts, n_copies=2) == copies
    assert make(1).augment(texts, n_copies=1) != copies[:1]
    # Copy k alone equals copy k computed with the others.
    assert make(0).augment(texts, n_copies=1, copy_offset=1)[0] == copies[1]


def test_marian_sample_of_a_text_does_not_depend_on_its_batch(marian_translator):
    translator = marian_translator
    texts = CORPUS[:4]
    seeds = [11, 22, 33, 44]
    batch = translator.translate(texts, sample=True, temperature=1.0, seeds=seeds)
    alone = [
        translator.translate([text], sample=True, temperature=1.0, seeds=[seed])[0]
        for text, seed in zip(texts, seeds, strict=True)
    ]
    assert batch == alone
    top1 = translator.translate(texts, sample=True, top_k=1, seeds=seeds)
    greedy = translator.translate(texts, sample=True, top_k=1, seeds=[1, 2, 3, 4])
    assert top1 == greedy  # top-1 sampling is greedy decoding


def test_marian_beam_search_from_a_local_directory(tiny_marian_dir):
    augmenter = _neural("marian", tiny_marian_dir, sampling=False, num_beams=2)
    augmenter.fit(CORPUS)
    first, second = augmenter.augment(CORPUS[:2], n_copies=2)
    assert first == second and len(first) == 2
    assert augmenter.forward_translator_.model == tiny_marian_dir
    # Beam search ignores the seed, so the fingerprint does too.
    other = clone(augmenter).set_params(random_state=5).fit(CORPUS)
    assert other.fingerprint() == augmenter.fingerprint()


def test_fsmt_code_path(tiny_fsmt_dir):
    texts = ["the film is bad", "a charming journey"]
    augmenter = _neural("fsmt", tiny_fsmt_dir, random_state=0, batch_size=1)
    copies = augmenter.fit(texts).augment(texts, n_copies=2)
    assert [len(copy) for copy in copies] == [2, 2]
    assert augmenter.forward_translator_.kind == "fsmt"
    # Same seed, other batch size, translators reused: same copies.
    again = _neural(
        "fsmt", augmenter.forward_translator_, augmenter.backward_translator_,
        random_state=0,
    )
    assert again.fit(texts).augment(texts, n_copies=2) == copies


def test_unloadable_model_names_the_model(tmp_path):
    pytest.importorskip("transformers")
    augmenter = BackTranslationAugmenter(
        backend="marian", forward=str(tmp_path / "missing"), min_chars=None
    ).fit(["a film about nothing"])
    with pytest.raises((TranslationBackendError, OSError), match="missing"):
        augmenter.transform(["a film about nothing"])


# Callable backends -------------------------------------------------------------


def test_callable_tuple_and_forward_backward_parameters_agree():
    texts = ["a moving film about grief", "the plot is thin and dull"]
    as_tuple = BackTranslationAugmenter(
        backend=(CountingTranslator("X"), _strip_suffix("X")), random_state=0
    ).fit(texts)
    as_params = BackTranslationAugmenter(
        backend="marian", forward=CountingTranslator("X"), backward=_strip_suffix("X"),
        random_state=0,
    ).fit(texts)
    expected = [f"{text} again" for text in texts]
    assert as_tuple.transform(texts) == as_params.transform(texts) == expected


def test_length_filter_falls_back_to_the_original_and_counts():
    original = "exactly 20 character"  # 20 characters
    assert len(original) == 20
    outputs = {
        original: "x" * 30,  # +50 %: kept
        "a second text of 25 chars": "y" * 38,  # +52 %: dropped
        "third text, shrinks a lot": "z" * 9,  # under 10 characters: dropped
        "fourth one gets emptied": "",  # empty: dropped
    }
    texts = list(outputs) + ["too short"]
    backward = CallableTranslator(lambda pivots: [outputs[p] for p in pivots], "map")
    augmenter = BackTranslationAugmenter(
        backend=(identity, backward), random_state=0
    ).fit(texts)
    out = augmenter.transform(texts)
    assert out == ["x" * 30] + texts[1:]
    assert augmenter.n_fallbacks_ == 4
    assert augmenter.n_translated_ == 5
    unfiltered = clone(augmenter).set_params(min_chars=None, max_length_diff=None)
    assert unfiltered.fit(texts).transform(texts[:3]) == [
        outputs[t] for t in texts[:3]
    ]


def test_short_texts_are_not_sent_to_the_backend():
    forward = CountingTranslator("X")
    augmenter = BackTranslationAugmenter(
        backend=(forward, identity), random_state=0
    ).fit(["tiny", "a long enough sentence"])
    augmenter.transform(["tiny", "a long enough sentence"])
    assert forward.texts == 1


def test_seeded_callable_determinism_and_copies():
    texts = ["one two three four five six", "seven eight nine ten eleven"]

    def make(seed):
        return BackTranslationAugmenter(
            backend=(seeded_shuffle, identity), random_state=seed
        ).fit(texts)

    copies = make(0).augment(texts, n_copies=4)
    assert make(0).augment(texts, n_copies=4) == copies
    assert make(1).augment(texts, n_copies=4) != copies
    assert len({tuple(copy) for copy in copies}) > 1
    assert make(0).augment(texts, n_copies=2, copy_offset=2) == copies[2:]
    # A text's copy does not depend on the other texts.
    assert make(0).augment(texts[1:], n_copies=4) == [c[1:] for c in copies]


def test_deterministic_callables_translate_each_text_once_for_all_copies():
    forward = CountingTranslator("X")
    augmenter = BackTranslationAugmenter(
        backend=(forward, identity), random_state=0
    ).fit(REAL_SENTENCES)
    copies = augmenter.augment(REAL_SENTENCES, n_copies=3)
    assert copies[0] == copies[1] == copies[2]
    assert forward.texts == len(REAL_SENTENCES)


def test_duplicates_in_the_pool_are_translated_once():
    forward = CountingTranslator("X")
    augmenter = BackTranslationAugmenter(backend=(forward, identity), random_state=0)
    pool = ["a repeated sentence here"] * 5 + ["another sentence here"]
    out = augmenter.fit(pool).transform(pool)
    assert forward.texts == 2
    assert out[:5] == ["a repeated sentence here X"] * 5


# Caching ------------------------------------------------------------------------


def test_second_pass_is_served_from_the_memory_cache():
    forward = CountingTranslator("X")
    augmenter = BackTranslationAugmenter(
        backend=(forward, seeded_shuffle), random_state=0
    ).fit(REAL_SENTENCES)
    first = augmenter.augment(REAL_SENTENCES, n_copies=2)
    calls = forward.calls
    assert augmenter.augment(REAL_SENTENCES, n_copies=2) == first
    assert forward.calls == calls
    # A new pool that overlaps the old one translates the new texts only.
    augmenter.augment(REAL_SENTENCES[:2] + ["a brand new sentence"], n_copies=2)
    assert forward.texts == 2 * len(REAL_SENTENCES) + 2


def test_persistent_cache_is_reused_by_a_new_augmenter(tmp_path):
    forward = CountingTranslator("X")

    def make():
        return BackTranslationAugmenter(
            backend=(forward, seeded_shuffle), random_state=3, cache_dir=tmp_path
        ).fit(REAL_SENTENCES)

    first = make().augment(REAL_SENTENCES, n_copies=2)
    assert forward.texts == 2 * len(REAL_SENTENCES)
    second_augmenter = make()
    assert second_augmenter.augment(REAL_SENTENCES, n_copies=2) == first
    assert forward.texts == 2 * len(REAL_SENTENCES)  # no new backend call
    assert second_augmenter.n_translated_ == 0
    assert (tmp_path / "augmentations.sqlite3").exists()
    # augment_with_cache on top of it makes no call either.
    copies, _ = augment_with_cache(second_augmenter, REAL_SENTENCES, 2, None)
    assert copies == first and forward.texts == 2 * len(REAL_SENTENCES)


def test_persistent_cache_is_reused_by_another_process(tmp_path):
    texts = ["a moving film about grief", "the plot is thin and dull"]
    first = BackTranslationAugmenter(
        backend=(CountingTranslator("X"), identity), random_state=0, cache_dir=tmp_path
    ).fit(texts).transform(texts)
    script = textwrap.dedent(
        f"""
        from allsh_sklearn.augment._backtranslation import BackTranslationAugmenter

        class Failing:
            def __call__(self, texts):
                raise AssertionError("the backend must not be called")

            def cache_token(self):
                return "counting-X"

        def identity(texts):
            return list(texts)

        identity.__module__ = {identity.__module__!r}
        augmenter = BackTranslationAugmenter(
            backend=(Failing(), identity), random_state=0, cache_dir={str(tmp_path)!r}
        ).fit({texts!r})
        print(augmenter.transform({texts!r}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(first)


def test_sentence_pairs_round_trip_through_the_sqlite_cache(tmp_path):
    pairs = [("the cat sat on the mat", "a dog slept on the rug"), "a plain text here"]

    def make():
        return BackTranslationAugmenter(
            backend=(CountingTranslator("X"), identity), random_state=0,
            cache_dir=tmp_path,
        ).fit(pairs)

    first = make().transform(pairs)
    second = make().transform(pairs)
    assert first == second
    assert isinstance(second[0], tuple) and second[0][1] == "a dog slept on the rug X"


def test_fingerprint_covers_output_parameters_only(tmp_path):
    texts = ["a moving film about grief"]
    base = BackTranslationAugmenter(backend=(seeded_shuffle, identity), random_state=0)
    fingerprint = clone(base).fit(texts).fingerprint()
    for change in ({"batch_size": 3}, {"verbose": True}, {"cache_dir": tmp_path}):
        assert clone(base).set_params(**change).fit(texts).fingerprint() == fingerprint
    for change in ({"temperature": 0.5}, {"random_state": 1}, {"min_chars": 5},
                   {"max_length_diff": 0.3}, {"top_k": 5}):
        assert clone(base).set_params(**change).fit(texts).fingerprint() != fingerprint


# Estimator behaviour -------------------------------------------------------------


def test_progress_bar_when_verbose(capsys):
    BackTranslationAugmenter(
        backend=(identity, identity), verbose=True, random_state=0
    ).fit(["a moving film about grief"]).transform(["a moving film about grief"])
    assert "Back-translating" in capsys.readouterr().err


def test_pickle_round_trip_with_sqlite_cache(tmp_path):
    texts = ["a moving film about grief"]
    augmenter = BackTranslationAugmenter(
        backend=(CountingTranslator("X"), identity), random_state=0, cache_dir=tmp_path
    ).fit(texts)
    out = augmenter.transform(texts)
    restored = pickle.loads(pickle.dumps(augmenter))
    assert restored.transform(texts) == out


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"backend": "google"}, ValueError, "'backend' parameter"),
        ({"backend": (identity,)}, TypeError, "'backend' parameter"),
        ({"backend": (identity, identity), "forward": identity}, ValueError,
         "'forward' and 'backward'"),
        ({"forward": 3}, TypeError, "'forward' parameter"),
        ({"temperature": 0}, ValueError, "'temperature' parameter"),
        ({"top_k": 0}, ValueError, "'top_k' parameter"),
        ({"sampling": "yes"}, TypeError, "'sampling' parameter"),
        ({"max_length_diff": -1}, ValueError, "'max_length_diff' parameter"),
        ({"batch_size": 0}, ValueError, "'batch_size' parameter"),
        ({"cache_dir": 3}, TypeError, "'cache_dir' parameter"),
    ],
)
def test_invalid_parameters_are_reported_at_fit(params, error, match):
    augmenter = BackTranslationAugmenter(**params)
    with pytest.raises(error, match=match):
        augmenter.fit(["a film"])


def test_callable_returning_wrong_length_is_reported():
    augmenter = BackTranslationAugmenter(
        backend=(lambda texts: texts[:1], identity), random_state=0
    ).fit(["a moving film", "another moving film"])
    with pytest.raises(ValueError, match="one translation per input"):
        augmenter.transform(["a moving film", "another moving film"])


def test_invalid_n_copies():
    augmenter = BackTranslationAugmenter(backend=(identity, identity)).fit(["a film"])
    with pytest.raises(ValueError, match="'n_copies' parameter"):
        augmenter.augment(["a film"], n_copies=0)
