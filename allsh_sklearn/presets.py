"""Named query strategies: a class and its parameter values, in one table.

A preset is plain data: a strategy class and the ``set_params`` values that
make it the named variant (``"allsh-wca"`` is
``ALLSH().set_params(n_augmentations=4, worst_case=True)``). The experiment
runner, its command-line help, the example scripts and the labeling session
build strategies from :data:`PRESETS`; a new variant is one entry here.

A *spec* names a preset with options, ``name`` or
``name:key=value,key=value`` (``"allsh-wca:p=0.5"``,
``"allsh:divergence=alpha,alpha=-0.5"``), as the experiment runner's command
line takes them: :func:`parse_strategy` reads one, :func:`build_strategy`
builds it (each option is one ``set_params`` value, :data:`SPEC_OPTIONS`).

Defaults are never repeated: the TF-IDF replacement rate is
:data:`~allsh_sklearn.augment.TFIDF_REPLACEMENT_RATE` (``p=0.3``,
:class:`~allsh_sklearn.augment.TfidfAugmenter`'s default), used whenever ALLSH
has no augmenter; WCA's number of copies is
:data:`~allsh_sklearn.strategies.WCA_COPIES` (re-exported here); the
low-variance estimators' is :data:`LOW_VARIANCE_COPIES`.

Examples
--------
>>> from allsh_sklearn.presets import make_strategy
>>> wca = make_strategy("allsh-wca", random_state=0)
>>> wca.n_augmentations, wca.worst_case
(4, True)
>>> make_strategy("cal", n_neighbors=5).n_neighbors
5
"""

from dataclasses import dataclass, field

from . import strategies
from .augment import BackTranslationAugmenter, SynonymAugmenter, TfidfAugmenter
from .strategies import (
    ALLSH,
    BADGE,
    CAL,
    EntropySampling,
    MarginSampling,
    RandomSampling,
    UncertaintySampling,
)
from .utils._validation import check_one_of

__all__ = [
    "AUGMENTERS",
    "LOW_VARIANCE_COPIES",
    "PRESETS",
    "SPEC_OPTIONS",
    "STRATEGIES",
    "WCA_COPIES",
    "Preset",
    "build_strategy",
    "canonical_strategy",
    "describe_presets",
    "make_strategy",
    "parse_strategy",
    "uses_consistency",
]

#: Augmented copies per text of worst-case augmentation (WCA, the paper's K):
#: :data:`allsh_sklearn.strategies.WCA_COPIES`, defined there.
WCA_COPIES = strategies.WCA_COPIES

#: Copies per text of the low-variance estimators of the local sensitivity
#: (``allsh-mean-kl``, ``allsh-mi``, ``allsh-var``): TF-IDF copies are cheap
#: to draw, and their scores' spread over draws shrinks with K.
LOW_VARIANCE_COPIES = 8


@dataclass(frozen=True)
class Preset:
    """A strategy class and the parameter values of one named variant.

    Parameters
    ----------
    cls : type
        The strategy class (built with its defaults, then ``set_params``).
    params : dict, default={}
        The ``set_params`` values that make the variant.
    description : str, default=""
        One line for the command-line help and the docs.
    consistency : bool, default=False
        The variant also trains the classifier with the consistency loss
        (ALLSH + CL): the classifier's business, not the strategy's.
    """

    cls: type
    params: dict = field(default_factory=dict)
    description: str = ""
    consistency: bool = False

    def build(self, **params):
        """A new strategy: ``cls()`` with the preset's values, then ``params``.

        Parameters
        ----------
        **params : dict
            ``set_params`` values that override the preset's.

        Returns
        -------
        strategy : BaseQueryStrategy
        """
        return self.cls().set_params(**{**self.params, **params})


