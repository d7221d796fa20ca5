"""The paper's experimental settings, tasks and query strategies, by name.

A *task* is a pool and its evaluation sets (``"sst2"``, ``"sst2->imdb"``,
``"sst2-imbalanced"``); a *setting* is one of the paper's tables: tasks,
budgets, strategies, which evaluation set is reported and the paper's
numbers. Strategies are written as specs, ``name`` or
``name:key=value,key=value`` (``"allsh:divergence=alpha,alpha=-0.5"``), and
built by :func:`allsh_sklearn.presets.build_strategy`.

Data splits (all fixed, independent of the active learning seed):

- SST-2, IMDB, AG News: the pool is the ``train`` split, the test set the
  ``test`` split (SST-2's ``test`` is the GLUE dev set, as in the paper).
- QNLI and QQP: only the GLUE dev split is available offline; it is split
  80/20 into pool and test, stratified, with ``random_state=0``.
- TwitterPPDB: its ``test`` split is QQP's out-of-domain test set.
- ``--pool-size`` subsamples the pool and ``--test-size`` each evaluation
  set, uniformly with ``random_state=0``.
- Imbalanced pools (Table 5): class 0 (negative; World for AG News) is kept
  with probability 0.1, the other classes entirely (``random_state=0``),
  before any ``--pool-size`` subsampling; test sets are unchanged.
"""

from dataclasses import dataclass, field

# The strategy specs live in allsh_sklearn.presets (imported here too for
# scripts that import them from this module).
from ..presets import (  # noqa: F401
    STRATEGIES,
    build_strategy,
    canonical_strategy,
    parse_strategy,
    preset_label,
    uses_consistency,
)

__all__ = ["SETTINGS", "TASKS", "Setting", "Task", "paper_row", "strategy_label"]


@dataclass(frozen=True)
class Task:
    """A pool and its evaluation sets.

    Parameters
    ----------
    name : str
        The task's name.
    dataset : str
        The dataset of the pool.
    pool_split : str
        Its split.
    evaluation : tuple of (str, str, str)
        ``(label, dataset, split)`` of each evaluation set; label ``"test"`` is
        the in-domain test set, ``"ood"`` an out-of-domain one.
    held_out : float or None, default=None
        Split ``pool_split`` into pool and this fraction of test (QNLI, QQP).
    class_rates : tuple of (int, float) or None, default=None
        Keep each listed class of the pool with this probability.
    max_length : int, default=128
        Transformer truncation (the paper's 128; 256 for IMDB).
    pool_name : str or None, default=None
        The task whose pool this task shares (``"sst2"`` for
        ``"sst2->imdb"``); None is the task itself. Tasks sharing a pool share
        their initial labeled sets, augmented copies and cached embeddings.
    """

    name: str
    dataset: str
    pool_split: str
    evaluation: tuple
    held_out: float | None = None
    class_rates: tuple | None = None
    max_length: int = 128
    pool_name: str | None = None

    @property
    def pool(self):
        """The name that identifies this task's pool."""
        return self.pool_name or self.name


def _in_domain(name, dataset, held_out=None, max_length=128, pool_split="train"):
    split = pool_split if held_out else "test"
    return Task(
        name,
        dataset,
        pool_split,
        (("test", dataset, split),),
        held_out,
        None,
        max_length,
    )


TASKS = {
    "sst2": _in_domain("sst2", "sst2"),
    "imdb": _in_domain("imdb", "imdb", max_length=256),
    "ag_news": _in_domain("ag_news", "ag_news"),
    "trec": _in_domain("trec", "trec"),
    "qnli": _in_domain("qnli", "qnli", held_out=0.2, pool_split="dev"),
    "qqp": _in_domain("qqp", "qqp", held_out=0.2, pool_split="dev"),
    "sst2->imdb": Task(
        "sst2->imdb",
        "sst2",
        "train",
        (("ood", "imdb", "test"), ("test", "sst2", "test")),
    ),
    "imdb->sst2": Task(
        "imdb->sst2",
        "imdb",
        "train",
        (("ood", "sst2", "test"), ("test", "imdb", "test")),
        max_length=256,
        pool_name="imdb",
    ),
    "qqp->twitter_ppdb": Task(
        "qqp->twitter_ppdb",
        "qqp",
        "dev",
        (("ood", "twitter_ppdb", "test"), ("test", "qqp", "dev")),
        held_out=0.2,
        pool_name="qqp",
    ),
    **{
        f"{dataset}-imbalanced": Task(
            f"{dataset}-imbalanced",
            dataset,
            "train",
            (("test", dataset, "test"),),
            class_rates=((0, 0.1),),
            max_length=256 if dataset == "imdb" else 128,
        )
        for dataset in ("sst2", "imdb", "ag_news")
    },
}


