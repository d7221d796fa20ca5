"""Partial fine-tuning: a frozen trunk computed once per input, and its cache.

A BERT-like sequence classifier is split in two at a layer boundary:

- the **trunk**: the embeddings and the bottom ``n_frozen`` transformer
  layers, frozen (``requires_grad=False``, evaluation mode, no dropout);
- the **top**: the other layers, the pooler and the classification head,
  trained.

The trunk's output for an input (its last hidden states, one row per token)
does not change while the top trains, so it is computed once per distinct
input and kept in a :class:`TrunkCache`; training and inference run only the
top on the cached rows. Both parts are *views* of the one model: shallow
copies of the Hugging Face modules that share their parameters and
submodules, whose layer lists are cut at ``n_frozen``. The top view receives
the cached rows through ``inputs_embeds`` and an embeddings module that
passes them through, so the model's own forward (attention mask, pooler,
head) runs unchanged.

Cache entries are keyed by a hash of the token ids (and token types) the
trunk sees, inside a cache whose *fingerprint* hashes the frozen weights
themselves, the number of frozen layers, the attention implementation and
the precision. A different model, layer count or precision gets a different
cache; a different text or truncation gets a different key. Nothing else
decides what the trunk outputs.
"""

import copy
import hashlib
import threading
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "TrunkCache",
    "encoder_stack",
    "freeze_trunk",
    "n_encoder_layers",
    "token_keys",
    "trunk_fingerprint",
    "trunk_outputs",
    "trunk_view",
    "top_view",
]

#: Bytes counted per cache entry beyond its rows (key, index slot, location).
ENTRY_OVERHEAD = 240

#: Size of the blocks the in-memory cache appends rows to.
BLOCK_BYTES = 32 * 2**20

#: Bump when the layout of a stored entry changes (part of every fingerprint).
_FORMAT = "trunk-v1"

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS trunk (key BLOB PRIMARY KEY, n_rows INTEGER, "
    "data BLOB)"
]


# Splitting the model ---------------------------------------------------------


def encoder_stack(module):
    """Return ``(base, layers)`` of a BERT-like sequence classifier.

    Parameters
    ----------
    module : transformers.PreTrainedModel
        A sequence classifier whose base model has ``embeddings`` and
        ``encoder.layer`` (BERT, RoBERTa, ELECTRA, XLM-R, MiniLM, ...).

    Returns
    -------
    base : torch.nn.Module
        The base model (``module.base_model``).
    layers : torch.nn.ModuleList
        Its transformer layers, bottom first.

    Raises
    ------
    ValueError
        If the model does not have that layout.
    """
    base = getattr(module, "base_model", None)
    prefix = getattr(module, "base_model_prefix", "")
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if (
        base is None
        or base is module
        or getattr(module, prefix, None) is not base
        or getattr(base, "embeddings", None) is None
        or not isinstance(layers, torch.nn.ModuleList)
    ):
        raise ValueError(
            "The 'trainable_layers' parameter of TransformerClassifier needs a "
            "BERT-like model (a base model with 'embeddings' and "
            f"'encoder.layer'). Got {type(module).__name__}, which has not that "
            "layout: pass trainable_layers=None to fine-tune the whole model."
        )
    return base, layers


def n_encoder_layers(module):
    """Number of transformer layers of a BERT-like sequence classifier."""
    return len(encoder_stack(module)[1])


def freeze_trunk(module, n_frozen):
    """Freeze the embeddings and the bottom ``n_frozen`` layers; return them.

    Parameters
    ----------
    module : transformers.PreTrainedModel
    n_frozen : int

    Returns
    -------
    frozen : list of torch.nn.Parameter
        The parameters whose ``requires_grad`` is now false.
    """
    base, layers = encoder_stack(module)
    frozen = list(base.embeddings.parameters())
    for layer in layers[:n_frozen]:
        frozen.extend(layer.parameters())
    for parameter in frozen:
        parameter.requires_grad_(False)
    return frozen


def _shallow(module):
    """A copy of ``module`` sharing its parameters, with its own child table."""
    twin = copy.copy(module)
    # copy.copy shares the dict of children; give the twin its own so that
    # replacing a child does not touch the original.
    twin._modules = dict(module._modules)
    return twin