#: Strategy names and what they build. The experiment runner's specs
#: (``"allsh-wca:p=0.5"``) start from these.
PRESETS = {
    "random": Preset(RandomSampling, description="uniformly at random"),
    "entropy": Preset(EntropySampling, description="highest predictive entropy"),
    "margin": Preset(MarginSampling, description="smallest top-two margin"),
    "least-confidence": Preset(
        UncertaintySampling, description="lowest top-class probability"
    ),
    "badge": Preset(BADGE, description="k-means++ on gradient embeddings (BADGE)"),
    "cal": Preset(
        CAL,
        description=f"contrastive active learning (CAL), k={CAL().n_neighbors}",
    ),
    "allsh": Preset(
        ALLSH,
        description=f"ALLSH: KL to one TF-IDF copy (p={TfidfAugmenter().p}), the "
        "paper's",
    ),
    "allsh-wca": Preset(
        ALLSH,
        {"n_augmentations": WCA_COPIES, "worst_case": True},
        f"ALLSH, worst case over K={WCA_COPIES} copies (WCA)",
    ),
    "allsh-cl": Preset(
        ALLSH,
        description="ALLSH + consistency loss (needs the fine-tuned classifier)",
        consistency=True,
    ),
    "allsh-balanced": Preset(
        ALLSH,
        {"balance": "pool"},
        "ALLSH with class-balanced top-b (balance='pool')",
    ),
    # Variants of issue 13 (not in the paper; docs/results.md, "Making ALLSH
    # hold up"): ALLSH's score and batch options.
    "allsh-scaled-badge": Preset(
        ALLSH,
        {"batch": "scaled_badge"},
        "ALLSH-weighted BADGE: k-means++ on gradient embeddings scaled by the "
        "ALLSH score's quantile (batch='scaled_badge')",
    ),
    "allsh-copy-gradient": Preset(
        ALLSH,
        {"batch": "copy_gradient"},
        "k-means++ on the copies' gradients at the original's label "
        "(batch='copy_gradient')",
    ),
    "allsh-kmeans": Preset(
        ALLSH,
        {"batch": "kmeans"},
        "k-means++ on embeddings weighted by the ALLSH score (batch='kmeans')",
    ),
    "allsh-product": Preset(
        ALLSH,
        {"score": "product"},
        "top-b of ALLSH score x normalised entropy (score='product')",
    ),
    "allsh-rank-mean": Preset(
        ALLSH,
        {"score": "rank_mean"},
        "top-b of the mean rank of ALLSH score and entropy (score='rank_mean')",
    ),
    "allsh-per-change": Preset(
        ALLSH,
        {"score": "per_change"},
        "top-b of ALLSH score per share of tokens changed (score='per_change')",
    ),
    # Issue 29: Algorithm 1 as written, and low-variance estimators of the
    # local sensitivity (not in the paper).
    "allsh-per-query": Preset(
        ALLSH,
        {"draw_copies": "per_query"},
        "ALLSH with its copy drawn afresh at every query, as Algorithm 1 "
        "(draw_copies='per_query')",
    ),
    "allsh-mean-kl": Preset(
        ALLSH,
        {"sensitivity": "divergence_to_mean", "n_augmentations": LOW_VARIANCE_COPIES},
        f"KL to the mean prediction over K={LOW_VARIANCE_COPIES} copies "
        "(sensitivity='divergence_to_mean')",
    ),
    "allsh-mi": Preset(
        ALLSH,
        {"sensitivity": "mutual_information", "n_augmentations": LOW_VARIANCE_COPIES},
        f"mutual information over the text and K={LOW_VARIANCE_COPIES} copies, "
        "BALD over augmentations (sensitivity='mutual_information')",
    ),
    "allsh-var": Preset(
        ALLSH,
        {"sensitivity": "variance", "n_augmentations": LOW_VARIANCE_COPIES},
        f"variance of the predictions over the text and K={LOW_VARIANCE_COPIES} "
        "copies (sensitivity='variance')",
    ),
    "allsh-stochastic": Preset(
        ALLSH,
        {"batch": "power", "beta": 1.0},
        "ALLSH's batch sampled in proportion to its score (batch='power', beta=1)",
    ),
}


def make_strategy(name, **params):
    """Build the named strategy, with parameter values of your own.

    Parameters
    ----------
    name : str
        A name of :data:`PRESETS`.
    **params : dict
        ``set_params`` values that override the preset's (for example
        ``random_state=0`` or ``augmenter=SynonymAugmenter()``).

    Returns
    -------
    strategy : BaseQueryStrategy
    """
    check_one_of(name, "name", PRESETS, owner="make_strategy")
    return PRESETS[name].build(**params)


