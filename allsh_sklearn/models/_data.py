"""Texts to model inputs: validation, tokenisation, dynamic padding, batches.

Texts are tokenised once, without padding; each batch is padded to its own
longest sequence (dynamic padding). Inference batches group texts of similar
length; training batches are random.
"""

import math
import numbers
import warnings

import numpy as np
import torch

from ..utils import describe, is_pair
from ..utils._validation import check_texts

__all__ = ["TruncationWarning"]


class TruncationWarning(UserWarning):
    """Some texts were longer than ``max_length`` tokens and were truncated."""


def check_items(X, name="X"):
    """Return ``(items, kind)``: a list of texts or of ``(text, pair)`` tuples.

    ``kind`` is ``"text"`` or ``"pair"``; mixing both raises ``ValueError``.
    """
    if isinstance(X, np.ndarray) and X.ndim == 2:
        if X.shape[1] != 2:
            raise ValueError(
                f"The '{name}' parameter must be a sequence of texts or of "
                "(text, text_pair) pairs. Got a 2-d array of shape "
                f"{X.shape} instead."
            )
        X = [tuple(row) for row in X]
    check_texts(X, name=name)
    # plain str (not numpy.str_ and the like) for the tokenizer
    items = [
        (str(item[0]), str(item[1])) if is_pair(item) else str(item) for item in X
    ]
    texts = [i for i, item in enumerate(items) if isinstance(item, str)]
    pairs = [i for i, item in enumerate(items) if isinstance(item, tuple)]
    first_text = texts[0] if texts else None
    first_pair = pairs[0] if pairs else None
    if first_text is not None and first_pair is not None:
        raise ValueError(
            f"The '{name}' parameter must hold only texts or only (text, "
            f"text_pair) pairs. Got a text at index {first_text} "
            f"({describe(items[first_text])}) and a pair at index {first_pair} "
            f"({describe(items[first_pair])})."
        )
    return items, ("pair" if first_pair is not None else "text")


def split_unlabeled(y, n_samples):
    """Return ``(y_array, unlabeled_mask)``; ``-1`` marks unlabeled rows.

    As in :class:`sklearn.semi_supervised.SelfTrainingClassifier`, the label
    ``-1`` (an integer, or -1.0) always means "unlabeled".
    """
    if y is None:
        raise ValueError(
            "The 'y' parameter of TransformerClassifier.fit is required: class "
            "labels, with -1 marking unlabeled texts. Got None instead."
        )
    if isinstance(y, str):
        raise TypeError(
            f"The 'y' parameter must be a sequence of labels. Got the string "
            f"{describe(y)} instead."
        )
    values = list(np.asarray(y, dtype=object).ravel()) if not isinstance(y, list) else y
    if len(values) != n_samples:
        raise ValueError(
            f"The 'X' and 'y' parameters must have the same length. Got "
            f"{n_samples} texts and {len(values)} labels instead."
        )
    mask = np.array(
        [
            isinstance(v, numbers.Real) and not isinstance(v, bool) and v == -1
            for v in values
        ],
        dtype=bool,
    )
    for position, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise ValueError(
                f"The 'y' parameter must not contain missing labels. Got "
                f"{value!r} at index {position}; use -1 to mark unlabeled texts."
            )
    labeled = [v for v, m in zip(values, mask, strict=True) if not m]
    y_labeled = np.asarray(labeled) if labeled else np.asarray([], dtype=np.int64)
    if y_labeled.dtype.kind == "O":
        kinds = {type(v).__name__ for v in labeled}
        if len(kinds) > 1:
            raise TypeError(
                "The 'y' parameter must hold labels of one type (all numbers or "
                f"all strings). Got a mix of {sorted(kinds)} instead."
            )
    return y_labeled, mask


def encode(tokenizer, items, max_length):
    """Tokenise ``items`` without padding, truncating to ``max_length`` tokens.

    Returns
    -------
    encoding : dict of str to list of lists of int
        ``input_ids`` and, when the model uses them, ``token_type_ids``.
    n_truncated : int
        How many items were longer than ``max_length`` tokens.
    """
    pairs = bool(items) and isinstance(items[0], tuple)
    firsts = [item[0] for item in items] if pairs else list(items)
    seconds = [item[1] for item in items] if pairs else None
    with_types = "token_type_ids" in getattr(tokenizer, "model_input_names", ())
    kwargs = {
        "add_special_tokens": True,
        "padding": False,
        "return_attention_mask": False,
        "return_token_type_ids": with_types,
        "verbose": False,
    }
    encoded = tokenizer(firsts, seconds, truncation=False, **kwargs)
    result = {"input_ids": [list(ids) for ids in encoded["input_ids"]]}
    if with_types:
        result["token_type_ids"] = [list(ids) for ids in encoded["token_type_ids"]]
    too_long = [i for i, ids in enumerate(result["input_ids"]) if len(ids) > max_length]
    if too_long:
        short = tokenizer(
            [firsts[i] for i in too_long],
            [seconds[i] for i in too_long] if pairs else None,
            truncation=True,
            max_length=max_length,
            **kwargs,
        )
        for key in result:
            for j, i in enumerate(too_long):
                result[key][i] = list(short[key][j])
    return result, len(too_long)