def _cut(base, layers):
    twin = _shallow(base)
    encoder = _shallow(base.encoder)
    encoder.layer = torch.nn.ModuleList(list(layers))
    twin.encoder = encoder
    return twin


class _PassThrough(torch.nn.Module):
    """Embeddings of the top view: return the cached hidden states as they are."""

    def forward(self, input_ids=None, inputs_embeds=None, **kwargs):
        return inputs_embeds


#: Model types whose sequence-classification head reads only the first token
#: of the last layer ([CLS] through BERT's pooler; <s> for RoBERTa, ELECTRA).
FIRST_TOKEN_HEADS = ("bert", "roberta", "xlm-roberta", "camembert", "electra")


class _FirstTokenLayer(torch.nn.Module):
    """The last layer, computed only for the first token (all the head reads).

    Keys and values still come from every token; the query, the attention
    output and the feed-forward block only from the first one, through the
    layer's own submodules and attention function. For the head the result
    is the same; the last layer costs about a sixth of its full cost.
    """

    def __init__(self, layer, attention_function):
        super().__init__()
        self.layer = layer
        self.attention_function = attention_function

    def forward(self, hidden_states, attention_mask=None, *args, **kwargs):
        layer = self.layer
        attention = layer.attention.self
        batch, length, _ = hidden_states.shape
        size = attention.attention_head_size
        first = hidden_states[:, :1]
        query = attention.query(first).view(batch, 1, -1, size).transpose(1, 2)
        key = attention.key(hidden_states).view(batch, length, -1, size).transpose(1, 2)
        value = attention.value(hidden_states).view(batch, length, -1, size)
        value = value.transpose(1, 2)
        if attention_mask is not None and attention_mask.dim() == 4:
            attention_mask = attention_mask[:, :, :1, :]
        output, _ = self.attention_function(
            attention,
            query,
            key,
            value,
            attention_mask,
            dropout=attention.dropout.p if attention.training else 0.0,
            scaling=attention.scaling,
        )
        output = output.reshape(batch, 1, -1).contiguous()
        return layer.feed_forward_chunk(layer.attention.output(output, first))


def _first_token_layer(module, layer):
    """``layer`` wrapped by :class:`_FirstTokenLayer`, or None where unsure."""
    import sys

    config = module.config
    if (
        getattr(config, "model_type", None) not in FIRST_TOKEN_HEADS
        or not type(module).__name__.endswith("ForSequenceClassification")
        or getattr(config, "position_embedding_type", "absolute") != "absolute"
        or getattr(config, "is_decoder", False)
        or getattr(config, "add_cross_attention", False)
    ):
        return None
    attention = getattr(getattr(layer, "attention", None), "self", None)
    needed = ("query", "key", "value", "dropout", "scaling", "attention_head_size")
    if (
        attention is None
        or not all(hasattr(attention, name) for name in needed)
        or not hasattr(layer.attention, "output")
        or not hasattr(layer, "feed_forward_chunk")
    ):
        return None
    try:
        from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
    except ImportError:  # pragma: no cover - depends on the transformers version
        return None
    source = sys.modules.get(type(attention).__module__)
    eager = getattr(source, "eager_attention_forward", None)
    if eager is None:
        return None
    implementation = getattr(config, "_attn_implementation", None) or "eager"
    function = ALL_ATTENTION_FUNCTIONS.get_interface(implementation, eager)
    return _FirstTokenLayer(layer, function)


def trunk_view(module, n_frozen):
    """The embeddings and bottom ``n_frozen`` layers, as a base model.

    Calling it with ``input_ids`` (and ``attention_mask``, ``token_type_ids``)
    returns the hidden states after layer ``n_frozen`` in
    ``last_hidden_state``. It shares its parameters with ``module``.
    """
    base, layers = encoder_stack(module)
    trunk = _cut(base, layers[:n_frozen])
    trunk.pooler = None
    return trunk