def describe_presets(width=16):
    """One line per preset: its name and description (for help texts).

    Parameters
    ----------
    width : int, default=16
        Width of the name column.

    Returns
    -------
    lines : list of str
    """
    return [f"{name:<{width}} {p.description}" for name, p in PRESETS.items()]


# Specs: "name:key=value,..." ------------------------------------------------

#: Spec options and the strategy parameter each one sets. ``augmenter``
#: picks an augmenter by name (:data:`AUGMENTERS`); ``p`` is the TF-IDF
#: augmenter's replacement rate; ``balanced`` is ALLSH's ``balance``;
#: ``draw_copies``, ``sensitivity`` and ``beta`` are ALLSH's.
SPEC_OPTIONS = {
    "divergence": "divergence",
    "alpha": "alpha",
    "K": "n_augmentations",
    "worst_case": "worst_case",
    "p": "augmenter__p",
    "tokenizer": "augmenter__tokenizer",
    "replace_punctuation": "augmenter__replace_punctuation",
    "joint_pairs": "augmenter__joint_pairs",
    "augmenter": "augmenter",
    "balanced": "balance",
    "k": "n_neighbors",
    "score": "score",
    "batch": "batch",
    "sensitivity": "sensitivity",
    "draw_copies": "draw_copies",
    "beta": "beta",
}

#: Spec options that only the TF-IDF augmenter has.
_TFIDF_OPTIONS = ("p", "tokenizer", "replace_punctuation", "joint_pairs")


def _spec_options(preset):
    params = preset.cls().get_params(deep=False)
    return tuple(
        option
        for option, param in SPEC_OPTIONS.items()
        if param.split("__")[0] in params
    )


#: Preset names and the options their specs accept.
STRATEGIES = {name: _spec_options(preset) for name, preset in PRESETS.items()}


def _parse_value(text):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def parse_strategy(spec):
    """Split a strategy spec into its name and options.

    Parameters
    ----------
    spec : str
        ``name`` or ``name:key=value,key=value``; values are read as bool,
        int, float or str.

    Returns
    -------
    name : str
    options : dict

    Examples
    --------
    >>> parse_strategy("allsh:divergence=alpha,alpha=-0.5")
    ('allsh', {'divergence': 'alpha', 'alpha': -0.5})
    """
    if not isinstance(spec, str) or not spec:
        raise TypeError(
            f"A strategy spec must be a non-empty str. Got {spec!r} instead."
        )
    name, _, rest = spec.partition(":")
    name = name.strip()
    if name not in STRATEGIES:
        raise ValueError(
            f"Unknown strategy {name!r} in {spec!r}. Known strategies: "
            f"{list(STRATEGIES)}."
        )
    options = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(
                f"Strategy option {part!r} in {spec!r} must be written key=value."
            )
        key = key.strip()
        if key not in STRATEGIES[name]:
            allowed = list(STRATEGIES[name]) or "none"
            raise ValueError(
                f"Strategy {name!r} has no option {key!r} (in {spec!r}). Its "
                f"options: {allowed}."
            )
        options[key] = _parse_value(value.strip())
    return name, options


def canonical_strategy(spec):
    """Return the spec with its options sorted (the key of a run).

    Examples
    --------
    >>> canonical_strategy("allsh:divergence=alpha,alpha=-0.5")
    'allsh:alpha=-0.5,divergence=alpha'
    """
    name, options = parse_strategy(spec)
    if not options:
        return name
    return name + ":" + ",".join(f"{key}={options[key]}" for key in sorted(options))


def uses_consistency(spec):
    """Whether the spec trains the classifier with the consistency loss (+ CL)."""
    return PRESETS[parse_strategy(spec)[0]].consistency


def _backtranslation(seed, cache_dir):
    folder = None if cache_dir is None else f"{cache_dir}/backtranslation"
    return BackTranslationAugmenter(
        backend="apertium", cache_dir=folder, random_state=seed
    )


