"""Named query strategies: the one catalogue of their names.

A preset is plain data: a strategy class and the ``set_params`` values that
make it the named variant (``"allsh-wca"`` is
``ALLSH().set_params(n_augmentations=4, worst_case=True)``), with its row
label in the experiment tables (``"+ WCA"``) and its name on the labeling
page (``"ALLSH (worst case over copies, WCA)"``). The experiment runner, its
tables and command-line help, the example scripts, the labeling session and
its page all read :data:`PRESETS`; a new variant is one entry here.

A *spec* names a preset with options, ``name`` or
``name:key=value,key=value`` (``"allsh:n_augmentations=4,augmenter__p=0.5"``,
``"allsh:divergence=alpha,alpha=-0.5"``), as the experiment runner's command
line takes them: :func:`parse_strategy` reads one, :func:`build_strategy`
builds it. Each option is a ``set_params`` name of the preset's class
(``augmenter__...`` for the TF-IDF augmenter's). A class may declare short
names for some of them (ALLSH's ``K`` for ``n_augmentations``, ``p`` for
``augmenter__p``; CAL's ``k``), in its ``_spec_aliases``: a spec may use
either, and :func:`canonical_strategy`, the spelling of run ids and table
rows, writes the short one, so that the ids of runs recorded before the
long names were accepted stay as they were.

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

import functools
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
    "STRATEGIES",
    "WCA_COPIES",
    "Preset",
    "build_strategy",
    "canonical_strategy",
    "describe_presets",
    "describe_spec_options",
    "make_strategy",
    "parse_strategy",
    "preset_display_name",
    "preset_label",
    "spec_aliases",
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
    """A strategy class, the parameter values of one named variant, its names.

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
    label : str or None, default=None
        Its row label in the experiment tables (the paper's, ``"+ WCA"``).
        None: the preset's name, capitalised, hyphens as spaces
        (``"least-confidence"`` -> ``"Least confidence"``); see
        :func:`preset_label`.
    display_name : str or None, default=None
        How the labeling page names it (``"Entropy sampling"``). None: the
        preset's name; see :func:`preset_display_name`.
    """

    cls: type
    params: dict = field(default_factory=dict)
    description: str = ""
    consistency: bool = False
    label: str | None = None
    display_name: str | None = None

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


#: Strategy names, what they build and how tables and the labeling page name
#: them: the one catalogue. The experiment runner's specs
#: (``"allsh-wca:augmenter__p=0.5"``) start from these.
PRESETS = {
    "random": Preset(
        RandomSampling,
        description="uniformly at random",
        display_name="Random sampling",
    ),
    "entropy": Preset(
        EntropySampling,
        description="highest predictive entropy",
        display_name="Entropy sampling",
    ),
    "margin": Preset(
        MarginSampling,
        description="smallest top-two margin",
        display_name="Margin sampling",
    ),
    "least-confidence": Preset(
        UncertaintySampling,
        description="lowest top-class probability",
        display_name="Least-confidence sampling",
    ),
    "badge": Preset(
        BADGE,
        description="k-means++ on gradient embeddings (BADGE)",
        label="BADGE",
        display_name="BADGE",
    ),
    "cal": Preset(
        CAL,
        description=f"contrastive active learning (CAL), k={CAL().n_neighbors}",
        label="CAL",
        display_name="CAL",
    ),
    "allsh": Preset(
        ALLSH,
        description=f"ALLSH: KL to one TF-IDF copy (p={TfidfAugmenter().p}), the "
        "paper's",
        label="Ours",
        display_name="ALLSH",
    ),
    "allsh-wca": Preset(
        ALLSH,
        {"n_augmentations": WCA_COPIES, "worst_case": True},
        f"ALLSH, worst case over K={WCA_COPIES} copies (WCA)",
        label="+ WCA",
        display_name="ALLSH (worst case over copies, WCA)",
    ),
    "allsh-cl": Preset(
        ALLSH,
        description="ALLSH + consistency loss (needs the fine-tuned classifier)",
        consistency=True,
        label="+ CL",
        display_name="ALLSH + CL",
    ),
    "allsh-balanced": Preset(
        ALLSH,
        {"balance": "pool"},
        "ALLSH with class-balanced top-b (balance='pool')",
        label="Ours (class-balanced)",
        display_name="ALLSH (class-balanced)",
    ),
    # Variants of issue 13 (not in the paper; docs/results.md, "Making ALLSH
    # hold up"): ALLSH's score and batch options.
    "allsh-scaled-badge": Preset(
        ALLSH,
        {"batch": "scaled_badge"},
        "ALLSH-weighted BADGE: k-means++ on gradient embeddings scaled by the "
        "ALLSH score's quantile (batch='scaled_badge')",
        label="Ours (scaled BADGE)",
    ),
    "allsh-copy-gradient": Preset(
        ALLSH,
        {"batch": "copy_gradient"},
        "k-means++ on the copies' gradients at the original's label "
        "(batch='copy_gradient')",
        label="Ours (copy gradient)",
    ),
    "allsh-kmeans": Preset(
        ALLSH,
        {"batch": "kmeans"},
        "k-means++ on embeddings weighted by the ALLSH score (batch='kmeans')",
        label="Ours (k-means++)",
    ),
    "allsh-product": Preset(
        ALLSH,
        {"score": "product"},
        "top-b of ALLSH score x normalised entropy (score='product')",
        label="Ours (× entropy)",
    ),
    "allsh-rank-mean": Preset(
        ALLSH,
        {"score": "rank_mean"},
        "top-b of the mean rank of ALLSH score and entropy (score='rank_mean')",
        label="Ours (rank mean)",
        display_name="ALLSH ranked with entropy",
    ),
    "allsh-per-change": Preset(
        ALLSH,
        {"score": "per_change"},
        "top-b of ALLSH score per share of tokens changed (score='per_change')",
        label="Ours (per change)",
    ),
    # Issue 29: Algorithm 1 as written, and low-variance estimators of the
    # local sensitivity (not in the paper).
    "allsh-per-query": Preset(
        ALLSH,
        {"draw_copies": "per_query"},
        "ALLSH with its copy drawn afresh at every query, as Algorithm 1 "
        "(draw_copies='per_query')",
        label="Ours (copies per query)",
    ),
    "allsh-mean-kl": Preset(
        ALLSH,
        {"sensitivity": "divergence_to_mean", "n_augmentations": LOW_VARIANCE_COPIES},
        f"KL to the mean prediction over K={LOW_VARIANCE_COPIES} copies "
        "(sensitivity='divergence_to_mean')",
        label="Ours (KL to mean)",
    ),
    "allsh-mi": Preset(
        ALLSH,
        {"sensitivity": "mutual_information", "n_augmentations": LOW_VARIANCE_COPIES},
        f"mutual information over the text and K={LOW_VARIANCE_COPIES} copies, "
        "BALD over augmentations (sensitivity='mutual_information')",
        label="Ours (MI)",
    ),
    "allsh-var": Preset(
        ALLSH,
        {"sensitivity": "variance", "n_augmentations": LOW_VARIANCE_COPIES},
        f"variance of the predictions over the text and K={LOW_VARIANCE_COPIES} "
        "copies (sensitivity='variance')",
        label="Ours (variance)",
    ),
    "allsh-stochastic": Preset(
        ALLSH,
        {"batch": "power", "beta": 1.0},
        "ALLSH's batch sampled in proportion to its score (batch='power', beta=1)",
        label="Ours (stochastic)",
    ),
}


def _preset(name, *, owner):
    """The :class:`Preset` called ``name``; an unknown name raises ``ValueError``.

    ``owner``, the public function asked, is named in the message.
    """
    check_one_of(name, "name", PRESETS, owner=owner)
    return PRESETS[name]


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
    return _preset(name, owner="make_strategy").build(**params)


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


def preset_label(name):
    """The row label of a preset in the experiment tables.

    Parameters
    ----------
    name : str
        A name of :data:`PRESETS`.

    Returns
    -------
    label : str
        The preset's ``label``; without one, its name capitalised, hyphens
        as spaces.

    Examples
    --------
    >>> preset_label("allsh-wca"), preset_label("least-confidence")
    ('+ WCA', 'Least confidence')
    """
    label = _preset(name, owner="preset_label").label
    return name.replace("-", " ").capitalize() if label is None else label


def preset_display_name(name):
    """How the labeling page names a preset.

    Parameters
    ----------
    name : str
        A name of :data:`PRESETS`.

    Returns
    -------
    display_name : str
        The preset's ``display_name``; without one, its name.

    Examples
    --------
    >>> preset_display_name("entropy"), preset_display_name("allsh-mi")
    ('Entropy sampling', 'allsh-mi')
    """
    display_name = _preset(name, owner="preset_display_name").display_name
    return name if display_name is None else display_name


# Specs: "name:key=value,..." ------------------------------------------------

#: Parameters that :func:`build_strategy` sets itself, never a spec: the
#: pipeline step of the embeddings, the shared cache of copies and the seed.
_SET_BY_THE_BUILDER = ("cache", "embedding", "random_state")


def spec_aliases(cls):
    """The short spec names a strategy class declares for its parameters.

    A class declares them in ``_spec_aliases``, ``{short name: set_params
    name}`` (ALLSH's ``{"K": "n_augmentations", "p": "augmenter__p", ...}``).
    A spec may use either name; :func:`canonical_strategy` writes the short
    one.

    Parameters
    ----------
    cls : type
        A strategy class.

    Returns
    -------
    aliases : dict
        ``{short name: set_params name}``, empty when the class declares none.
    """
    return dict(getattr(cls, "_spec_aliases", {}))


@functools.cache
def _spec_parameters(cls):
    """The ``set_params`` names a spec of ``cls`` may set, sorted."""
    params = [
        name for name in cls().get_params(deep=False) if name not in _SET_BY_THE_BUILDER
    ]
    if "augmenter" in params:  # the default (TF-IDF) augmenter's parameters
        params += [
            f"augmenter__{name}"
            for name in TfidfAugmenter().get_params(deep=False)
            if name not in _SET_BY_THE_BUILDER
        ]
    return tuple(sorted(params))


def _written_names(cls):
    """``{set_params name: its name in a canonical spec}`` (the short one)."""
    return {param: short for short, param in spec_aliases(cls).items()}


#: Preset names and the options (``set_params`` names) their specs accept;
#: a class's short names (:func:`spec_aliases`) are accepted too.
STRATEGIES = {name: _spec_parameters(preset.cls) for name, preset in PRESETS.items()}


def describe_spec_options(name):
    """The options a spec of a preset accepts, for help texts.

    Parameters
    ----------
    name : str
        A name of :data:`PRESETS`.

    Returns
    -------
    text : str
        The ``set_params`` names, each with its short name in brackets
        where the class declares one.

    Examples
    --------
    >>> describe_spec_options("cal")
    'embedding_kind, n_neighbors (k)'
    """
    cls = _preset(name, owner="describe_spec_options").cls
    short = _written_names(cls)
    return ", ".join(
        f"{param} ({short[param]})" if param in short else param
        for param in _spec_parameters(cls)
    )


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
        ``name`` or ``name:key=value,key=value``; each key is a
        ``set_params`` name of the preset's class or a short name the class
        declares (:func:`spec_aliases`); values are read as bool, int, float
        or str.

    Returns
    -------
    name : str
    options : dict
        ``{set_params name: value}``.

    Examples
    --------
    >>> parse_strategy("allsh:divergence=alpha,alpha=-0.5")
    ('allsh', {'divergence': 'alpha', 'alpha': -0.5})
    >>> parse_strategy("allsh-wca:p=0.5")
    ('allsh-wca', {'augmenter__p': 0.5})
    """
    if not isinstance(spec, str) or not spec:
        raise TypeError(
            f"A strategy spec must be a non-empty str. Got {spec!r} instead."
        )
    name, _, rest = spec.partition(":")
    name = name.strip()
    if name not in PRESETS:
        raise ValueError(
            f"Unknown strategy {name!r} in {spec!r}. Known strategies: {list(PRESETS)}."
        )
    cls = PRESETS[name].cls
    accepted = _spec_parameters(cls)
    aliases = spec_aliases(cls)
    options = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(
                f"Strategy option {part!r} in {spec!r} must be written key=value."
            )
        key = key.strip()
        param = aliases.get(key, key)
        if param not in accepted:
            allowed = list(accepted) or "none"
            raise ValueError(
                f"Strategy {name!r} has no option {key!r} (in {spec!r}). Its "
                f"options: {allowed}."
            )
        options[param] = _parse_value(value.strip())
    return name, options


def canonical_strategy(spec):
    """Return the spec with its options sorted (the key of a run).

    Options are written with the short name their class declares
    (:func:`spec_aliases`), else their ``set_params`` name: the spelling
    of run ids and table rows since before the long names were accepted.

    Examples
    --------
    >>> canonical_strategy("allsh:divergence=alpha,alpha=-0.5")
    'allsh:alpha=-0.5,divergence=alpha'
    >>> canonical_strategy("allsh:n_augmentations=4")
    'allsh:K=4'
    """
    name, options = parse_strategy(spec)
    if not options:
        return name
    short = _written_names(PRESETS[name].cls)
    written = {short.get(param, param): value for param, value in options.items()}
    return name + ":" + ",".join(f"{key}={written[key]}" for key in sorted(written))


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

#: ALLSH's ``balance`` from a spec's value (``balanced=true`` is ``"pool"``).
_BALANCE = {True: "pool", "pool": "pool", "uniform": "uniform", False: None}


def build_strategy(
    spec, *, embedding=None, seed=0, augmentation_cache=None, cache_dir=None
):
    """Build the query strategy of a spec.

    The spec's name is a preset (:data:`PRESETS`); its options
    (:func:`parse_strategy`) are ``set_params`` values, checked by the
    strategy itself. ``allsh`` options: ``divergence`` (kl, jsd, alpha,
    reverse_kl), ``alpha`` (its order), ``n_augmentations`` or ``K``
    (copies), ``worst_case``, ``augmenter__p`` or ``p`` (the TF-IDF
    augmenter's replacement rate), ``augmenter__tokenizer``,
    ``augmenter__replace_punctuation``, ``augmenter__joint_pairs`` (or
    ``tokenizer``, ``replace_punctuation``, ``joint_pairs``: their
    departures from UDA's procedure, see
    :class:`~allsh_sklearn.augment.TfidfAugmenter`), ``augmenter``
    (``tfidf``, ``backtranslation`` (Apertium) or ``synonym`` (WordNet,
    p=0.1)), ``balance`` or ``balanced`` (class-balanced top-b: ``true`` or
    ``pool`` for shares proportional to the predicted classes of the pool,
    ``uniform`` for equal shares), ``score``, ``batch``, ``sensitivity``,
    ``draw_copies`` (``once`` or ``per_query``), ``beta`` and
    ``embedding_kind`` (ALLSH's parameters of the same names). ``cal``:
    ``n_neighbors`` or ``k`` neighbours.

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
    written = _written_names(preset.cls)
    accepted = preset.cls().get_params(deep=False)
    params = {"embedding": embedding} if "embedding" in accepted else {}
    if "augmenter" in accepted:
        choice = options.pop("augmenter", "tfidf")
        if choice not in AUGMENTERS:
            raise ValueError(
                f"The 'augmenter' option of {spec!r} must be one of "
                f"{list(AUGMENTERS)}. Got {choice!r} instead."
            )
        tfidf_only = [key for key in options if key.startswith("augmenter__")]
        if choice != "tfidf" and tfidf_only:
            option = written.get(tfidf_only[0], tfidf_only[0])
            raise ValueError(
                f"Option {option!r} is for the TF-IDF augmenter (in {spec!r})."
            )
        params.update(
            augmenter=AUGMENTERS[choice](seed, cache_dir),
            cache=augmentation_cache,
            random_state=seed,
        )
    if "balance" in options:
        balanced = options.pop("balance")
        if balanced not in _BALANCE:
            raise ValueError(
                f"The {written.get('balance', 'balance')!r} option of {spec!r} "
                "must be true, false, 'pool' or 'uniform'. Got "
                f"{balanced!r} instead."
            )
        params["balance"] = _BALANCE[balanced]
    params.update(options)
    strategy = preset.build(**params)
    strategy._validate_params()  # the strategy's own checks, before any work
    augmenter = params.get("augmenter")
    if hasattr(augmenter, "_validate_params"):
        augmenter._validate_params()  # e.g. tokenizer=..., before any work
    return strategy