def top_view(module, n_frozen):
    """The model above layer ``n_frozen``, taking hidden states as inputs.

    Calling it with ``inputs_embeds`` (the trunk's hidden states) and
    ``attention_mask`` returns what ``module`` returns for the same texts.
    It shares its parameters and head with ``module``. Where the head reads
    only the first token (:data:`FIRST_TOKEN_HEADS`), the last layer is
    computed for that token only (its ``last_hidden_state`` then has one
    position).
    """
    base, layers = encoder_stack(module)
    top_layers = list(layers[n_frozen:])
    if top_layers:
        last = _first_token_layer(module, top_layers[-1])
        if last is not None:
            top_layers[-1] = last
    top_base = _cut(base, top_layers)
    top_base.embeddings = _PassThrough()
    top = _shallow(module)
    setattr(top, module.base_model_prefix, top_base)
    return top


# Keys and fingerprints --------------------------------------------------------


def token_keys(encoding):
    """One 16-byte key per encoded input: a hash of its token ids and types.

    Parameters
    ----------
    encoding : dict
        ``input_ids`` (and optionally ``token_type_ids``): lists of lists of
        int, as :func:`~allsh_sklearn.models._data.encode` returns them.

    Returns
    -------
    keys : list of bytes
    """
    ids = encoding["input_ids"]
    types = encoding.get("token_type_ids")
    keys = []
    for position, row in enumerate(ids):
        data = np.asarray(row, dtype=np.int64).tobytes()
        if types is not None:
            data += b"|" + np.asarray(types[position], dtype=np.int8).tobytes()
        keys.append(hashlib.blake2b(data, digest_size=16).digest())
    return keys


def _tensor_bytes(tensor):
    tensor = tensor.detach().cpu().contiguous()
    return tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b""


def trunk_fingerprint(module, n_frozen, precision, memo=None):
    """A hash of everything that decides the trunk's output for given tokens.

    The frozen weights and buffers themselves (not the model's name or
    path), the number of frozen layers, the architecture, the attention
    implementation, the precision and the storage format.

    Parameters
    ----------
    module : transformers.PreTrainedModel
    n_frozen : int
    precision : {"float32", "bfloat16"}
    memo : dict or None, default=None
        Remembers the last hash per tensor versions: tensors unchanged since
        (same objects, same ``_version``) are not hashed again.

    Returns
    -------
    fingerprint : str
        32 hexadecimal characters.
    """
    base, layers = encoder_stack(module)
    named = [("embeddings." + name, t) for name, t in
             base.embeddings.state_dict(keep_vars=True).items()]
    for index, layer in enumerate(layers[:n_frozen]):
        named.extend(
            (f"layer.{index}.{name}", t)
            for name, t in layer.state_dict(keep_vars=True).items()
        )
    config = module.config
    header = "|".join(
        str(part)
        for part in (
            _FORMAT,
            type(module).__name__,
            getattr(config, "model_type", ""),
            getattr(config, "hidden_size", ""),
            getattr(config, "_attn_implementation", ""),
            n_frozen,
            precision,
        )
    )
    versions = (header,) + tuple(
        (name, id(t), t._version, tuple(t.shape), str(t.dtype)) for name, t in named
    )
    if memo is not None and memo.get("versions") == versions:
        return memo["fingerprint"]
    digest = hashlib.blake2b(header.encode("utf-8"), digest_size=16)
    for name, tensor in named:
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(_tensor_bytes(tensor))
    fingerprint = digest.hexdigest()
    if memo is not None:
        memo.clear()
        memo.update(versions=versions, fingerprint=fingerprint)
    return fingerprint


# The cache --------------------------------------------------------------------


