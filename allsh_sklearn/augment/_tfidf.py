"""Placeholder replaced by the TF-IDF augmenter implementation."""

from ._base import BaseAugmenter


class TfidfAugmenter(BaseAugmenter):
    """UDA TF-IDF word replacement (being implemented)."""

    def __init__(self, p=0.3, random_state=None):
        self.p = p
        self.random_state = random_state

    def _augment_texts(self, texts, copy_index):
        return list(texts)
