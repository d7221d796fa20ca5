"""Back-translation augmenter (English -> pivot language -> English).

The ALLSH paper back-translates each sentence through German with the WMT19
models of Ng et al. (2019). Translating a pool is by far the most expensive
augmentation, so the copies go through a cache keyed by the augmenter's
fingerprint: in memory by default, on disk (SQLite) with ``cache_dir``, where
they are reused across active learning iterations, runs and processes.
"""

import json
import numbers
import os

from sklearn.utils.validation import check_is_fitted

from ..utils import (
    Boolean,
    Callable,
    InstanceOf,
    Interval,
    describe,
    text_key,
)
from ..utils._validation import check_int, check_texts
from ._base import BaseAugmenter, stable_seed
from ._cache import MemoryAugmentationCache, item_key
from ._persistent_cache import SQLiteAugmentationCache
from ._translators import (
    ApertiumTranslator,
    HuggingFaceTranslator,
    Translator,
    as_translator,
)

__all__ = ["BackTranslationAugmenter"]

_DEFAULT_DIRECTIONS = {
    "fsmt": ("facebook/wmt19-en-de", "facebook/wmt19-de-en"),
    "marian": ("Helsinki-NLP/opus-mt-en-de", "Helsinki-NLP/opus-mt-de-en"),
    "apertium": ("eng-spa", "spa-eng"),
}
_DEFAULT_BATCH_SIZE = {"fsmt": 16, "marian": 32, "apertium": 1000}
_CACHE_FILE = "augmentations.sqlite3"

# What 'forward' and 'backward' may name, besides a callable.
_TRANSLATOR_SPEC = InstanceOf(
    (str, os.PathLike), description="a model name or directory, an Apertium direction"
)


