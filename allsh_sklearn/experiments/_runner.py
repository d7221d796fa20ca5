"""The experiment runner: the paper's tables, resumable run by run.

A *run* is one active learning loop: a task (pool and evaluation sets), a
classifier, a strategy spec and a seed, with a pool size, an initial size, a
batch size and budgets. :class:`ExperimentRunner` runs the runs a setting
asks for and writes, in its output folder (a
:class:`~allsh_sklearn.loop.RunJournal`):

- ``iterations.jsonl``: one :class:`~allsh_sklearn.loop.IterationRecord`
  per finished iteration of every run, with its ``run_id``;
- ``runs.jsonl``: one line per finished run (its configuration, learning
  curve, accuracy at each budget, mean query times, class balance of the
  acquired labels);
- ``requests.jsonl``: which setting asked for which run (runs are shared
  between settings: Table 7's KL row is Table 2's ALLSH run);
- ``tables/*.md``, ``plots/*.png``: written by
  :func:`~allsh_sklearn.experiments.write_report`.

Killing the runner loses at most the iteration in progress: started again
with the same arguments, it skips finished runs and resumes an unfinished
one from its records; since every random choice is derived from the run's
identity and the iteration number, the results are those of an
uninterrupted run.

Seeds: the pool and test subsamples use ``random_state=0`` (fixed); the
initial labeled set of seed ``s`` is drawn from ``derive_seed(pool,
"initial", s)``, the same for every strategy (paired comparisons); queries
use ``derive_seed(run_id, "query", iteration)``, where the run id hashes the
whole configuration, budgets included (so random sampling to 1% and to
1%, 5%, 10% draw different streams; deterministic strategies give the same
values at a shared budget); the augmenter seed is fixed per pool, so every
strategy, seed and task on a pool shares the same augmented copies
(``"sst2->imdb"`` uses the pool, initial sets and copies of ``"sst2"``).
With ``copies_per_seed=True`` each seed draws its own copies instead (the
same for every strategy of that seed), so that the spread over seeds
includes the draw of the copies. A strategy with ``draw_copies=per_query``
draws them afresh at every query from that seed (Algorithm 1).

Run identity holds the procedure of the copies (issue 29): the record of a
run whose strategy augments has ``augmentation`` (the augmenter and every
parameter that changes its copies, tokenisation included) and ``copies``
(when they are drawn: ``per_pool``, ``per_seed``, ``per_query`` or
``per_seed_and_query``) in its configuration, so tables can group by them.
The run id hashes them where they differ from the procedure the spec meant
when runs were first recorded, so the ids of earlier runs are unchanged;
records written before (without the two keys) are given the procedure they
used when read (:func:`migrate_record`): UDA's TF-IDF copies, or, for the
428 ALLSH runs of 2026-11-25, the whitespace copies of the procedure before
UDA's, whose ids a UDA run of the same configuration no longer takes.

For tests, the environment variable ``ALLSH_EXPERIMENT_KILL_AFTER=N`` makes
the process SIGKILL itself right after its N-th iteration line is written.
"""

import functools
import hashlib
import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from ..augment import MemoryAugmentationCache, augment_with_cache
from ..datasets import load_dataset
from ..loop import (
    ActiveLearningLoop,
    PrintLog,
    RunJournal,
    derive_seed,
    initial_labeled_indices,
    plan_labeling,
    resolve_size,
    summarise_run,
)
from ..models._tiers import TIERS, make_tier
from ..presets import (
    SPEC_OPTIONS,
    build_strategy,
    canonical_strategy,
    parse_strategy,
    uses_consistency,
)
from ..utils import get_cache_home
from ..utils._validation import check_bool, check_one_of, take
from ._settings import SETTINGS, TASKS

__all__ = [
    "ExperimentRunner",
    "RunConfig",
    "budget_label",
    "copies_procedure",
    "load_task_data",
    "migrate_record",
    "run_experiment",
]

KILL_ENV = "ALLSH_EXPERIMENT_KILL_AFTER"


def budget_label(budget):
    """The column label of a budget: ``"1%"`` for 0.01, ``"600"`` for 600.

    Examples
    --------
    >>> budget_label(0.004), budget_label(0.1), budget_label(600)
    ('0.4%', '10%', '600')
    """
    if isinstance(budget, float):
        return f"{round(budget * 100, 6):g}%"
    return str(int(budget))


# The procedure of the copies, in run identity (issue 29) ---------------------

#: Augmenter parameters that change where or how fast copies are made, not
#: which (the seed is the run's: see ``copies``).
_NOT_PROCEDURE = ("random_state", "cache_dir", "device", "verbose")

#: The parameters each augmenter of a spec had when the procedure entered run
#: identity. A run whose augmenter has them (with the spec's own options)
#: hashes without its procedure, as every run did before; one whose augmenter
#: differs (a default changed since) hashes with it and never takes an
#: earlier run's id. Pinned on purpose: never update them with a default.
_REFERENCE_AUGMENTERS = {
    "tfidf": {
        "joint_pairs": True,
        "p": 0.3,
        "replace_punctuation": True,
        "tokenizer": "bert-basic",
    },
    "synonym": {
        "min_replacements": 1,
        "n_neighbors": 5,
        "p": 0.1,
        "source": "wordnet",
        "stop_words": "english",
        "vocabulary_size": 50000,
    },
    "backtranslation": {
        "backend": "apertium",
        "backward": None,
        "batch_size": None,
        "forward": None,
        "max_length": 256,
        "max_length_diff": 0.5,
        "min_chars": 10,
        "num_beams": 4,
        "sampling": True,
        "temperature": 0.9,
        "top_k": None,
    },
}

