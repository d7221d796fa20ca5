"""Text augmenters as scikit-learn transformers, and augmentation caches.

``TfidfAugmenter`` (UDA word replacement) and ``BackTranslationAugmenter``
are the paper's augmentations; ``SynonymAugmenter`` (WordNet, GloVe) goes
beyond it. Caches keep augmented copies between queries and runs.
"""

from ._backtranslation import BackTranslationAugmenter
from ._base import BaseAugmenter, stable_seed
from ._cache import MemoryAugmentationCache, augment_with_cache
from ._persistent_cache import SQLiteAugmentationCache
from ._synonym import SynonymAugmenter
from ._tfidf import TFIDF_REPLACEMENT_RATE, TfidfAugmenter
from ._translators import (
    ApertiumTranslator,
    CallableTranslator,
    HuggingFaceTranslator,
    TranslationBackendError,
    Translator,
)

__all__ = [
    "ApertiumTranslator",
    "BackTranslationAugmenter",
    "BaseAugmenter",
    "CallableTranslator",
    "HuggingFaceTranslator",
    "MemoryAugmentationCache",
    "SQLiteAugmentationCache",
    "TFIDF_REPLACEMENT_RATE",
    "SynonymAugmenter",
    "TfidfAugmenter",
    "TranslationBackendError",
    "Translator",
    "augment_with_cache",
    "stable_seed",
]
