"""Classifiers for active learning on texts, and the tiers that build them.

The classifier tiers (:func:`make_tier`, :data:`CLASSIFIERS`) name the
classifiers a run can train: TF-IDF + logistic regression, frozen sentence
embeddings (:class:`SentenceEncoder`) + logistic regression, and a
fine-tuned transformer. :class:`TransformerClassifier` fine-tunes a Hugging
Face model on raw texts inside a skorch net; :class:`ConsistencyLoss` is the
paper's CL criterion (eq. 5); ``torch_divergences`` holds the differentiable
twins of :mod:`allsh_sklearn.divergences`. Every model is loaded by one
loader (``allsh_sklearn.models._loader``).

Importing this package does not import torch: the names that need torch,
transformers and skorch are loaded on first use (PEP 562), so the TF-IDF
tier works without them.
"""

import importlib

from ._cv_logistic import CrossValidatedLogisticRegression
from ._loader import default_model_path
from ._sentence_encoder import EmbeddingStore, SentenceEncoder
from ._tiers import (
    CLASSIFIERS,
    TIERS,
    ClassifierTier,
    FastFineTunedTier,
    FineTunedTier,
    FrozenEncoderTier,
    FrozenRowCache,
    PairTfidfVectorizer,
    TfidfTier,
    make_tier,
    register_tier,
)

#: Names loaded on first use, with the module that defines them.
_TORCH_NAMES = {
    "ConsistencyLoss": "._consistency",
    "TransformerClassifier": "._transformer",
    "TruncationWarning": "._data",
    "classification_head_linear": "._inference",
    "torch_divergences": "._torch_divergences",
}

__all__ = [
    "CLASSIFIERS",
    "TIERS",
    "ClassifierTier",
    "ConsistencyLoss",
    "CrossValidatedLogisticRegression",
    "EmbeddingStore",
    "FastFineTunedTier",
    "FineTunedTier",
    "FrozenEncoderTier",
    "FrozenRowCache",
    "PairTfidfVectorizer",
    "SentenceEncoder",
    "TfidfTier",
    "TransformerClassifier",
    "TruncationWarning",
    "classification_head_linear",
    "default_model_path",
    "make_tier",
    "register_tier",
    "torch_divergences",
]


def __getattr__(name):
    if name not in _TORCH_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        import skorch  # noqa: F401
        import torch  # noqa: F401
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"allsh_sklearn.models.{name} needs torch, transformers and skorch. "
            "Install them with: pip install 'allsh-sklearn[transformers]' "
            "(install the CPU torch wheel first to avoid a multi-GB CUDA build)."
        ) from error
    module = importlib.import_module(_TORCH_NAMES[name], __name__)
    value = module if name == "torch_divergences" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