#: The TF-IDF procedure before UDA's became the default (commit de0a0c3,
#: 2026-12-01): words split at whitespace, punctuation kept, the two texts of
#: a pair augmented apart.
_WHITESPACE_TFIDF = {
    "joint_pairs": False,
    "replace_punctuation": False,
    "tokenizer": "whitespace",
}

#: When copies are drawn, from ``(ALLSH's draw_copies, copies_per_seed)``.
_COPIES = {
    ("once", False): "per_pool",
    ("once", True): "per_seed",
    ("per_query", False): "per_query",
    ("per_query", True): "per_seed_and_query",
}


def _describe_augmenter(name, params):
    """``"tfidf(joint_pairs=True,p=0.3,...)"``: an augmenter and its procedure."""
    listed = ",".join(
        f"{key}={params[key]}" for key in sorted(params) if key not in _NOT_PROCEDURE
    )
    return f"{name}({listed})"


@dataclass(frozen=True)
class _SpecProcedure:
    augmentation: str  # what this code draws
    reference: str  # what the spec meant when runs were first recorded
    whitespace: str  # the same with the TF-IDF procedure before UDA's
    draw: str  # the built strategy's draw_copies
    reference_draw: str  # the spec's own draw_copies, else "once"


@functools.lru_cache(maxsize=512)
def _spec_procedure(spec):
    """The copies' procedure of a canonical spec; None if it draws no copies."""
    built = build_strategy(spec)
    if "augmenter" not in built.get_params(deep=False):
        return None
    options = parse_strategy(spec)[1]
    name = options.get("augmenter", "tfidf")
    explicit = {
        SPEC_OPTIONS[key].split("__", 1)[1]: value
        for key, value in options.items()
        if SPEC_OPTIONS[key].startswith("augmenter__")
    }
    reference = {**_REFERENCE_AUGMENTERS[name], **explicit}
    whitespace = {**reference, **_WHITESPACE_TFIDF, **explicit}
    return _SpecProcedure(
        augmentation=_describe_augmenter(name, built.augmenter.get_params(deep=False)),
        reference=_describe_augmenter(name, reference),
        whitespace=_describe_augmenter(
            name, whitespace if name == "tfidf" else reference
        ),
        draw=built.draw_copies,
        reference_draw=options.get("draw_copies", "once"),
    )


def copies_procedure(strategy, copies_per_seed=False):
    """How a strategy spec's augmented copies are made and when they are drawn.

    Parameters
    ----------
    strategy : str
        A strategy spec.
    copies_per_seed : bool, default=False
        The runner's option: each seed draws its own copies.

    Returns
    -------
    procedure : dict or None
        ``{"augmentation": ..., "copies": ...}`` (see :class:`RunConfig`), or
        None for a strategy without copies.

    Examples
    --------
    >>> copies_procedure("allsh:p=0.5")["augmentation"]
    'tfidf(joint_pairs=True,p=0.5,replace_punctuation=True,tokenizer=bert-basic)'
    >>> copies_procedure("allsh-per-query", copies_per_seed=True)["copies"]
    'per_seed_and_query'
    >>> copies_procedure("badge") is None
    True
    """
    spec = _spec_procedure(canonical_strategy(strategy))
    if spec is None:
        return None
    return {
        "augmentation": spec.augmentation,
        "copies": _COPIES[(spec.draw, bool(copies_per_seed))],
    }