def warn_truncated(n_truncated, n_total, max_length, where):
    """Emit one :class:`TruncationWarning` if any text was truncated."""
    if n_truncated:
        warnings.warn(
            f"{n_truncated} of {n_total} texts passed to {where} were longer than "
            f"max_length={max_length} tokens and were truncated. Raise "
            "'max_length' (up to the model's limit) to keep more of them.",
            TruncationWarning,
            stacklevel=3,
        )


def collate(encoding, indices, pad_token_id, device=None):
    """Pad the rows ``indices`` of ``encoding`` to their longest; return tensors.

    With cached trunk outputs (``encoding["hidden"]``, see
    :mod:`allsh_sklearn.models._trunk`) the batch is their hidden states,
    zero-padded, as ``inputs_embeds``; otherwise the token ids.
    """
    if "hidden" in encoding:
        return collate_hidden(encoding["hidden"], indices, device)
    ids = encoding["input_ids"]
    lengths = [len(ids[i]) for i in indices]
    width = max(lengths) if lengths else 0
    input_ids = np.full((len(indices), width), pad_token_id, dtype=np.int64)
    attention = np.zeros((len(indices), width), dtype=np.int64)
    types = (
        np.zeros((len(indices), width), dtype=np.int64)
        if "token_type_ids" in encoding
        else None
    )
    for row, (i, length) in enumerate(zip(indices, lengths, strict=True)):
        input_ids[row, :length] = ids[i]
        attention[row, :length] = 1
        if types is not None:
            types[row, :length] = encoding["token_type_ids"][i]
    batch = {
        "input_ids": torch.from_numpy(input_ids),
        "attention_mask": torch.from_numpy(attention),
    }
    if types is not None:
        batch["token_type_ids"] = torch.from_numpy(types)
    if device is not None:
        batch = {key: value.to(device) for key, value in batch.items()}
    return batch


def collate_hidden(hidden, indices, device=None):
    """Pad the hidden states ``hidden[i]`` for ``i`` in ``indices``; return tensors.

    Returns ``{"inputs_embeds": float32 (n, width, hidden_size),
    "attention_mask": int64 (n, width)}``, padded with zeros to the longest.
    """
    rows = [hidden[i] for i in indices]
    width = max((row.shape[0] for row in rows), default=0)
    size = rows[0].shape[1] if rows else 0
    states = np.zeros((len(rows), width, size), dtype=np.float32)
    attention = np.zeros((len(rows), width), dtype=np.int64)
    for position, row in enumerate(rows):
        states[position, : row.shape[0]] = row
        attention[position, : row.shape[0]] = 1
    batch = {
        "inputs_embeds": torch.from_numpy(states),
        "attention_mask": torch.from_numpy(attention),
    }
    if device is not None:
        batch = {key: value.to(device) for key, value in batch.items()}
    return batch


class TextBatch:
    """One training or evaluation batch: model inputs, and unlabeled inputs.

    ``len(batch)`` is the number of labeled rows, which is what skorch
    records as the batch size.
    """

    def __init__(self, inputs, unlabeled=None, augmented=None):
        self.inputs = inputs
        self.unlabeled = unlabeled
        self.augmented = augmented

    def __len__(self):
        return int(self.inputs["attention_mask"].shape[0])

    @property
    def has_unlabeled(self):
        return self.unlabeled is not None and self.augmented is not None

    def to(self, device):
        def move(inputs):
            if inputs is None:
                return None
            return {key: value.to(device) for key, value in inputs.items()}

        return TextBatch(move(self.inputs), move(self.unlabeled), move(self.augmented))


class TextDataset(torch.utils.data.Dataset):
    """Texts with their labels, as skorch's ``get_dataset`` returns them.

    ``X`` and ``y`` (the original labels) let skorch's scoring callbacks
    recover the data; ``y_encoded`` holds class indices for the loss.
    """

    def __init__(self, X, y=None, y_encoded=None):
        self.X = X
        self.y = y
        self.y_encoded = y_encoded

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        target = -1 if self.y_encoded is None else int(self.y_encoded[index])
        return self.X[index], target


class SemiSupervisedDataset(torch.utils.data.Dataset):
    """A labeled dataset (or subset) together with unlabeled texts."""

    def __init__(self, labeled, unlabeled):
        self.labeled = labeled
        self.unlabeled = unlabeled
        self.X, self.y = unwrap(labeled)[:2]

    def __len__(self):
        return len(self.labeled)

    def __getitem__(self, index):
        return self.labeled[index]