def _synonyms(seed, cache_dir):
    return SynonymAugmenter(source="wordnet", random_state=seed)


def _tfidf(seed, cache_dir):
    return TfidfAugmenter(random_state=seed)  # its default p is the paper's


#: Augmenters an ALLSH spec can name: ``factory(seed, cache_dir)``.
AUGMENTERS = {
    "tfidf": _tfidf,
    "backtranslation": _backtranslation,
    "synonym": _synonyms,
}

_BALANCE = {True: "pool", "pool": "pool", "uniform": "uniform", False: None}


def build_strategy(
    spec, *, embedding=None, seed=0, augmentation_cache=None, cache_dir=None
):
    """Build the query strategy of a spec.

    The spec's name is a preset (:data:`PRESETS`); its
    options (:data:`SPEC_OPTIONS`) become ``set_params`` values, checked by
    the strategy itself. ``allsh`` options: ``divergence`` (kl, jsd, alpha,
    reverse_kl), ``alpha`` (its order), ``K`` (copies), ``worst_case``,
    ``p`` (the TF-IDF augmenter's replacement rate), ``tokenizer``,
    ``replace_punctuation``, ``joint_pairs`` (its departures from UDA's
    procedure, see :class:`~allsh_sklearn.augment.TfidfAugmenter`), ``augmenter``
    (``tfidf``, ``backtranslation`` (Apertium) or ``synonym`` (WordNet,
    p=0.1)), ``balanced`` (class-balanced top-b, ALLSH's ``balance``:
    ``true`` or ``pool`` for shares proportional to the predicted classes of
    the pool, ``uniform`` for equal shares), ``score``, ``batch``,
    ``sensitivity``, ``draw_copies`` (``once`` or ``per_query``) and ``beta``
    (ALLSH's parameters of the same names). ``cal``: ``k`` neighbours.

    Parameters
    ----------
    spec : str
        See :func:`parse_strategy`.
    embedding : str, callable or None, default=None
        Where CAL and BADGE take embeddings (a pipeline step name).
    seed : int, default=0
        Seeds ALLSH and its augmenter; the runner fixes it per task so that
        every strategy and seed shares the same augmented copies (and their
        cached embeddings).
    augmentation_cache : object or None, default=None
        A shared cache of augmented copies.
    cache_dir : path or None, default=None
        Folder of the on-disk back-translation cache.

    Returns
    -------
    strategy : BaseQueryStrategy
    """
    name, options = parse_strategy(spec)
    preset = PRESETS[name]
    accepted = preset.cls().get_params(deep=False)
    params = {"embedding": embedding} if "embedding" in accepted else {}
    if "augmenter" in accepted:
        choice = options.pop("augmenter", "tfidf")
        if choice not in AUGMENTERS:
            raise ValueError(
                f"The 'augmenter' option of {spec!r} must be one of "
                f"{list(AUGMENTERS)}. Got {choice!r} instead."
            )
        tfidf_only = [key for key in _TFIDF_OPTIONS if key in options]
        if choice != "tfidf" and tfidf_only:
            raise ValueError(
                f"Option {tfidf_only[0]!r} is for the TF-IDF augmenter (in {spec!r})."
            )
        params.update(
            augmenter=AUGMENTERS[choice](seed, cache_dir),
            cache=augmentation_cache,
            random_state=seed,
        )
    if "balanced" in options:
        balanced = options.pop("balanced")
        if balanced not in _BALANCE:
            raise ValueError(
                f"The 'balanced' option of {spec!r} must be true, false, 'pool' or "
                f"'uniform'. Got {balanced!r} instead."
            )
        params["balance"] = _BALANCE[balanced]
    params.update({SPEC_OPTIONS[key]: value for key, value in options.items()})
    strategy = preset.build(**params)
    strategy._validate_params()  # the strategy's own checks, before any work
    augmenter = params.get("augmenter")
    if hasattr(augmenter, "_validate_params"):
        augmenter._validate_params()  # e.g. tokenizer=..., before any work
    return strategy
