"""allsh_sklearn: active learning for text classification, scikit-learn style.

ALLSH (Active Learning guided by Local Sensitivity and Hardness) scores each
unlabeled text by the divergence between a classifier's predictions on the
text and on augmented copies of it. This package provides the strategy, its
baselines, augmenters, an ``ActiveLearner`` and dataset loaders; the
transformer classifier (``allsh_sklearn.models``) and the prompt selector
(``allsh_sklearn.prompts``) import torch only when used.
"""

from . import datasets, divergences
from .augment import TfidfAugmenter

__version__ = "0.1.0"

__all__ = [
    "TfidfAugmenter",
    "__version__",
    "datasets",
    "divergences",
]