def migrate_record(record):
    """A run record with the procedure of its copies in its configuration.

    Records written before issue 29 have no ``augmentation`` and ``copies``
    in their configuration; they are given the procedure they used: copies
    drawn once per pool (or per seed, with ``copies_per_seed``), made by the
    spec's augmenter with UDA's TF-IDF procedure, except for the ALLSH runs
    of 2026-11-25 (listed by id), made with the whitespace procedure before
    it. Records that have them, and runs without copies, are returned as
    they are. Their run id is never changed:
    ``RunConfig.from_record(record).run_id == record["run_id"]``.

    Parameters
    ----------
    record : dict
        A line of ``runs.jsonl`` (or of ``requests.jsonl``).

    Returns
    -------
    record : dict
        A new dict where something was filled in, else ``record`` itself.
    """
    config = record["config"]
    if "augmentation" in config or "copies" in config:
        return record
    try:
        spec = _spec_procedure(canonical_strategy(config["strategy"]))
    except (TypeError, ValueError):
        return record  # a spec this version cannot read: left as written
    if spec is None:
        return record
    legacy = record["run_id"].rsplit("|", 1)[-1] in _WHITESPACE_RUNS
    copies = _COPIES[(spec.reference_draw, bool(config.get("copies_per_seed")))]
    config = {
        **config,
        "augmentation": spec.whitespace if legacy else spec.reference,
        "copies": copies,
    }
    return {**record, "config": config}


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines the result of one run.

    Parameters
    ----------
    task : str
    classifier : str
    strategy : str
        A canonical strategy spec.
    seed : int
    pool_size : int or None
    test_size : int or None
    initial_size : int or float
    batch_size : int
    budgets : tuple
        Fractions (float) or counts (int), sorted.
    n_queries : int or None
        When set, the run makes this many queries and ignores ``budgets``.
    minilm_train_steps : int or None
        Training steps of the fine-tuned classifier (``"minilm"`` only).
    copies_per_seed : bool, default=False
        Each seed draws its own augmented copies (False: one draw per pool).
        Left out of :meth:`as_dict` when False, so the ids of runs made
        before it existed are unchanged.
    augmentation : str or None, default=None
        For a strategy with augmented copies, the augmenter and every
        parameter that changes its copies (tokenisation included), e.g.
        ``"tfidf(joint_pairs=True,p=0.3,replace_punctuation=True,tokenizer=bert-basic)"``;
        None: the one this version of the code builds for ``strategy``.
    copies : str or None, default=None
        When the copies are drawn: ``"per_pool"``, ``"per_seed"``,
        ``"per_query"`` or ``"per_seed_and_query"``; None: from
        ``copies_per_seed`` and the strategy's ``draw_copies``.

    Notes
    -----
    The run id hashes :meth:`identity`: :meth:`as_dict` without
    ``augmentation`` and ``copies`` where they are the procedure the spec
    meant when runs were first recorded (UDA's TF-IDF copies drawn once per
    pool or seed; the whitespace copies for the ALLSH runs of 2026-11-25),
    so the ids of runs recorded before are unchanged and two procedures
    never share an id.
    """

    task: str
    classifier: str
    strategy: str
    seed: int
    pool_size: int | None
    test_size: int | None
    initial_size: float | int
    batch_size: int
    budgets: tuple
    n_queries: int | None = None
    minilm_train_steps: int | None = None
    copies_per_seed: bool = False
    augmentation: str | None = None
    copies: str | None = None

    @classmethod
    def from_record(cls, record):
        """The configuration of a ``runs.jsonl`` record (see :func:`migrate_record`).

        Parameters
        ----------
        record : dict

        Returns
        -------
        config : RunConfig
        """
        config = dict(migrate_record(record)["config"])
        config["budgets"] = tuple(config["budgets"])
        return cls(**config)

    def procedure(self):
        """The copies' ``{"augmentation": ..., "copies": ...}``, None without copies."""
        resolved = copies_procedure(self.strategy, self.copies_per_seed)
        if resolved is None:
            if self.augmentation is None and self.copies is None:
                return None
            resolved = {"augmentation": None, "copies": None}
        if self.augmentation is not None:
            resolved["augmentation"] = self.augmentation
        if self.copies is not None:
            resolved["copies"] = self.copies
        return resolved

    def as_dict(self):
        """The configuration as a JSON-ready dict, with the copies' procedure."""
        data = asdict(self)
        data["budgets"] = list(self.budgets)
        if not self.copies_per_seed:
            del data["copies_per_seed"]  # the default: run ids stay as before
        del data["augmentation"], data["copies"]
        procedure = self.procedure()
        if procedure is not None:  # strategies without copies: as before
            data.update(procedure)
        return data

    def identity(self):
        """What the run id hashes: :meth:`as_dict` less the reference procedure."""
        data = self.as_dict()
        augmentation = data.pop("augmentation", None)
        copies = data.pop("copies", None)
        spec = _spec_procedure(canonical_strategy(self.strategy))
        if spec is None:
            neutral = (None, None)
        else:
            legacy = _digest(data) in _WHITESPACE_RUNS
            neutral = (
                spec.whitespace if legacy else spec.reference,
                _COPIES[(spec.reference_draw, self.copies_per_seed)],
            )
        if augmentation != neutral[0]:
            data["augmentation"] = augmentation
        if copies != neutral[1]:
            data["copies"] = copies
        return data

    @property
    def digest(self):
        """A short hash of the configuration (:meth:`identity`)."""
        return _digest(self.identity())

    @property
    def run_id(self):
        """A readable unique name of the run."""
        return (
            f"{self.task}|{self.classifier}|{self.strategy}|seed={self.seed}|"
            f"{self.digest}"
        )

    @property
    def pool_key(self):
        """What the initial labeled set depends on (not the strategy)."""
        pool = TASKS[self.task].pool if self.task in TASKS else self.task
        return f"{pool}|pool={self.pool_size}|initial={self.initial_size}"