@dataclass(frozen=True)
class Setting:
    """One of the paper's tables.

    Parameters
    ----------
    name : str
    table : str
        The paper's table, e.g. ``"Table 2"``.
    description : str
    tasks : tuple of str
    budgets : tuple of float
        Fractions of the pool at which accuracy is reported.
    strategies : tuple of str
        Strategy specs, in the table's row order.
    metric : str, default="test"
        The evaluation set reported (``"ood"`` for Table 3).
    labels : dict, default={}
        Row label of a spec when it differs from :func:`strategy_label`.
    paper : dict, default={}
        ``{task: {row label: [value per budget]}}``, the paper's numbers.
    paper_rows : dict, default={}
        The paper row of the same configuration as a spec, when it is not
        the spec's row label: ``{spec: paper row label}``, or ``{spec:
        None}`` for a spec the paper did not run. Tables 5, 7 and 8 need it:
        their rows are ALLSH + CL, so the paper's "Ours" pairs with our
        ``allsh-cl`` and plain ``allsh`` has no paper number. See
        :func:`paper_row`.
    batch_size : int or None, default=None
        Overrides the runner's batch size (Table 13 uses 100).
    n_queries : int or None, default=None
        Stop after this many queries instead of at a budget (Table 13).
    """

    name: str
    table: str
    description: str
    tasks: tuple
    budgets: tuple
    strategies: tuple
    metric: str = "test"
    labels: dict = field(default_factory=dict)
    paper: dict = field(default_factory=dict)
    paper_rows: dict = field(default_factory=dict)
    batch_size: int | None = None
    n_queries: int | None = None


_ROWS = ("Random", "Entropy", "BADGE", "CAL", "Ours", "+ WCA", "+ CL")


def _rows(values, rows=_ROWS):
    return dict(zip(rows, values, strict=True))


_TABLE2 = {
    "sst2": _rows(
        [
            [84.11, 86.53, 88.05],
            [84.53, 87.82, 89.45],
            [84.32, 87.11, 88.72],
            [84.95, 87.34, 89.16],
            [85.97, 88.61, 90.05],
            [86.12, 88.56, 90.14],
            [86.37, 88.79, 90.18],
        ]
    ),
    "imdb": _rows(
        [
            [65.90, 84.22, 86.25],
            [68.32, 84.51, 87.29],
            [67.80, 84.46, 87.17],
            [73.55, 84.72, 87.27],
            [75.23, 85.82, 87.91],
            [75.17, 85.79, 87.83],
            [77.57, 86.02, 88.43],
        ]
    ),
    "ag_news": _rows(
        [
            [85.43, 90.05, 91.93],
            [86.48, 92.21, 92.65],
            [86.81, 90.72, 92.41],
            [87.12, 92.13, 92.82],
            [88.42, 92.86, 93.13],
            [88.50, 92.84, 93.22],
            [88.57, 92.94, 93.20],
        ]
    ),
    "qnli": _rows(
        [
            [76.33, 83.61, 84.63],
            [77.95, 83.83, 84.75],
            [77.74, 84.90, 84.32],
            [78.53, 85.14, 84.99],
            [78.44, 84.93, 84.87],
            [78.47, 85.12, 84.91],
            [78.92, 85.06, 84.96],
        ]
    ),
    "qqp": _rows(
        [
            [77.32, 81.73, 84.22],
            [78.47, 81.92, 86.03],
            [78.02, 81.63, 84.06],
            [78.23, 82.52, 84.25],
            [78.97, 82.43, 84.77],
            [78.90, 82.55, 84.83],
            [79.32, 82.91, 84.95],
        ]
    ),
}

_TABLE3 = {
    "sst2->imdb": _rows(
        [[76.31], [75.88], [75.23], [78.88], [80.54], [80.72], [80.91]]
    ),
    "imdb->sst2": _rows(
        [[82.01], [85.32], [85.11], [84.92], [86.97], [86.99], [87.07]]
    ),
    "qqp->twitter_ppdb": _rows(
        [[85.57], [85.18], [85.39], [86.14], [86.03], [86.07], [86.18]]
    ),
}

_ROWS5 = ("Random", "Entropy", "CAL", "Ours")
_TABLE5 = {
    "sst2-imbalanced": _rows([[79.45], [81.71], [83.23], [85.48]], _ROWS5),
    "imdb-imbalanced": _rows([[62.33], [65.69], [72.75], [74.48]], _ROWS5),
    "ag_news-imbalanced": _rows([[82.95], [82.79], [83.27], [84.11]], _ROWS5),
}

_ROWS6 = ("Backtranslation", "TF-IDF", "+ WCA")
_TABLE6 = {
    "sst2": _rows([[86.01], [85.97], [86.37]], _ROWS6),
    "imdb": _rows([[75.12], [75.23], [75.17]], _ROWS6),
    "ag_news": _rows([[88.39], [88.42], [88.50]], _ROWS6),
}