def unwrap(dataset):
    """Return ``(items, y, y_encoded)`` of a dataset or a subset of one."""
    if isinstance(dataset, SemiSupervisedDataset):
        return unwrap(dataset.labeled)
    if isinstance(dataset, torch.utils.data.Subset):
        items, y, y_encoded = unwrap(dataset.dataset)
        indices = np.asarray(dataset.indices, dtype=np.int64)
        return (
            [items[i] for i in indices],
            None if y is None else np.asarray(y)[indices],
            None if y_encoded is None else np.asarray(y_encoded)[indices],
        )
    if isinstance(dataset, TextDataset):
        return list(dataset.X), dataset.y, dataset.y_encoded
    raise TypeError(
        "TransformerClassifier works on lists of texts; got a dataset of type "
        f"{type(dataset).__name__}, which it cannot read."
    )


class EvaluationBatches:
    """Batches in input order (skorch's ``forward`` concatenates them)."""

    def __init__(self, encoding, y_encoded, batch_size, pad_token_id):
        self.encoding = encoding
        self.y_encoded = y_encoded
        self.batch_size = batch_size
        self.pad_token_id = pad_token_id

    def __len__(self):
        return math.ceil(len(self.encoding["input_ids"]) / self.batch_size)

    def __iter__(self):
        n = len(self.encoding["input_ids"])
        for start in range(0, n, self.batch_size):
            indices = list(range(start, min(start + self.batch_size, n)))
            inputs = collate(self.encoding, indices, self.pad_token_id)
            if self.y_encoded is None:
                target = torch.full((len(indices),), -1, dtype=torch.long)
            else:
                target = torch.as_tensor(self.y_encoded[indices], dtype=torch.long)
            yield TextBatch(inputs), target


class TrainingBatches:
    """Random training batches, with unlabeled and augmented texts when given.

    Parameters
    ----------
    encoding : dict
        Encoded labeled texts.
    y_encoded : ndarray of int
    batch_size : int
    n_steps : int or None
        ``None``: one pass over the labeled texts per iteration (an epoch).
        An int: exactly that many batches, cycling over reshuffled passes.
    generator : torch.Generator
    unlabeled, augmented : dict or None
        Encoded unlabeled texts and their augmented copies (same rows).
    unlabeled_batch_size : int
    progress_bar : bool
    """

    def __init__(
        self,
        encoding,
        y_encoded,
        batch_size,
        pad_token_id,
        n_steps=None,
        generator=None,
        unlabeled=None,
        augmented=None,
        unlabeled_batch_size=0,
        progress_bar=False,
    ):
        self.encoding = encoding
        self.y_encoded = np.asarray(y_encoded, dtype=np.int64)
        self.batch_size = batch_size
        self.pad_token_id = pad_token_id
        self.n_steps = n_steps
        self.generator = generator
        self.unlabeled = unlabeled
        self.augmented = augmented
        self.unlabeled_batch_size = unlabeled_batch_size
        self.progress_bar = progress_bar
        self._epoch = 0
        self._unlabeled_iter = None

    def __len__(self):
        if self.n_steps is not None:
            return self.n_steps
        return math.ceil(len(self.y_encoded) / self.batch_size)

    def _permutation(self, n):
        return torch.randperm(n, generator=self.generator).numpy()

    def _label_batches(self):
        n = len(self.y_encoded)
        produced = 0
        while True:
            order = self._permutation(n)
            for start in range(0, n, self.batch_size):
                yield order[start : start + self.batch_size]
                produced += 1
                if self.n_steps is not None and produced >= self.n_steps:
                    return
            if self.n_steps is None:
                return

    def _unlabeled_batches(self):
        n = len(self.unlabeled["input_ids"])
        size = min(self.unlabeled_batch_size, n)
        while True:
            order = self._permutation(n)
            for start in range(0, n - size + 1, size):
                yield order[start : start + size]

    def __iter__(self):
        from tqdm.auto import tqdm

        self._epoch += 1
        with_unlabeled = (
            self.unlabeled is not None
            and self.augmented is not None
            and self.unlabeled_batch_size > 0
            and len(self.unlabeled["input_ids"]) > 0
        )
        if with_unlabeled and self._unlabeled_iter is None:
            # one stream across epochs: every sampled pool text is used once
            # before any is used twice
            self._unlabeled_iter = self._unlabeled_batches()
        unlabeled_batches = self._unlabeled_iter if with_unlabeled else None
        desc = "train steps" if self.n_steps is not None else f"epoch {self._epoch}"
        with tqdm(
            total=len(self), desc=desc, disable=not self.progress_bar, leave=False
        ) as bar:
            for indices in self._label_batches():
                inputs = collate(self.encoding, indices, self.pad_token_id)
                target = torch.as_tensor(self.y_encoded[indices], dtype=torch.long)
                unlabeled = augmented = None
                if unlabeled_batches is not None:
                    chosen = next(unlabeled_batches)
                    unlabeled = collate(self.unlabeled, chosen, self.pad_token_id)
                    augmented = collate(self.augmented, chosen, self.pad_token_id)
                yield TextBatch(inputs, unlabeled, augmented), target
                bar.update(1)
