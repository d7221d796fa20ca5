"""Callbacks of the active learning loop: logging, progress, timing, stopping.

As in skorch, a callback is an object with ``on_*`` methods that the loop
calls at fixed points; each method receives the loop (read its
``records_``, ``learner_``, ``labeled_indices_``) and does nothing by
default. A callback stops the loop with ``loop.stop(reason)``.

Hooks, in call order:

- ``on_loop_begin(loop)``: before the first training (or the retraining
  of a resumed loop);
- ``on_query_end(loop, indices)``: after a query, before its labels;
- ``on_iteration_end(loop, record)``: after every training, with its
  :class:`~allsh_sklearn.loop.IterationRecord` (iteration 0 included);
- ``on_loop_end(loop)``: when :meth:`~allsh_sklearn.loop.ActiveLearningLoop.run`
  returns.
"""

import numpy as np

from ._records import TIME_KEYS

__all__ = [
    "Callback",
    "LambdaCallback",
    "PrintLog",
    "ProgressBar",
    "StopWhen",
    "TimeSummary",
]


class Callback:
    """Base class of loop callbacks: every hook does nothing.

    Subclass it and override the hooks you need.
    """

    def on_loop_begin(self, loop):
        """Called before the first training."""

    def on_query_end(self, loop, indices):
        """Called after a query with the positions it chose."""

    def on_iteration_end(self, loop, record):
        """Called after every training with its record."""

    def on_loop_end(self, loop):
        """Called when ``run`` returns."""


class LambdaCallback(Callback):
    """A callback made of functions, one per hook (None: nothing).

    Parameters
    ----------
    on_loop_begin, on_query_end, on_iteration_end, on_loop_end : callable or None
        Called with the hook's arguments.

    Examples
    --------
    >>> seen = []
    >>> callback = LambdaCallback(on_iteration_end=lambda loop, r: seen.append(r))
    """

    def __init__(
        self,
        on_loop_begin=None,
        on_query_end=None,
        on_iteration_end=None,
        on_loop_end=None,
    ):
        for name, function in (
            ("on_loop_begin", on_loop_begin),
            ("on_query_end", on_query_end),
            ("on_iteration_end", on_iteration_end),
            ("on_loop_end", on_loop_end),
        ):
            if function is not None:
                if not callable(function):
                    raise TypeError(
                        f"The '{name}' parameter of LambdaCallback must be "
                        f"callable or None. Got {type(function).__name__} instead."
                    )
                setattr(self, name, function)


class PrintLog(Callback):
    """Print one line per iteration: labeled count, scores, query seconds.

    Parameters
    ----------
    sink : callable, default=print
        Receives each line.
    """

    def __init__(self, sink=print):
        self.sink = sink

    def on_iteration_end(self, loop, record):
        line = (
            f"iteration {record.iteration}: {record.n_labeled} labeled, scores "
            f"{record.scores}"
        )
        if "query" in record.time:
            line += f", query {record.time['query']:.2f}s"
        self.sink(line)


class ProgressBar(Callback):
    """A tqdm bar over the labels acquired (up to the schedule's last size).

    Parameters
    ----------
    desc : str, default="labels"
        The bar's description.
    """

    def __init__(self, desc="labels"):
        self.desc = desc

    def on_loop_begin(self, loop):
        from tqdm.auto import tqdm

        total = loop.schedule_[-1] if loop.schedule_ else None
        self.bar_ = tqdm(total=total, desc=self.desc, unit="label")

    def on_iteration_end(self, loop, record):
        self.bar_.update(record.n_labeled - self.bar_.n)

    def on_loop_end(self, loop):
        self.bar_.close()


class TimeSummary(Callback):
    """Collect the seconds of every query, per phase.

    Attributes
    ----------
    times_ : dict of {str: list of float}
        Per phase (``"training"``, ``"inference"``, ``"selection"``,
        ``"augmentation"``, ``"query"``), one value per query (0.0 when the
        strategy did not report the phase); iteration 0 is left out.
    """

    def on_loop_begin(self, loop):
        self.times_ = {key: [] for key in TIME_KEYS}

    def on_iteration_end(self, loop, record):
        if record.iteration == 0:
            return
        for key in TIME_KEYS:
            self.times_[key].append(float(record.time.get(key, 0.0)))


class StopWhen(Callback):
    """Stop the loop when stopping rules say so.

    After every training, the history of rounds (one
    :class:`~allsh_sklearn.stopping.RoundSummary` per iteration: labeled
    count, the model's predictions and probabilities on a fixed stop set,
    the mean query score of the pool when the strategy reports it) is given
    to each rule; the loop stops when any rule (``mode="any"``) or every
    rule (``mode="all"``) says stop.

    Parameters
    ----------
    rules : sequence of StoppingRule
        For example ``[StabilizingPredictions(), LabelBudget(600)]``.
    stop_set : sequence of str or None, default=None
        The texts the rules compare predictions on; None gives the rules
        only labeled counts and pool scores.
    mode : {"any", "all"}, default="any"

    Attributes
    ----------
    history_ : list of RoundSummary
    checks_ : list of list of StopCheck
        Each rule's verdict at each iteration.
    """

    def __init__(self, rules, stop_set=None, mode="any"):
        self.rules = rules
        self.stop_set = stop_set
        self.mode = mode

    def on_loop_begin(self, loop):
        if self.mode not in ("any", "all"):
            raise ValueError(
                "The 'mode' parameter of StopWhen must be 'any' or 'all'. Got "
                f"{self.mode!r} instead."
            )
        self.history_ = []
        self.checks_ = []

    def on_iteration_end(self, loop, record):
        from ..stopping import RoundSummary, evaluate_rules

        predictions = proba = None
        if self.stop_set is not None:
            proba = np.asarray(loop.learner_.predict_proba(self.stop_set))
            predictions = loop.learner_.classes_[np.argmax(proba, axis=1)]
        pool_score = None
        if record.query_scores is not None:
            # the strategy's scores of the whole pool at this query
            strategy = getattr(loop.learner_, "query_strategy_", loop.query_strategy)
            scores = getattr(strategy, "last_scores_", None)
            if scores is not None and len(scores):
                pool_score = float(np.mean(scores))
        self.history_.append(
            RoundSummary(
                n_labeled=record.n_labeled,
                stop_set_predictions=predictions,
                stop_set_proba=proba,
                mean_pool_score=pool_score,
            )
        )
        checks = evaluate_rules(self.rules, self.history_)
        self.checks_.append(checks)
        verdicts = [check.stop for check in checks]
        if verdicts and (all(verdicts) if self.mode == "all" else any(verdicts)):
            loop.stop("; ".join(check.message for check in checks if check.stop))
