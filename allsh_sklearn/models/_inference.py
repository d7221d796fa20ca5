"""Pool inference: one picklable runner per call, applied chunk by chunk.

:class:`InferenceRunner` bundles what a worker needs (the module, the
tokenizer and the settings) and scores one chunk of texts: it tokenises the
chunk, sorts it by length, runs batches under :func:`torch.inference_mode`
and returns the outputs in input order. The classifier maps it over chunks
with :class:`joblib.Parallel`, so the default backend runs it in-process and
``joblib.parallel_backend("dask")`` runs it on a Dask cluster. Only one
chunk's tokens exist at a time; the outputs (probabilities, embeddings) are
small and gathered chunk by chunk.
"""

import numpy as np
import torch

from ._data import collate, encode
from ._precision import autocast_dtype
from ._trunk import autocast, top_view, trunk_outputs, trunk_view

__all__ = ["InferenceRunner", "classification_head_linear", "run_chunk"]

EMBEDDING_KINDS = ("pooler", "penultimate")


def classification_head_linear(module):
    """Return the last ``torch.nn.Linear`` outside the module's base model.

    For BERT that is ``classifier``; for RoBERTa ``classifier.out_proj``;
    for GPT-2 ``score``. Its input is the penultimate representation.
    """
    prefix = getattr(module, "base_model_prefix", "")
    last = None
    for name, submodule in module.named_modules():
        if prefix and (name == prefix or name.startswith(prefix + ".")):
            continue
        if isinstance(submodule, torch.nn.Linear):
            last = submodule
    if last is None:
        raise ValueError(
            f"Could not find the classification layer of {type(module).__name__}: "
            "no torch.nn.Linear outside its base model."
        )
    return last


def pooler_module(module):
    """Return the pooler of the base model (BERT's [CLS] dense + tanh)."""
    base = getattr(module, "base_model", module)
    pooler = getattr(base, "pooler", None)
    if pooler is None:
        raise ValueError(
            f"kind='pooler' needs a model with a pooler (BERT-like); "
            f"{type(module).__name__} has none. Use kind='penultimate' (the input "
            "of the last linear layer of the classification head)."
        )
    return pooler


class _Capture:
    """Forward hook that keeps the embedding of the current batch."""

    def __init__(self, take_input):
        self.take_input = take_input
        self.value = None

    def __call__(self, module, inputs, output):
        value = inputs[0] if self.take_input else output
        if isinstance(value, tuple):
            value = value[0]
        self.value = value


class InferenceRunner:
    """Score chunks of texts with a fitted module (picklable).

    Parameters
    ----------
    module : torch.nn.Module
        A Hugging Face sequence classifier.
    tokenizer : tokenizer
    max_length, batch_size : int
    device : str or torch.device
    pad_token_id : int
    proba : bool
        Return class probabilities.
    kind : {"pooler", "penultimate"} or None
        Also return embeddings of this kind.
    n_frozen : int or None, default=None
        With an int, the embeddings and the bottom ``n_frozen`` layers are a
        frozen trunk (:mod:`allsh_sklearn.models._trunk`): their output comes
        from ``cache`` (or is computed and stored there) and only the top
        runs on it.
    cache : TrunkCache or None, default=None
        The trunk cache (``n_frozen`` only). When the runner is pickled (to a
        Dask worker) the cache goes without its entries.
    precision : {"float32", "bfloat16"}, default="float32"
        ``"bfloat16"`` runs under :func:`torch.autocast`.
    storage_dtype : numpy dtype, default=np.float32
        Type of trunk outputs when there is no cache.
    """

    def __init__(
        self, module, tokenizer, *, max_length, batch_size, device, pad_token_id,
        proba=True, kind=None, n_frozen=None, cache=None, precision="float32",
        storage_dtype=np.float32,
    ):
        self.module = module
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.pad_token_id = pad_token_id
        self.proba = proba
        self.kind = kind
        self.n_frozen = n_frozen
        self.cache = cache
        self.precision = precision
        self.storage_dtype = storage_dtype

    def __sizeof__(self):
        # dask sizes arguments with sys.getsizeof: report the weights, so that
        # joblib's dask backend scatters the runner once instead of sending it
        # with every chunk.
        n_bytes = sum(
            p.numel() * p.element_size() for p in self.module.parameters()
        )
        return object.__sizeof__(self) + int(n_bytes)

    def _device(self):
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            device = torch.device("cpu")
        return device

    def __call__(self, items):
        """Return ``{"proba", "embeddings", "n_truncated"}`` for ``items``."""
        encoding, n_truncated = encode(self.tokenizer, items, self.max_length)
        n = len(items)
        lengths = np.fromiter((len(ids) for ids in encoding["input_ids"]), np.int64, n)
        order = np.argsort(lengths, kind="stable")
        device = self._device()
        module = self.module
        if next(module.parameters()).device != device:
            module = module.to(device)
        module.eval()
        dtype = autocast_dtype(self.precision)
        forward = module
        if self.n_frozen is not None:
            hidden, _ = trunk_outputs(
                trunk_view(module, self.n_frozen), encoding, self.cache,
                batch_size=self.batch_size, device=device,
                pad_token_id=self.pad_token_id, autocast_dtype=dtype,
                storage_dtype=self.storage_dtype,
            )
            encoding = {"input_ids": encoding["input_ids"], "hidden": hidden}
            forward = top_view(module, self.n_frozen).eval()
        capture = handle = None
        if self.kind is not None:
            if self.kind == "pooler":
                capture = _Capture(take_input=False)
                target = pooler_module(module)
            else:
                capture = _Capture(take_input=True)
                target = classification_head_linear(module)
            handle = target.register_forward_hook(capture)
        logits_out = embeddings = None
        try:
            with torch.inference_mode(), autocast(dtype, device):
                for start in range(0, n, self.batch_size):
                    indices = order[start : start + self.batch_size]
                    inputs = collate(encoding, indices, self.pad_token_id, device)
                    output = forward(**inputs)
                    logits = output.logits if hasattr(output, "logits") else output[0]
                    if logits_out is None:
                        logits_out = np.empty((n, logits.shape[-1]), dtype=np.float32)
                    logits_out[indices] = logits.float().cpu().numpy()
                    if capture is not None:
                        value = capture.value.float().cpu().numpy()
                        if embeddings is None:
                            embeddings = np.empty((n, value.shape[-1]), np.float32)
                        embeddings[indices] = value
        finally:
            if handle is not None:
                handle.remove()
        result = {"n_truncated": n_truncated, "embeddings": embeddings}
        if self.proba:
            result["proba"] = softmax(logits_out)
        return result


def softmax(logits):
    """Row-wise softmax in float64."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def run_chunk(runner, items):
    """Apply ``runner`` to one chunk (a module-level function for joblib)."""
    return runner(items)