_ROWS7 = ("KL", "JSD", "α = -0.5", "α = 0.5")
_TABLE7 = {
    "sst2": _rows([[86.37], [86.25], [86.31], [86.39]], _ROWS7),
    "imdb": _rows([[77.57], [77.38], [77.42], [77.53]], _ROWS7),
    "ag_news": _rows([[88.57], [88.41], [88.43], [88.61]], _ROWS7),
}

_TABLE8 = {
    "sst2": _rows(
        [[64.64, 61.08], [67.88, 63.94], [73.81, 65.72], [76.45, 69.46]], _ROWS5
    ),
    "imdb": _rows(
        [[60.84, 73.86], [58.96, 71.32], [61.65, 74.15], [64.54, 75.88]], _ROWS5
    ),
}

#: Table 13: seconds per query on a V100, and their ratio to entropy's average.
PAPER_QUERY_TIME = {
    "Random": {"sst2": 0, "imdb": 0, "ag_news": 0, "avg": 0},
    "Entropy": {"sst2": 173, "imdb": 107, "ag_news": 402, "avg": 227},
    "BADGE": {"sst2": 25640, "imdb": 3816, "ag_news": 1961, "avg": 10303},
    "CAL": {"sst2": 708, "imdb": 273, "ag_news": 1284, "avg": 755},
    "Ours": {"sst2": 513, "imdb": 228, "ag_news": 881, "avg": 541},
    "+ WCA": {"sst2": 611, "imdb": 275, "ag_news": 1023, "avg": 636},
}

_MAIN = ("random", "entropy", "badge", "cal", "allsh", "allsh-wca", "allsh-cl")

# Section 5 of the paper (Tables 5, 7 and 8) reports ALLSH + CL as "Ours"
# (footnote 3 and Appendix A.2): its numbers pair with our allsh-cl rows.
_CL_IS_OURS = {"allsh": None, "allsh-cl": "Ours"}
_DIVERGENCES = {
    "": "KL",
    ":divergence=jsd": "JSD",
    ":alpha=-0.5,divergence=alpha": "α = -0.5",
    ":alpha=0.5,divergence=alpha": "α = 0.5",
}

