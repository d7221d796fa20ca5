"""Tiny Hugging Face models built from a config, for tests (no download).

The fixtures of ``conftest.py`` build them: ``tiny_bert_dir`` is a
session-scoped directory holding a 2-layer BERT (hidden size 32) and a
word-level vocabulary written here, both saved with ``save_pretrained``; it
has no classification head, like the bundled MiniLM.
"""


POSITIVE = [
    "a good film",
    "a great movie",
    "truly wonderful acting",
    "i loved this film",
    "great fun and good story",
    "a wonderful great movie",
    "good acting and a fine story",
    "fine and fun",
    "loved the story",
    "a truly good movie",
]
NEGATIVE = [
    "a bad film",
    "a terrible movie",
    "truly awful acting",
    "i hated this film",
    "boring and bad story",
    "an awful terrible movie",
    "bad acting and a dull story",
    "dull and boring",
    "hated the story",
    "a truly bad movie",
]
EXTRA_WORDS = [
    "the", "is", "was", "not", "very", "plot", "scene", "cast", "it", "of",
    "what", "who", "where", "question", "answer", "yes", "no", "same", "different",
]
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def vocabulary():
    """Return the word-level vocabulary (special tokens first)."""
    words = sorted(
        {word for text in POSITIVE + NEGATIVE for word in text.split()}
        | set(EXTRA_WORDS)
    )
    return SPECIAL_TOKENS + words


def tiny_texts():
    """Return ``(X, y)``: 20 short sentiment texts, labels 0/1 (10 each)."""
    return list(POSITIVE + NEGATIVE), [1] * len(POSITIVE) + [0] * len(NEGATIVE)


def build_tiny_bert(directory, head_labels=None, max_position_embeddings=64, seed=0):
    """Write a tiny BERT and its tokenizer to ``directory`` and return it.

    ``head_labels=None`` saves a bare ``BertModel`` (no classification head);
    an int saves a ``BertForSequenceClassification`` with that many labels.
    """
    import torch
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        BertModel,
        BertTokenizer,
    )

    directory.mkdir(parents=True, exist_ok=True)
    vocab = vocabulary()
    vocab_file = directory / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # transformers 5.x: BertTokenizer(vocab_file=...) silently ignores the
    # file; pass it as `vocab`, then save with save_pretrained.
    tokenizer = BertTokenizer(vocab=str(vocab_file))
    tokenizer.save_pretrained(str(directory))
    config = BertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        vocab_size=len(vocab),
        max_position_embeddings=max_position_embeddings,
        pad_token_id=0,
    )
    torch.manual_seed(seed)
    if head_labels is None:
        model = BertModel(config)
    else:
        config.num_labels = head_labels
        model = BertForSequenceClassification(config)
    model.save_pretrained(str(directory), safe_serialization=True)
    return directory


def tiny_transformer_learner(directory, strategy, labeled):
    """An ActiveLearner of a tiny-BERT TransformerClassifier (2 steps).

    Its training set is the ``labeled`` indices of :func:`tiny_texts`; the
    other texts, returned with it, are the pool: ``(learner, pool)``.
    """
    from allsh_sklearn.learner import ActiveLearner
    from allsh_sklearn.models import TransformerClassifier

    X, y = tiny_texts()
    pool = [X[i] for i in range(len(X)) if i not in labeled]
    classifier = TransformerClassifier(
        str(build_tiny_bert(directory)), train_steps=2, random_state=0
    )
    learner = ActiveLearner(
        classifier,
        query_strategy=strategy,
        X_training=[X[i] for i in labeled],
        y_training=[y[i] for i in labeled],
        random_state=0,
    )
    return learner, pool