class BackTranslationAugmenter(BaseAugmenter):
    """Paraphrase texts by translating them to a pivot language and back.

    A scikit-learn transformer: ``transform(X)`` returns one paraphrase per
    text, ``augment(X, n_copies=K)`` returns ``K`` of them. With
    ``sampling=True`` the neural backends sample each copy (temperature,
    top-k) from its own seed, so copies differ and are reproducible; with
    ``sampling=False`` they decode by beam search and every copy is the same.

    A paraphrase is kept only if it passes the length filter of UDA (Xie et
    al., 2020): both texts have at least ``min_chars`` characters and their
    lengths differ by at most ``max_length_diff`` times the original length.
    Otherwise the original text is returned in its place and counted in
    ``n_fallbacks_``.

    Parameters
    ----------
    backend : {"apertium", "fsmt", "marian"} or tuple, default="apertium"
        The translation engine:

        - ``"apertium"``: Debian's rule-based Apertium through Spanish
          (``apt-get install apertium-eng-spa``); offline, deterministic and
          fast, so it is the default;
        - ``"fsmt"``: transformers' FSMT port of the WMT19 models the paper
          uses (``facebook/wmt19-en-de`` and ``facebook/wmt19-de-en``);
        - ``"marian"``: a MarianMT pair (``Helsinki-NLP/opus-mt-en-de`` and
          ``-de-en`` by default);
        - ``(forward, backward)``: two callables ``list[str] -> list[str]``
          or :class:`Translator` objects.
    forward : str, callable or None, default=None
        The English -> pivot direction, overriding the backend's default: a
        hub name or local directory (``"fsmt"``, ``"marian"``), an Apertium
        direction such as ``"eng-spa"`` (``"apertium"``), or a callable.
    backward : str, callable or None, default=None
        The pivot -> English direction, in the same forms as ``forward``.
    sampling : bool, default=True
        Sample translations (diverse copies) rather than beam search (one
        deterministic paraphrase). Apertium never samples.
    temperature : float, default=0.9
        Sampling temperature (UDA uses 0.7-0.9).
    top_k : int or None, default=None
        Sample among the ``top_k`` most likely tokens only; None for all.
    num_beams : int, default=4
        Beam width when ``sampling=False``.
    max_length : int, default=256
        Longest input and output of the neural models, in tokens.
    min_chars : int or None, default=10
        Length filter: shortest original and paraphrase, in characters.
        None disables this check.
    max_length_diff : float or None, default=0.5
        Length filter: largest ``|len(paraphrase) - len(text)| / len(text)``.
        None disables this check.
    batch_size : int or None, default=None
        Texts per translation call; None picks 16 (fsmt), 32 (marian), 1000
        (apertium) or 256 (callables).
    device : str, default="cpu"
        Torch device of the neural models.
    cache_dir : str, path-like or None, default=None
        Folder of a persistent SQLite cache (``augmentations.sqlite3``)
        shared by every augmenter, run and process using it. None keeps the
        copies in memory only, for the life of this fitted augmenter.
    verbose : bool, default=False
        Show a progress bar while translating.
    random_state : int, RandomState instance or None, default=None
        Seeds the sampled copies. Fix it to reuse cached copies across runs.

    Attributes
    ----------
    seed_ : int
        The seed the copies derive from.
    cache_ : MemoryAugmentationCache or SQLiteAugmentationCache
        Where copies are cached.
    forward_translator_, backward_translator_ : Translator
        The two directions (models load on first translation).
    n_translated_ : int
        Texts augmented since ``fit``: cache misses, including texts too short
        for the length filter, which are not sent to the backend.
    n_fallbacks_ : int
        Of those, how many were replaced by the original text by the length
        filter (or because the translation came back empty).

    See Also
    --------
    TfidfAugmenter : UDA TF-IDF word replacement, cheaper.
    SynonymAugmenter : WordNet or GloVe word replacement.

    Notes
    -----
    The paper used fairseq's WMT19 checkpoints: ``backend="fsmt"`` with the
    default models reproduces its setting. fairseq 0.12.2 cannot be imported
    on Python 3.11 (``ValueError: mutable default ... for field common``), so
    fairseq's WMT19 weights are loaded through transformers' FSMT port.

    Cache keys hold the backend, models, decoding parameters, seed, copy
    index and text (see :meth:`fingerprint`). A deterministic setting
    (Apertium, beam search, a callable that takes no seed) ignores the seed
    and the copy index, so one translation per text serves every copy.

    Examples
    --------
    >>> from allsh_sklearn.augment import BackTranslationAugmenter
    >>> def to_pivot(texts):
    ...     return [t.replace("film", "Film") for t in texts]
    >>> def from_pivot(texts):
    ...     return [t.replace("Film", "movie") for t in texts]
    >>> augmenter = BackTranslationAugmenter(backend=(to_pivot, from_pivot),
    ...                                      random_state=0)
    >>> augmenter.fit_transform(["a moving film about grief", "bad"])
    ['a moving movie about grief', 'bad']
    >>> augmenter.n_fallbacks_
    1
    """

    def __init__(
        self,
        backend="apertium",
        forward=None,
        backward=None,
        sampling=True,
        temperature=0.9,
        top_k=None,
        num_beams=4,
        max_length=256,
        min_chars=10,
        max_length_diff=0.5,
        batch_size=None,
        device="cpu",
        cache_dir=None,
        verbose=False,
        random_state=None,
    ):
        self.backend = backend
        self.forward = forward
        self.backward = backward
        self.sampling = sampling
        self.temperature = temperature
        self.top_k = top_k
        self.num_beams = num_beams
        self.max_length = max_length
        self.min_chars = min_chars
        self.max_length_diff = max_length_diff
        self.batch_size = batch_size
        self.device = device
        self.cache_dir = cache_dir
        self.verbose = verbose
        self.random_state = random_state

    # Validation -------------------------------------------------------------

    _parameter_constraints = {
        "forward": [None, _TRANSLATOR_SPEC, Callable()],
        "backward": [None, _TRANSLATOR_SPEC, Callable()],
        "sampling": [Boolean()],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "top_k": [Interval(numbers.Integral, 1, None), None],
        "num_beams": [Interval(numbers.Integral, 1, None)],
        "max_length": [Interval(numbers.Integral, 1, None)],
        "min_chars": [Interval(numbers.Integral, 0, None), None],
        "batch_size": [Interval(numbers.Integral, 1, None), None],
        "max_length_diff": [Interval(numbers.Real, 0, None), None],
        "cache_dir": [
            InstanceOf((str, os.PathLike), description="a folder path"),
            None,
        ],
    }

    def _validate_params(self):
        name = type(self).__name__
        if isinstance(self.backend, tuple | list):
            if len(self.backend) != 2 or not all(callable(f) for f in self.backend):
                raise TypeError(
                    f"The 'backend' parameter of {name} must be 'fsmt', 'marian', "
                    "'apertium' or a (forward, backward) tuple of callables. Got "
                    f"{describe(self.backend)} instead."
                )
            if self.forward is not None or self.backward is not None:
                raise ValueError(
                    f"The 'forward' and 'backward' parameters of {name} must be "
                    "None when 'backend' is a (forward, backward) tuple; pass the "
                    "translators in one place only."
                )
        elif self.backend not in _DEFAULT_DIRECTIONS:
            raise ValueError(
                f"The 'backend' parameter of {name} must be 'fsmt', 'marian', "
                "'apertium' or a (forward, backward) tuple of callables. Got "
                f"{describe(self.backend)} instead."
            )
        super()._validate_params()

    # Fitting ------------------------------------------------------------------

    def _make_translator(self, spec, default):
        if spec is None:
            spec = default
        if isinstance(spec, Translator) or (
            callable(spec) and not isinstance(spec, str | os.PathLike)
        ):
            return as_translator(spec)
        if self.backend == "apertium":
            return ApertiumTranslator(os.fspath(spec))
        return HuggingFaceTranslator(
            os.fspath(spec), kind=self.backend, num_beams=self.num_beams,
            max_length=self.max_length, device=self.device,
        )

    def _fit_texts(self, texts):
        if isinstance(self.backend, tuple | list):
            forward, backward = (as_translator(f) for f in self.backend)
        else:
            default_forward, default_backward = _DEFAULT_DIRECTIONS[self.backend]
            forward = self._make_translator(self.forward, default_forward)
            backward = self._make_translator(self.backward, default_backward)
        self.forward_translator_ = forward
        self.backward_translator_ = backward
        if self.cache_dir is None:
            self.cache_ = MemoryAugmentationCache()
        else:
            self.cache_ = SQLiteAugmentationCache(
                os.path.join(os.fspath(self.cache_dir), _CACHE_FILE)
            )
        self.n_translated_ = 0
        self.n_fallbacks_ = 0

    def _is_deterministic(self):
        return self.forward_translator_.is_deterministic(
            self.sampling
        ) and self.backward_translator_.is_deterministic(self.sampling)

    def _fitted_state_token(self):
        return "|".join(
            (self.forward_translator_.cache_token(),
             self.backward_translator_.cache_token())
        )

    def fingerprint(self):
        """Return a string that identifies this augmenter's output.

        It covers the two translators (backend and model), the decoding
        parameters that change the output and the length filter; the seed
        only when the copies are sampled. Batch size, device, verbosity and
        the cache folder are left out, so changing them keeps the cache.
        """
        check_is_fitted(self)
        deterministic = self._is_deterministic()
        payload = {
            "class": type(self).__name__,
            "translators": self._fitted_state_token(),
            "max_length": self.max_length,
            "filter": [self.min_chars, self.max_length_diff],
        }
        if self.sampling:
            payload.update(temperature=float(self.temperature), top_k=self.top_k)
        else:
            payload.update(num_beams=self.num_beams)
        if not deterministic:
            payload.update(seed=self.seed_)
        return text_key(json.dumps(payload, sort_keys=True), length=32)

    # Augmenting ---------------------------------------------------------------

    def augment(self, X, n_copies=1, copy_offset=0):
        """Return ``n_copies`` back-translated copies of each text in ``X``.

        The parameters and the result are those of
        :meth:`BaseAugmenter.augment <allsh_sklearn.augment.BaseAugmenter.augment>`
        (``copies[k][i]`` is copy ``copy_offset + k`` of ``X[i]``). Copies
        already in ``cache_`` are read back; only the missing (text, copy)
        pairs are translated, each distinct text once, and stored.
        """
        check_is_fitted(self)
        check_int(n_copies, "n_copies", 1)
        check_int(copy_offset, "copy_offset", 0)
        items = list(check_texts(X, name="X"))
        fingerprint = self.fingerprint()
        deterministic = self._is_deterministic()
        by_copy = {}
        copies = []
        for k in range(int(n_copies)):
            copy_index = 0 if deterministic else int(copy_offset) + k
            if copy_index not in by_copy:
                by_copy[copy_index] = self._cached_copy(items, fingerprint, copy_index)
            copies.append(list(by_copy[copy_index]))
        return copies

    def _cached_copy(self, items, fingerprint, copy_index):
        keys = [(fingerprint, copy_index, item) for item in items]
        values = self.cache_.get_many(keys)
        missing = {}
        for item, value in zip(items, values, strict=True):
            if value is None:
                missing.setdefault(item_key(item), item)
        if missing:
            unique = list(missing.values())
            fresh = self._augment_items(unique, copy_index)
            self.cache_.set_many(
                {(fingerprint, copy_index, item): value
                 for item, value in zip(unique, fresh, strict=True)}
            )
            computed = {
                item_key(item): value for item, value in zip(unique, fresh, strict=True)
            }
            values = [
                computed[item_key(item)] if value is None else value
                for item, value in zip(items, values, strict=True)
            ]
        return [tuple(v) if isinstance(v, list) else v for v in values]

    def _effective_batch_size(self):
        if self.batch_size is not None:
            return int(self.batch_size)
        if isinstance(self.backend, str):
            return _DEFAULT_BATCH_SIZE[self.backend]
        return 256

    def _keeps(self, original, paraphrase):
        if not paraphrase:
            return False
        if self.min_chars is not None and min(len(original), len(paraphrase)) < (
            self.min_chars
        ):
            return False
        if self.max_length_diff is not None and (
            abs(len(paraphrase) - len(original)) > self.max_length_diff * len(original)
        ):
            return False
        return True

    def _augment_texts(self, texts, copy_index):
        from tqdm.auto import tqdm

        outputs = list(texts)
        # Too short to pass the filter: keep the original without translating.
        todo = [
            i for i, text in enumerate(texts)
            if self.min_chars is None or len(text) >= self.min_chars
        ]
        self.n_fallbacks_ += len(texts) - len(todo)
        self.n_translated_ += len(texts)
        todo.sort(key=lambda i: len(texts[i]))
        step = self._effective_batch_size()
        options = {
            "sample": bool(self.sampling),
            "temperature": float(self.temperature),
            "top_k": self.top_k,
        }
        with tqdm(
            total=len(texts), disable=not self.verbose, unit="text",
            desc="Back-translating",
        ) as bar:
            bar.update(len(texts) - len(todo))
            for start in range(0, len(todo), step):
                batch = todo[start:start + step]
                sources = [texts[i] for i in batch]
                pivots = self.forward_translator_.translate(
                    sources, seeds=self._seeds(sources, copy_index, "forward"),
                    **options,
                )
                paraphrases = self.backward_translator_.translate(
                    pivots, seeds=self._seeds(sources, copy_index, "backward"),
                    **options,
                )
                for i, source, paraphrase in zip(
                    batch, sources, paraphrases, strict=True
                ):
                    paraphrase = paraphrase.strip()
                    if self._keeps(source, paraphrase):
                        outputs[i] = paraphrase
                    else:
                        self.n_fallbacks_ += 1
                bar.update(len(batch))
        return outputs

    def _seeds(self, sources, copy_index, direction):
        return [
            stable_seed(self.seed_, copy_index, direction, text) for text in sources
        ]