def _digest(data):
    payload = json.dumps(data, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


def _subsample(n, size, seed):
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(np.random.RandomState(seed).permutation(n)[:size])


def load_task_data(task, data_home=None, pool_size=None, test_size=None):
    """Load a task's pool and evaluation sets (see :mod:`._settings` for splits).

    Parameters
    ----------
    task : str or Task
    data_home : str, path or None, default=None
    pool_size : int or None, default=None
        Subsample the pool to this many texts (``random_state=0``).
    test_size : int or None, default=None
        Subsample each evaluation set to this many texts (``random_state=1``).

    Returns
    -------
    data : dict
        ``X_pool``, ``y_pool``, ``evaluation`` (``{label: (X, y)}``),
        ``classes`` and ``sizes``.
    """
    if isinstance(task, str):
        task = TASKS[check_one_of(task, "task", TASKS)]
    X, y = load_dataset(
        task.dataset, task.pool_split, data_home=data_home, return_X_y=True
    )
    X = list(X)
    held_out = None
    if task.held_out:
        positions = np.arange(len(y))
        pool_positions, held_out = train_test_split(
            positions, test_size=task.held_out, stratify=y, random_state=0
        )
        held_out, pool_positions = np.sort(held_out), np.sort(pool_positions)
        X_held, y_held = take(X, held_out), y[held_out]
        X, y = take(X, pool_positions), y[pool_positions]
    if task.class_rates:
        draws = np.random.RandomState(0).rand(len(y))
        keep = np.ones(len(y), dtype=bool)
        for label, rate in task.class_rates:
            keep &= ~((y == label) & (draws >= rate))
        kept = np.flatnonzero(keep)
        X, y = take(X, kept), y[kept]
    chosen = _subsample(len(y), pool_size, 0)
    X_pool, y_pool = take(X, chosen), y[chosen]
    evaluation = {}
    for label, dataset, split in task.evaluation:
        if (
            held_out is not None
            and dataset == task.dataset
            and split == task.pool_split
        ):
            X_eval, y_eval = X_held, y_held
        else:
            X_eval, y_eval = load_dataset(
                dataset, split, data_home=data_home, return_X_y=True
            )
            X_eval = list(X_eval)
        chosen = _subsample(len(y_eval), test_size, 1)
        evaluation[label] = (take(X_eval, chosen), np.asarray(y_eval)[chosen])
    sizes = {"pool": len(y_pool), **{k: len(v[1]) for k, v in evaluation.items()}}
    return {
        "task": task,
        "X_pool": X_pool,
        "y_pool": y_pool,
        "evaluation": evaluation,
        "classes": np.unique(y_pool),
        "sizes": sizes,
    }


class ExperimentRunner:
    """Run the paper's settings resumably and write their results.

    Parameters
    ----------
    output_dir : str or path-like, default="results"
        Where the JSON lines, tables and plots go.
    data_home : str, path or None, default=None
        The datasets (see :func:`allsh_sklearn.datasets.get_data_home`).
    cache_dir : str, path or None, default=None
        Embedding and back-translation caches; None is
        :func:`~allsh_sklearn.utils.get_cache_home`.
    progress : bool, default=False
        tqdm bars over runs and while encoding texts.
    verbose : int, default=1
        0 silent, 1 one line per run, 2 one line per iteration.
    blas_threads : int or None, default=1
        Threads of BLAS/OpenMP (threadpoolctl) while running; one thread is
        many times faster for the small logistic regressions of active
        learning on a busy machine. None leaves the libraries' default.

    Examples
    --------
    >>> from allsh_sklearn.experiments import ExperimentRunner
    >>> runner = ExperimentRunner("results", data_home="../shared/data")
    >>> runner.run("in-domain", tasks=["sst2"], strategies=["random", "allsh"],
    ...            budgets=[0.01], seeds=[0, 1])  # doctest: +SKIP
    """

    def __init__(
        self,
        output_dir="results",
        *,
        data_home=None,
        cache_dir=None,
        progress=False,
        verbose=1,
        blas_threads=1,
    ):
        self.output_dir = Path(output_dir)
        self.data_home = data_home
        self.cache_dir = cache_dir
        self.progress = progress
        self.verbose = verbose
        self.blas_threads = blas_threads
        self._data = {}
        self._tiers = {}
        self._current_task = None
        self._augmentation_cache = None
        self._iterations_written = 0
        self.journal = RunJournal(self.output_dir)

    def _cache_dir(self):
        return get_cache_home(self.cache_dir)

    def _log(self, level, message):
        if self.verbose >= level:
            print(message, flush=True)

    # Planning ---------------------------------------------------------------

    def plan(
        self,
        setting="in-domain",
        *,
        tasks=None,
        strategies=None,
        budgets=None,
        seeds=(0, 1, 2, 3, 4),
        classifier="tfidf-lr",
        pool_size=None,
        test_size=None,
        initial_size=0.001,
        batch_size=None,
        n_queries=None,
        minilm_train_steps=None,
        copies_per_seed=False,
    ):
        """List the runs a setting asks for (nothing is run).

        Parameters are those of :meth:`run`.

        Returns
        -------
        configs : list of RunConfig
        """
        if setting not in SETTINGS:
            raise ValueError(f"Unknown setting {setting!r}: one of {list(SETTINGS)}.")
        check_bool(copies_per_seed, "copies_per_seed")
        spec = SETTINGS[setting]
        tier = TIERS[check_one_of(classifier, "classifier", TIERS)][0]
        tasks = list(spec.tasks if tasks is None else tasks)
        for task in tasks:
            check_one_of(task, "task", TASKS)
        explicit = strategies is not None
        strategies = [
            canonical_strategy(s)
            for s in (spec.strategies if strategies is None else strategies)
        ]
        if not tier.supports_consistency:
            dropped = [s for s in strategies if uses_consistency(s)]
            if dropped and explicit:
                raise ValueError(
                    f"{dropped} train the classifier with the consistency loss "
                    "(ALLSH + CL), which needs classifier='minilm'. Got "
                    f"classifier={classifier!r}."
                )
            if dropped:
                self._log(
                    1,
                    f"note: {', '.join(dropped)} skipped: ALLSH + CL needs "
                    "--classifier minilm.",
                )
            strategies = [s for s in strategies if not uses_consistency(s)]
        budgets = tuple(spec.budgets if budgets is None else budgets)
        n_queries = spec.n_queries if n_queries is None else n_queries
        if not budgets and n_queries is None:
            raise ValueError(
                "Give budgets or n_queries: the run needs a stopping point."
            )
        for budget in budgets:
            resolve_size(budget, 10**9, "budgets", owner="ExperimentRunner")
        budgets = tuple(sorted(budgets, key=lambda b: (isinstance(b, int), b)))
        common = dict(
            classifier=classifier,
            pool_size=pool_size,
            test_size=test_size,
            initial_size=initial_size,
            batch_size=int(batch_size or spec.batch_size or 50),
            budgets=() if n_queries is not None else budgets,
            n_queries=n_queries,
            minilm_train_steps=(
                (minilm_train_steps or tier.default_train_steps)
                if tier.fine_tuned
                else None
            ),
            copies_per_seed=bool(copies_per_seed),
        )
        procedures = {
            strategy: copies_procedure(strategy, common["copies_per_seed"]) or {}
            for strategy in strategies
        }
        return [
            RunConfig(
                task=task,
                strategy=strategy,
                seed=int(seed),
                **common,
                **procedures[strategy],
            )
            for task in tasks
            for strategy in strategies
            for seed in seeds
        ]

    # Running ----------------------------------------------------------------

    def run(self, setting="in-domain", **kwargs):
        """Run (or resume) every run of a setting; return their records.

        Parameters
        ----------
        setting : str, default="in-domain"
            A name of :data:`~allsh_sklearn.experiments.SETTINGS`.
        tasks : list of str or None, default=None
            Override the setting's tasks (datasets).
        strategies : list of str or None, default=None
            Override its strategy specs.
        budgets : list of float or int or None, default=None
            Override its budgets (fractions of the pool, or counts).
        seeds : sequence of int, default=(0, 1, 2, 3, 4)
        classifier : str, default="tfidf-lr"
            A name of :data:`CLASSIFIERS` (``"tfidf-lr"``, ``"minilm-frozen"``,
            ``"minilm"`` or a class-weighted ``"...-balanced"`` variant).
        pool_size : int or None, default=None
            Subsample the pool (fixed seed); None keeps it whole.
        test_size : int or None, default=None
            Subsample each evaluation set (fixed seed).
        initial_size : int or float, default=0.001
            The initial random labeled set (count or fraction of the pool).
        batch_size : int or None, default=None
            Items per query; None is the setting's (50, or 100 for Table 13).
        n_queries : int or None, default=None
            Stop after this many queries (the setting's for Table 13).
        minilm_train_steps : int or None, default=None
            Training steps per fit of a fine-tuned classifier; None is the
            tier's own (100 for ``"minilm"``, the paper's 200 for
            ``"minilm-fast"``).
        copies_per_seed : bool, default=False
            Draw the augmented copies per seed (every strategy of a seed
            shares them) instead of once per pool. The copies' embeddings
            are then computed (and cached) once per seed.

        Returns
        -------
        records : list of dict
            The run records (as in ``runs.jsonl``) of this setting's runs
            that are finished (runs locked by another process are missing).
        """
        configs = self.plan(setting, **kwargs)
        if self.blas_threads is None:
            return self._run(setting, configs)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.blas_threads):
            return self._run(setting, configs)

    def _finished(self):
        """The finished runs by id, with their procedure (:func:`migrate_record`)."""
        return {
            run_id: migrate_record(record)
            for run_id, record in self.journal.finished().items()
        }

    def _run(self, setting, configs):
        done = self._finished()
        requested = {(r["setting"], r["run_id"]) for r in self.journal.requests.read()}
        for config in configs:
            if (setting, config.run_id) not in requested:
                self.journal.requests.append(
                    {
                        "setting": setting,
                        "run_id": config.run_id,
                        "config": config.as_dict(),
                    }
                )
        todo = [config for config in configs if config.run_id not in done]
        self._log(
            1,
            f"{setting}: {len(configs)} runs, {len(configs) - len(todo)} already "
            f"done, {len(todo)} to do -> {self.output_dir}",
        )
        iterator = todo
        if self.progress:
            from tqdm.auto import tqdm

            iterator = tqdm(todo, desc=setting, unit="run")
        warmed = set()
        for number, config in enumerate(iterator, start=1):
            self._forget_other_tasks(config)
            data = self._task_data(config)
            if self._tier(config, data).encoder() is not None:
                key = (
                    config.task,
                    config.pool_size,
                    config.test_size,
                    self._augmenter_seed(config),
                )
                if key not in warmed:
                    self.warm_embeddings(
                        config,
                        [
                            c.strategy
                            for c in todo
                            if c.task == config.task
                            and self._augmenter_seed(c) == key[-1]
                        ],
                    )
                    warmed.add(key)
            started = time.perf_counter()
            record = self._run_one(config, data)
            if record is None:
                self._log(
                    1,
                    f"[{number}/{len(todo)}] {config.run_id}: locked by another "
                    "process, skipped",
                )
                continue
            done[config.run_id] = record
            at = ", ".join(
                f"{label} {scores[SETTINGS[setting].metric]:.4f}"
                for label, scores in record["at_budget"].items()
            )
            self._log(
                1,
                f"[{number}/{len(todo)}] {config.task} {config.classifier} "
                f"{config.strategy} seed={config.seed}: {at or 'done'} "
                f"({record['n_queries']} queries, "
                f"{time.perf_counter() - started:.1f}s)",
            )
        return [done[c.run_id] for c in configs if c.run_id in done]

    def _task_data(self, config):
        key = (config.task, config.pool_size, config.test_size)
        if key not in self._data:
            self._data[key] = load_task_data(
                config.task, self.data_home, config.pool_size, config.test_size
            )
        return self._data[key]

    def _forget_other_tasks(self, config):
        """Free the data, features and copies of the previous task."""
        key = (config.task, config.pool_size, config.test_size)
        if self._current_task not in (None, key):
            self._data.clear()
            self._tiers.clear()
            self._augmentation_cache = None
        self._current_task = key

    def _tier(self, config, data):
        """The classifier tier of a run, prepared once per pool."""
        key = (
            config.task,
            config.pool_size,
            config.classifier,
            config.minilm_train_steps,
        )
        if key not in self._tiers:
            self._tiers[key] = make_tier(
                config.classifier,
                cache_dir=self._cache_dir(),
                max_length=data["task"].max_length,
                train_steps=config.minilm_train_steps,
            ).prepare(data["X_pool"])
        return self._tiers[key]

    def _shared_augmentation_cache(self):
        if self._augmentation_cache is None:
            self._augmentation_cache = MemoryAugmentationCache()
        return self._augmentation_cache

    def _augmenter_seed(self, config):
        # Fixed per pool: every strategy, seed and task on this pool shares
        # the same copies (and their cached embeddings); with copies_per_seed,
        # every strategy of a seed.
        pool = TASKS[config.task].pool
        if config.copies_per_seed:
            return derive_seed(pool, config.pool_size, "augmenter", config.seed)
        return derive_seed(pool, config.pool_size, "augmenter")

    def warm_embeddings(self, config, strategies=()):
        """Encode the pool, evaluation sets and augmented copies once (cached).

        Parameters
        ----------
        config : RunConfig
            A ``minilm-frozen`` run of the task.
        strategies : sequence of str, default=()
            The specs whose augmented copies will be needed.

        Returns
        -------
        n_encoded : int
            Texts that went through the model (the others were cached).
        """
        data = self._task_data(config)
        encoder = self._tier(config, data).encoder()
        encoder.set_params(progress_bar=self.progress)
        started = time.perf_counter()
        for X in [data["X_pool"], *(X for X, _ in data["evaluation"].values())]:
            encoder.transform(X)
        plans = {}  # augmentation -> (an ALLSH strategy, the most copies asked)
        for spec in strategies:
            procedure = copies_procedure(spec)
            if procedure is None or procedure["copies"] != "per_pool":
                continue  # no copies, or a fresh draw per query: not known yet
            strategy = build_strategy(
                spec,
                seed=self._augmenter_seed(config),
                augmentation_cache=self._shared_augmentation_cache(),
                cache_dir=self._cache_dir(),
            )
            key = procedure["augmentation"]
            if key not in plans or plans[key][1] < strategy.n_augmentations:
                plans[key] = (strategy, strategy.n_augmentations)
        for strategy, n_copies in plans.values():
            strategy.fit(data["X_pool"])
            copies, _ = augment_with_cache(
                strategy.augmenter_, data["X_pool"], n_copies, strategy.cache_
            )
            for copy in copies:
                encoder.transform(copy)
        self._log(
            1,
            f"embeddings of {config.task}: {encoder.n_encoded_} texts encoded "
            f"({time.perf_counter() - started:.0f}s), the rest cached in "
            f"{self._cache_dir()}",
        )
        return encoder.n_encoded_

    def _after_append(self):
        self._iterations_written += 1
        limit = os.environ.get(KILL_ENV)
        if limit and self._iterations_written >= int(limit):
            os.kill(os.getpid(), signal.SIGKILL)

    def _run_one(self, config, data):
        with self.journal.lock(config.digest) as lock:
            if not lock.acquired:
                return None
            finished = self._finished()  # finished meanwhile elsewhere?
            if config.run_id in finished:
                return finished[config.run_id]
            return self._compute(config, data)

    def _compute(self, config, data):
        X_pool, y_pool = data["X_pool"], data["y_pool"]
        n_pool = len(y_pool)
        classes = data["classes"]
        tier = self._tier(config, data)
        estimator = tier.build(
            classes=classes,
            random_state=derive_seed(config.run_id, "classifier"),
            consistency=uses_consistency(config.strategy),
        )
        expected = copies_procedure(config.strategy, config.copies_per_seed)
        if config.procedure() != expected:
            raise ValueError(
                f"{config.run_id}: this version of the code draws the copies of "
                f"{config.strategy!r} with {expected}; the run's configuration "
                f"asks for {config.procedure()}. Run it with the code that made "
                "it, or plan the run again."
            )
        strategy = build_strategy(
            config.strategy,
            embedding=tier.embedding,
            seed=self._augmenter_seed(config),
            augmentation_cache=self._shared_augmentation_cache(),
            cache_dir=self._cache_dir(),
        )
        plan = plan_labeling(
            n_pool,
            len(classes),
            initial_size=config.initial_size,
            budgets=config.budgets,
            batch_size=config.batch_size,
            n_queries=config.n_queries,
            owner="ExperimentRunner",
            budget_name="budgets",
            context=config.run_id,
        )
        evaluation = data["evaluation"]

        def evaluate(model):
            return {label: model.score(X, y) for label, (X, y) in evaluation.items()}

        callbacks = [self.journal.recorder(config.run_id, after=self._after_append)]
        if self.verbose >= 2:
            callbacks.append(PrintLog())
        loop = ActiveLearningLoop(
            estimator,
            strategy,
            X_pool,
            classes=classes,
            seed=derive_seed(config.run_id, "run"),
            evaluate=evaluate,
            callbacks=callbacks,
        )
        completed = self.journal.completed(config.run_id)
        initial = initial_labeled_indices(
            y_pool,
            plan.n_initial,
            random_state=derive_seed(config.pool_key, "initial", config.seed),
        )
        if completed:
            if completed[0].acquired != initial.tolist():
                raise ValueError(
                    f"{config.run_id}: the saved iterations do not start from "
                    "this run's initial labeled set: they belong to another run."
                )
            self._log(
                1,
                f"{config.run_id}: resuming after iteration {len(completed) - 1} "
                f"({completed[-1].n_labeled} labeled)",
            )
            loop.resume(completed, y_pool)
            records = loop.run(plan.schedule, y_pool)
        else:
            records = loop.run(plan.schedule, y_pool, initial_indices=initial)
        checkpoints = plan.checkpoints
        record = self._summarise(config, data, records, checkpoints)
        self.journal.runs.append(record)
        return record

    @staticmethod
    def _summarise(config, data, records, checkpoints):
        by_size = {r.n_labeled: r.scores for r in records}
        at_budget = {}
        if config.n_queries is None:
            at_budget = {
                budget_label(b): by_size[c]
                for b, c in zip(config.budgets, checkpoints, strict=True)
            }
        labels = [budget_label(b) for b in config.budgets]
        return {
            "run_id": config.run_id,
            "config": config.as_dict(),
            "sizes": data["sizes"],
            "checkpoints": dict(zip(labels, checkpoints, strict=False)),
            "at_budget": at_budget,
            **summarise_run(records, data["X_pool"], data["y_pool"], data["classes"]),
        }