class TrunkCache:
    """A bounded store of trunk outputs, in memory and optionally on disk.

    Entries are ``(n_tokens, hidden_size)`` arrays keyed by
    :func:`token_keys`. The memory part appends their rows to blocks of up
    to :data:`BLOCK_BYTES` (a few large allocations rather than one array
    per text: no per-array headers, no fragmentation; a block's pages take
    memory once written) and holds at most ``max_bytes``: the rows stored
    plus :data:`ENTRY_OVERHEAD` bytes per entry for its key and index (no
    block is larger than the room left). When it is full, new entries are
    not kept in memory rather than evicting old ones: an active learning
    run reads the whole pool (and its copies) at every iteration, and
    evicting in least-recently-used order would make every read of a pool
    larger than the cache a miss, where keeping the first entries makes
    that share of each read a hit (and nothing is ever freed inside a
    block). With
    ``directory``, every entry is also written to an SQLite file named after
    the fingerprint, which other processes (Dask workers, later runs) read.

    Parameters
    ----------
    fingerprint : str
        :func:`trunk_fingerprint` of the model part that produced the entries.
    max_bytes : int
        Bound of the memory part.
    directory : str, path or None, default=None
        Folder of the on-disk part.
    dtype : numpy dtype, default=np.float16
        Storage type of the arrays.

    Attributes
    ----------
    nbytes : int
        Bytes held in memory (rows stored plus per-entry overhead).
    hits, misses : int
        Lookups answered and not answered since creation.

    Examples
    --------
    >>> import numpy as np
    >>> cache = TrunkCache("f", max_bytes=10_000)
    >>> cache.set_many([(b"a", np.ones((3, 4)))])
    >>> [None if v is None else v.shape for v in cache.get_many([b"a", b"b"])]
    [(3, 4), None]
    """

    def __init__(self, fingerprint, max_bytes, directory=None, dtype=np.float16):
        self.fingerprint = fingerprint
        self.max_bytes = int(max_bytes)
        self.directory = None if directory is None else str(directory)
        self.dtype = np.dtype(dtype)
        self._setup()

    def _setup(self):
        self._index = {}  # key -> (block number, first row, number of rows)
        self._blocks = []
        self._used = 0  # rows used in the last block
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._store = None
        if self.directory is not None:
            from ..utils._sqlite import SQLiteStore

            path = Path(self.directory) / f"trunk-{self.fingerprint}.sqlite"
            self._store = SQLiteStore(path, schema=_SCHEMA, timeout=120.0)

    def settings(self):
        """``(fingerprint, max_bytes, directory, dtype)``: what makes it this cache."""
        return (self.fingerprint, self.max_bytes, self.directory, self.dtype.str)

    def __len__(self):
        return len(self._index)

    def __getstate__(self):
        # The memory part is a cache: not pickled (an estimator sent to Dask
        # workers or saved to disk stays small); the settings are.
        return {
            "fingerprint": self.fingerprint,
            "max_bytes": self.max_bytes,
            "directory": self.directory,
            "dtype": self.dtype.str,
        }

    def __setstate__(self, state):
        self.fingerprint = state["fingerprint"]
        self.max_bytes = state["max_bytes"]
        self.directory = state["directory"]
        self.dtype = np.dtype(state["dtype"])
        self._setup()

    def __repr__(self):
        return (
            f"TrunkCache({len(self)} entries, {self.nbytes / 2**20:.1f} of "
            f"{self.max_bytes / 2**20:.0f} MiB"
            + (f", directory={self.directory!r}" if self.directory else "")
            + ")"
        )

    def get_many(self, keys):
        """The stored array of each key, or ``None`` where absent."""
        with self._lock:
            found = [self._row(key) for key in keys]
        if self._store is not None:
            absent = list({key for key, value in zip(keys, found, strict=True)
                           if value is None})
            if absent:
                rows = self._store.select_in(
                    "SELECT key, n_rows, data FROM trunk WHERE key IN ({marks})",
                    absent,
                )
                loaded = {
                    bytes(key): np.frombuffer(data, dtype=self.dtype).reshape(
                        n_rows, -1
                    )
                    for key, n_rows, data in rows
                }
                found = [
                    loaded.get(key) if value is None else value
                    for key, value in zip(keys, found, strict=True)
                ]
                self._keep(loaded.items())
        n_found = sum(value is not None for value in found)
        self.hits += n_found
        self.misses += len(keys) - n_found
        return found

    def set_many(self, items):
        """Store ``(key, array)`` pairs (memory while there is room; disk always)."""
        items = [
            (key, np.ascontiguousarray(value, dtype=self.dtype)) for key, value in items
        ]
        self._keep(items)
        if self._store is not None and items:
            with self._store.write() as connection:
                connection.executemany(
                    "INSERT OR IGNORE INTO trunk (key, n_rows, data) VALUES (?, ?, ?)",
                    [(key, value.shape[0], value.tobytes()) for key, value in items],
                )

    def _row(self, key):
        location = self._index.get(key)
        if location is None:
            return None
        block, start, n_rows = location
        rows = self._blocks[block][start : start + n_rows]
        rows.flags.writeable = False
        return rows

    def _place(self, n_rows, width):
        """``(block, first row)`` where ``n_rows`` more rows go."""
        if self._blocks:
            last = self._blocks[-1]
            if last.shape[1] == width and self._used + n_rows <= last.shape[0]:
                start = self._used
                self._used += n_rows
                return len(self._blocks) - 1, start
        room = (self.max_bytes - self.nbytes) // (width * self.dtype.itemsize)
        n_block = max(n_rows, min(BLOCK_BYTES // (width * self.dtype.itemsize), room))
        self._blocks.append(np.empty((n_block, width), dtype=self.dtype))
        self._used = n_rows
        return len(self._blocks) - 1, 0

    def _keep(self, items):
        with self._lock:
            for key, value in items:
                if key in self._index or value.ndim != 2:
                    continue
                size = value.nbytes + ENTRY_OVERHEAD
                if self.nbytes + size > self.max_bytes:
                    continue
                block, start = self._place(value.shape[0], value.shape[1])
                self._blocks[block][start : start + value.shape[0]] = value
                self._index[key] = (block, start, value.shape[0])
                self.nbytes += size

    def clear(self):
        """Drop the memory part (the on-disk file is kept)."""
        with self._lock:
            self._index = {}
            self._blocks = []
            self._used = 0
            self.nbytes = 0


# Computing trunk outputs ------------------------------------------------------


def autocast(dtype, device):
    """``torch.autocast`` for ``dtype`` (None: a context that does nothing)."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


def trunk_outputs(
    trunk, encoding, cache, *, batch_size, device, pad_token_id, autocast_dtype=None,
    storage_dtype=np.float16,
):
    """The trunk's hidden states of every encoded input, from the cache or computed.

    Inputs not in the cache are computed once each (duplicates included) in
    length-sorted batches under :func:`torch.inference_mode`, then stored.

    Parameters
    ----------
    trunk : torch.nn.Module
        A :func:`trunk_view`.
    encoding : dict
        Encoded inputs (see :func:`~allsh_sklearn.models._data.encode`).
    cache : TrunkCache or None
        None computes everything and keeps nothing.
    batch_size : int
    device : str or torch.device
    pad_token_id : int
    autocast_dtype : torch.dtype or None, default=None
    storage_dtype : numpy dtype, default=np.float16
        Type of the returned arrays when there is no cache.

    Returns
    -------
    hidden : list of ndarray of shape (n_tokens, hidden_size)
        One per input, in input order.
    n_computed : int
        Inputs that went through the trunk.
    """
    from ._data import collate

    keys = token_keys(encoding)
    found = cache.get_many(keys) if cache is not None else [None] * len(keys)
    dtype = cache.dtype if cache is not None else np.dtype(storage_dtype)
    todo = {}
    for position, (key, value) in enumerate(zip(keys, found, strict=True)):
        if value is None and key not in todo:
            todo[key] = position
    computed = {}
    if todo:
        positions = np.fromiter(todo.values(), dtype=np.int64, count=len(todo))
        lengths = np.array([len(encoding["input_ids"][i]) for i in positions])
        positions = positions[np.argsort(lengths, kind="stable")]
        trunk.eval()
        with torch.inference_mode(), autocast(autocast_dtype, device):
            for start in range(0, len(positions), batch_size):
                batch = positions[start : start + batch_size]
                inputs = collate(encoding, batch, pad_token_id, device)
                hidden = trunk(**inputs).last_hidden_state.float().cpu().numpy()
                for row, position in enumerate(batch):
                    length = len(encoding["input_ids"][position])
                    computed[keys[position]] = hidden[row, :length].astype(dtype)
        if cache is not None:
            cache.set_many(computed.items())
    hidden = [
        computed[key] if value is None else value
        for key, value in zip(keys, found, strict=True)
    ]
    return hidden, len(computed)
