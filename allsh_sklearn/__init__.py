"""allsh_sklearn: active learning for text classification, scikit-learn style.

ALLSH (Active Learning guided by Local Sensitivity and Hardness) scores each
unlabeled text by the divergence between a classifier's predictions on the
text and on augmented copies of it. This package provides the strategy, its
baselines, augmenters, an ``ActiveLearner`` and dataset loaders; the
transformer classifier (``allsh_sklearn.models``) and the prompt selector
(``allsh_sklearn.prompts``) import torch only when they are used.
"""

from . import datasets, divergences, strategies
from .augment import TfidfAugmenter
from .learner import ActiveLearner
from .strategies import (
    ALLSH,
    BADGE,
    CAL,
    allsh,
    badge,
    cal,
    entropy_sampling,
    margin_sampling,
    random_sampling,
    uncertainty_sampling,
    wca,
)

__version__ = "0.1.0"

_LAZY = {
    "TransformerClassifier": "allsh_sklearn.models",
    "ConsistencyLoss": "allsh_sklearn.models",
    "PromptSelector": "allsh_sklearn.prompts",
    "PromptTemplate": "allsh_sklearn.prompts",
}


def __getattr__(name):
    # Torch-backed estimators are imported on first use only.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'allsh_sklearn' has no attribute '{name}'")


__all__ = [
    "ALLSH",
    "ActiveLearner",
    "BADGE",
    "CAL",
    "ConsistencyLoss",
    "PromptSelector",
    "PromptTemplate",
    "TfidfAugmenter",
    "__version__",
    "allsh",
    "badge",
    "cal",
    "datasets",
    "divergences",
    "entropy_sampling",
    "margin_sampling",
    "random_sampling",
    "strategies",
    "uncertainty_sampling",
    "wca",
]