def run_experiment(setting="in-domain", *, output_dir="results", report=True, **kwargs):
    """Run a setting (resumably) and write its tables and plots.

    Parameters
    ----------
    setting : str, default="in-domain"
        A name of :data:`~allsh_sklearn.experiments.SETTINGS`.
    output_dir : str or path-like, default="results"
    report : bool, default=True
        Write the Markdown tables and PNG plots afterwards.
    **kwargs
        The options of :class:`ExperimentRunner` (``data_home``,
        ``cache_dir``, ``progress``, ``verbose``, ``blas_threads``) and of
        :meth:`ExperimentRunner.run` (``tasks``, ``strategies``, ``budgets``,
        ``seeds``, ``classifier``, ``pool_size``, ``test_size``,
        ``initial_size``, ``batch_size``, ``n_queries``,
        ``minilm_train_steps``).

    Returns
    -------
    records : list of dict
        The finished runs of this call.
    """
    names = ("data_home", "cache_dir", "progress", "verbose", "blas_threads")
    options = {name: kwargs.pop(name) for name in names if name in kwargs}
    runner = ExperimentRunner(output_dir, **options)
    records = runner.run(setting, **kwargs)
    if report:
        from ._reporting import write_report

        for path in write_report(output_dir, settings=[setting]):
            runner._log(1, f"wrote {path}")
    return records


