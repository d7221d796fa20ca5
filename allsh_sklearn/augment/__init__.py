"""Text augmenters as scikit-learn transformers, and augmentation caches."""

from ._base import BaseAugmenter, stable_seed
from ._cache import MemoryAugmentationCache, augment_with_cache
from ._tfidf import TfidfAugmenter

__all__ = [
    "BaseAugmenter",
    "MemoryAugmentationCache",
    "TfidfAugmenter",
    "augment_with_cache",
    "stable_seed",
]
