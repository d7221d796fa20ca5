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

Run identity holds the procedure of the copies (issue 29); :mod:`._records`
says what of it the run id hashes, and how :func:`migrate_record` reads the
records written before.

For tests, the environment variable ``ALLSH_EXPERIMENT_KILL_AFTER=N`` makes
the process SIGKILL itself right after its N-th iteration line is written.
"""

import os
import signal
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from ..augment import MemoryAugmentationCache
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
from ..presets import build_strategy, canonical_strategy, uses_consistency
from ..strategies import BaseQueryStrategy
from ..utils import get_cache_home
from ..utils._validation import check_bool, check_one_of, take
from ._records import RunConfig, copies_procedure, migrate_record
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


class _MemoryStore:
    """A strategy's store for one warm-up (see ``BaseQueryStrategy.prepare``).

    Strategies that draw the same copies share one, so what the first
    fitted (ALLSH's text augmentation) the others read back, not fit again.
    """

    def __init__(self):
        self._items = {}

    def get(self, name):
        return self._items.get(name)

    def put(self, name, data):
        self._items[name] = data


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
        seed = self._augmenter_seed(config)
        stores = {}  # what strategies with the same copies prepared, shared
        plans = {}  # the procedure of the copies -> the most texts asked
        for spec in dict.fromkeys(strategies):
            procedure = copies_procedure(spec)
            if procedure is not None and procedure["copies"] != "per_pool":
                continue  # a fresh draw of copies per query: not known yet
            key = spec if procedure is None else procedure["augmentation"]
            strategy = build_strategy(
                spec,
                seed=seed,
                augmentation_cache=self._shared_augmentation_cache(),
                cache_dir=self._cache_dir(),
            )
            if not isinstance(strategy, BaseQueryStrategy):
                continue  # no hooks: nothing to encode but the pool
            strategy = strategy.prepare(
                data["X_pool"],
                random_state=seed,
                cache_dir=self._cache_dir(),
                store=stores.setdefault(key, _MemoryStore()),
            )
            texts = list(strategy.texts_to_encode(data["X_pool"]))
            if len(texts) > len(plans.get(key, ())):
                plans[key] = texts
        n_pool = len(data["X_pool"])
        for texts in plans.values():
            # One copy of the pool at a time, as the queries will ask for them.
            for start in range(0, len(texts), max(n_pool, 1)):
                encoder.transform(texts[start : start + n_pool])
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