SETTINGS = {
    "in-domain": Setting(
        "in-domain",
        "Table 2",
        "In-domain test accuracy at 1%, 5% and 10% of the pool labeled.",
        ("sst2", "imdb", "ag_news", "qnli", "qqp"),
        (0.01, 0.05, 0.10),
        _MAIN,
        paper=_TABLE2,
    ),
    "out-of-domain": Setting(
        "out-of-domain",
        "Table 3",
        "Out-of-domain test accuracy with 15% of the source pool labeled.",
        ("sst2->imdb", "imdb->sst2", "qqp->twitter_ppdb"),
        (0.15,),
        _MAIN,
        metric="ood",
        paper=_TABLE3,
    ),
    "imbalanced": Setting(
        "imbalanced",
        "Table 5",
        "Imbalanced pools (class 0 kept at rate 0.1), 1% budget. The paper's "
        "'Ours' is ALLSH + CL: its numbers sit beside our + CL row, and plain "
        "ALLSH (Ours) has no paper number.",
        ("sst2-imbalanced", "imdb-imbalanced", "ag_news-imbalanced"),
        (0.01,),
        ("random", "entropy", "cal", "allsh", "allsh-cl"),
        paper=_TABLE5,
        paper_rows=_CL_IS_OURS,
    ),
    "augmentation": Setting(
        "augmentation",
        "Table 6",
        "ALLSH with back-translation (Apertium eng-spa-eng here, WMT19 en-de "
        "in the paper), TF-IDF, and TF-IDF + WCA; 1% budget. WordNet synonym "
        "replacement is an extra row, not in the paper.",
        ("sst2", "imdb", "ag_news"),
        (0.01,),
        (
            "allsh:augmenter=backtranslation",
            "allsh",
            "allsh-wca",
            "allsh:augmenter=synonym",
        ),
        labels={
            "allsh:augmenter=backtranslation": "Backtranslation",
            "allsh": "TF-IDF",
            "allsh-wca": "+ WCA",
            "allsh:augmenter=synonym": "Synonyms (WordNet)",
        },
        paper=_TABLE6,
    ),
    "divergence": Setting(
        "divergence",
        "Table 7",
        "ALLSH with KL, JSD and alpha-divergences (alpha = -0.5, 0.5); 1% "
        "budget. The paper's rows are ALLSH + CL: its numbers sit beside our "
        "'+ CL' rows, and the plain ALLSH rows have no paper number.",
        ("sst2", "imdb", "ag_news"),
        (0.01,),
        tuple(f"allsh{options}" for options in _DIVERGENCES)
        + tuple(f"allsh-cl{options}" for options in _DIVERGENCES),
        labels={
            **{f"allsh{options}": label for options, label in _DIVERGENCES.items()},
            **{
                f"allsh-cl{options}": f"{label} + CL"
                for options, label in _DIVERGENCES.items()
            },
        },
        paper=_TABLE7,
        paper_rows={
            **{f"allsh{options}": None for options in _DIVERGENCES},
            **{f"allsh-cl{options}": label for options, label in _DIVERGENCES.items()},
        },
    ),
    "small-budget": Setting(
        "small-budget",
        "Table 8",
        "Very small budgets: 0.4% and 0.8% of the pool. The paper's 'Ours' "
        "is ALLSH + CL: its numbers sit beside our + CL row, and plain ALLSH "
        "(Ours) has no paper number.",
        ("sst2", "imdb"),
        (0.004, 0.008),
        ("random", "entropy", "cal", "allsh", "allsh-cl"),
        paper=_TABLE8,
        paper_rows=_CL_IS_OURS,
    ),
    "sensitivity": Setting(
        "sensitivity",
        "Analysis",
        "When does ALLSH help? Augmentation strength p, copies K (mean or "
        "worst case), divergence and class-balanced batches; 1% budget. Not a "
        "table of the paper.",
        ("sst2", "ag_news"),
        (0.01,),
        (
            "random",
            "entropy",
            "allsh",
            "allsh:p=0.1",
            "allsh:p=0.5",
            "allsh:K=4",
            "allsh-wca",
            "allsh:divergence=jsd",
            "allsh:balanced=pool",
            "allsh:balanced=uniform",
        ),
    ),
    "estimators": Setting(
        "estimators",
        "Analysis",
        "Issue 29: Algorithm 1 with its copy drawn at every query, and "
        "low-variance estimators of the local sensitivity over 8 copies (KL "
        "to the mean prediction, mutual information, variance) and a batch "
        "sampled in proportion to the score, beside the paper's ALLSH and "
        "WCA; 1% budget. Not a table of the paper.",
        ("sst2", "ag_news"),
        (0.01,),
        (
            "random",
            "allsh",
            "allsh-wca",
            "allsh-per-query",
            "allsh-mean-kl",
            "allsh-mi",
            "allsh-var",
            "allsh-stochastic",
        ),
    ),
    "query-time": Setting(
        "query-time",
        "Table 13",
        "Seconds per query (inference + selection), 100 items per query, 3 "
        "queries per run.",
        ("sst2", "imdb", "ag_news"),
        (),
        ("random", "entropy", "badge", "cal", "allsh", "allsh-wca"),
        batch_size=100,
        n_queries=3,
    ),
}

# Strategies -----------------------------------------------------------------


def strategy_label(spec, setting=None):
    """The row label of a spec in a table (the paper's, when it has one).

    The setting's own label of the spec (``setting.labels``), else the
    preset's (:func:`allsh_sklearn.presets.preset_label`) with the spec's
    options in brackets.

    Examples
    --------
    >>> strategy_label("allsh-wca")
    '+ WCA'
    >>> strategy_label("allsh:p=0.1")
    'Ours (p=0.1)'
    >>> strategy_label("allsh-copy-gradient:K=4")
    'Ours (copy gradient, K=4)'
    """
    spec = canonical_strategy(spec)
    if setting is not None and spec in setting.labels:
        return setting.labels[spec]
    name, _, options = spec.partition(":")  # options as run ids write them
    label = preset_label(name)
    if options:
        listed = ", ".join(options.split(","))
        if label.endswith(")"):  # one pair of brackets: "Ours (copy gradient, K=4)"
            label = f"{label[:-1]}, {listed})"
        else:
            label = f"{label} ({listed})"
    return label


def paper_row(spec, setting):
    """The label of the paper's row of the same configuration as ``spec``.

    Parameters
    ----------
    spec : str
        A strategy spec.
    setting : Setting

    Returns
    -------
    label : str or None
        A key of ``setting.paper[task]``, or None when the paper has no row
        of this configuration (plain ALLSH in Tables 5, 7 and 8, whose rows
        are ALLSH + CL).

    Examples
    --------
    >>> paper_row("allsh-cl", SETTINGS["imbalanced"])
    'Ours'
    >>> paper_row("allsh", SETTINGS["imbalanced"]) is None
    True
    >>> paper_row("allsh", SETTINGS["in-domain"])
    'Ours'
    >>> paper_row("allsh-cl:divergence=jsd", SETTINGS["divergence"])
    'JSD'
    """
    spec = canonical_strategy(spec)
    rows = {canonical_strategy(key): value for key, value in setting.paper_rows.items()}
    if spec in rows:
        return rows[spec]
    return strategy_label(spec, setting)