#: The digests (the last part of the run id) of the ALLSH runs made with the
#: whitespace TF-IDF copies, before UDA's procedure became the default
#: (commit de0a0c3, 2026-12-01 00:32): every run of results/runs.jsonl
#: written before that commit whose strategy draws TF-IDF copies (428 runs,
#: all of 2026-11-25; found with ``git log -p -- results/runs.jsonl``). No
#: run recorded after it has one of these digests.
_WHITESPACE_RUNS = frozenset(
    """
00da782cf525 01f93c8ba28e 0211e4f161a5 0252afe49d1e 0374f04be1b0 03b6950e6ad1
0484ee672d0e 05975d1ed0b5 0645c8619056 069f7a4aef0d 06b2cd5e45a1 06c59b2977ef
07aeb12b4cca 08f1dd8d616b 0a38ffffe93a 0a68d673e452 0a8ea0f055b6 0b2ccf10a3c0
0c70c202698f 0cb4dd33a86b 0cbc0e3f9d03 0ceff743d118 0db9d991b5e7 0e19335b5a82
0e52f0de6d3f 0ed61991977f 0ef712a9f504 0f71ce634402 102e9cdd6b44 10a3470392cf
1183cf0910a4 1291a5b5a025 13008bffc134 132d05dd796e 13669ba4cb60 13d244c2de15
140c4a60eeda 14288672cf33 143ae591cec4 14e5538af224 155f8cee3021 161a3445839a
183e6466deee 189e2770cb15 194e060aca2f 1a0866ab20f1 1a3e64f151c8 1aedde411f0f
1c1949addc1d 1c9de76326ec 1d0fcbad9bd8 1e17c7826f2b 1ee392bfec82 1ef5af63a5fe
1f5f7c2fe95b 1fe7fda779d2 21223a366e9f 2253854ea021 22a70c150936 22f12c6e24cd
22f2caf9e8c4 2451451cef7b 24552a87a518 24e15533ed22 24f7241a47eb 259f7c706200
25ad8c9a929d 27dbeaccf53a 287034d1d47e 28ec24b942df 29dfa0521c28 29e4ac7f5f40
2a0b1bde3268 2b80f85cb6e3 2ed7d3100264 2f506e61af86 310382517b7c 31220cbe6224
32ed41397c67 33256f63381f 33286c7d5409 3386fff6034a 33a7b39e5fd0 33f710d5752a
34ad0b6545c7 34ae5cee1cda 35039d5b1971 35db09a9b607 36629306c52d 378605b05689
379e6be16e7f 395cf1180a4e 3a348e214bb6 3a37fe91e614 3a7764b7f22d 3ada833995c1
3b938a069fe8 3c19c5d596d2 3d694ef1eefd 3eefb41c5660 3f545f0d9d56 404765115384
418c35a0e630 41bc0b0b2df8 4292a69e2380 43547e4ab79c 4366d20d6662 466173858132
469bf8b52677 46c6690f0170 473e69537801 47bf520dfda6 47c83fff9ee9 48e78e9e31a9
48ff9bcee06e 494e4e8a0506 4975741979c0 4a3396bf7691 4aeb26473c67 4cb0a92594ca
4eba17088a04 4fd6abefea28 50c80d5f8ad5 52576ba3619a 535dd4d7c526 536ebd7f103f
53cfafd09e8c 542632bbc911 54516a23ca9d 549942befd66 55191d327b79 554476a35a80
5587bbd118c7 5656dd6778e8 56d48be0d2ec 574d749a316f 575843e3ff33 58741a7cf929
58f477e1525a 5913f1685825 59526c23ab3b 5abfdbe8beae 5ba6c7115d20 5c06d683cef6
5dd77be7eed4 5de80a95033b 5e604e132266 5eb3752211ba 5f50f54e41ff 5f62eb9b2021
5ff94509f5c5 603b8a655ae1 605fed937edd 60a36adfaf26 60e897ae1d91 611d3d361893
6228e0de3031 6256316742d2 6256b061615f 63ac6c754cd4 63ba2140ec7d 64494831b78f
64779ad3fb4c 64b97ab380f1 65e734a9b985 6672c1ecf2f8 66ccae8ab947 6732ba237b1b
6749dbd91e1a 674e216a5ec6 677346d1242c 68394c969fdd 693d0f1ca62d 69de6762a3f6
6ba3941e1197 6bcb63f6f9fe 6bcf72e59062 6c759ba4b2b3 6c91c9f993f4 6de26f0a3d69
6e6e55378c00 6e82eb5cd1fa 6f5f8704eb12 70770308c20e 70d5a88817ad 70ee7d5949bd
711cae9f0a8d 712f5fd32185 724e6b580fca 72912eacd661 729c2e260c26 733f13b4d8c1
747f18329987 766369a946fc 7702794c3c74 78f395dbb846 79634c331fa8 7af2b79d8f97
7b80af913bcc 7bd504c9e710 7c4f1dff44ff 7d5c4626e182 7df5411b37f2 7e19214e2c1b
7e369e098c37 7e907d9e821d 7ecae542b522 80eaf6da7a2c 819469f5d37a 8294d7ddf2c1
82e9a22811c4 835ba2257456 840ffd4868bc 843594bdf043 85219667b929 853fa07cbe09
882cdd3b0cb5 88520398704f 8904502e13e9 89a31eb79ff4 8a952aaa534c 8ab1b4b7a039
8aee30d71abe 8b894b711e5e 8cb47e082de3 8cbdc36e39cf 8cc3e0c03a98 8d6231b23b83
8ed211004939 8f713007a9bf 8f71acf6967d 9051b926a3a8 90de0d04c07f 92304db9e358
9283badfbd46 92befda74a90 92bff6e7ced9 9312b24cfd5b 9316c7d712d6 93a60259db0f
9424226b8fe5 95e3c6b55807 9704ff43c5b3 9731442f3100 97acd548daf2 97f03ee9904d
9810151703d1 982e92a25ca5 989823e459de 99456f2ca950 9a0d60070027 9a1eaafbacb2
9bd616158101 9c5fd7ac2a2f 9d42aa6d37d7 9e035f306448 9e526faa5f78 a00556825702
a059c425fcab a0cf826343e8 a1a3c45cb02d a1ad0766228a a29159be7ac6 a315ea2f32a5
a3823bcc8207 a3b0f0f11c54 a3d70ace22c4 a4fd8557cc4e a5a012af2ae5 a66fcd3b993c
a773a42b42e7 a7c3542f36ea a8b8f7e2a8d6 a92f2f621efa a94dec291a88 a954af0d1c6a
ab095a8248bd ab7176e77316 ab9d7b2787dc aba1e6c3c669 abf11e773096 ac1949cbafd2
ac4671c9b80a ac7fbaf6a28f ae93e15ed856 aea994e9861e aebcaafab9bd af473598f39d
afcbb768f645 b0cadb9df243 b0dc6403790c b0f244474729 b1306d34e26b b1ab23703c4c
b1f4872e7d2b b327b0a6cf69 b420b128109e b45a80e4d02c b484bef2d10e b51af3797800
b54ae84e6a9f b803a9e0e182 b91a8d23542b b986b95d3294 bae956f93d03 bb1da61ec701
bb6755ad55cb bb834705df09 bbd31767bf0b bced335d348f bd1b0588c6eb bd7f1b28650b
bd89b1beffed be0f47b659aa be127c67ff84 be64370d49c9 bf17f10dd817 bf6d4c6d101d
c017f9a6b4e0 c038d5ffe6a1 c0b62e32ddfe c0d9cb214b2a c129e13e6404 c133fed4a48a
c1a4fd804511 c1a5eabe9c14 c2449f47c506 c3c133933bb9 c3f33e665031 c5250b812a47
c6c04ebf5dfe cafc232c9e8f cc2c640c31f2 cc637c6fa554 cc990b53358f cca82c729982
cd4be0174b7d ce2730ead179 ce8e1e4b485d cf161cfe91e8 cf8b237b01a8 cfb526cb87a8
d022bfd64145 d0bc1b68e660 d14dd8670eaa d30a001be50b d30a9f9043a3 d30b890b926a
d3595dbc2008 d363598b73c3 d49166875b9a d56f5c9a01cf d597cc777618 d786e3db9e3e
d7f447e27ff1 d81626ea1f0c d8598024706e d8bfb197ce90 d903fa9deb3b d938caacf98c
d9d36c50f26d dacb79a88527 db2ed8d37999 db934fbd8d21 db96e3d40ff1 dc8c3ddddc18
dd0ebdf051da dd325388b1af dd92b96d854f dd9eacd4f522 df6264c243dc dfac8ddeeee2
e159b47c67b8 e166a1d09b38 e19066f4d6ef e1caf78ebaee e1f172bc0286 e1fea5aba175
e21d741eed01 e26e022cd92e e4fd174953ba e5114471c1ce e52d2b0d99f6 e67362d0ff23
e6d390e41c22 eabca7bf7b27 eb6bedded068 ebe574aee12a ec47d710dc36 ec4c744b0151
ecacdf82bd5b ed4a04934977 ed63da125c2a edc5109a696f ee12c94615e9 ee992f76c4b5
ef57ad48306c efa6af4d6159 f037ccf1d1d6 f21c9d3a74f3 f24eef634637 f32089e95f11
f356770301ed f396f77136d2 f40bbd93096b f5043e8ad7f8 f519321519d7 f56e82180e33
f5ce3e6c4d82 f5db7c118ec5 f5e1e836bb0b f745b446d7c3 f7abb6fedae1 f7e6c2858223
f8ae3c369419 f8c8a8d25146 f98f7626bd5e fa9b5662dedc fb70468f6034 fb9c95510d60
fc04bb1c576f fc60229e58ab fc8e735ff18a fe5ce53967bc ff55e7dc447c ff90c97af0f2
ffb96f0f7eb5 ffbabc16230c
""".split()
)
