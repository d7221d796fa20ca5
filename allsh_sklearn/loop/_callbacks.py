"""Callbacks of the active learning loop: logging, progress, timing, stopping.

As in skorch, a callback is an object with ``on_*`` methods that the loop
calls at fixed points (:meth:`~allsh_sklearn.loop.ActiveLearningLoop.notify`);
each method receives the loop (read its ``records_``, ``learner_``,
``labeled_indices_``) as its one positional argument and everything else by
keyword, and does nothing by default. A hook takes ``**kwargs`` and ignores
what it does not use, so that later releases may pass more. A callback stops
the loop with ``loop.stop(reason)``.

Hooks, in call order:

- ``on_loop_begin(loop, **kwargs)``: before the first training (or the
  retraining of a resumed loop);
- ``on_query_end(loop, indices=..., **kwargs)``: after a query, before its
  labels;
- ``on_iteration_end(loop, record=..., **kwargs)``: after every training,
  with its :class:`~allsh_sklearn.loop.IterationRecord` (iteration 0
  included);
- ``on_loop_end(loop, **kwargs)``: when
  :meth:`~allsh_sklearn.loop.ActiveLearningLoop.run` returns.

Hooks written for the positional calls of earlier releases
(``on_iteration_end(loop, r)``, with a parameter not named ``record``)
still work for one release: they are called by position, with a
``FutureWarning``.
"""

import inspect
import warnings

import numpy as np

from ._records import TIME_KEYS

__all__ = [
    "HOOKS",
    "Callback",
    "LambdaCallback",
    "PrintLog",
    "ProgressBar",
    "StopWhen",
    "TimeSummary",
    "call_hook",
]

#: The hooks of a callback, in call order.
HOOKS = ("on_loop_begin", "on_query_end", "on_iteration_end", "on_loop_end")


def _takes_keywords(function, names):
    """Whether ``function(loop, **{name: ...})`` binds for every one of ``names``."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: trust it
        return True
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return True
    by_keyword = {
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    return set(names) <= by_keyword


def _positional_warning(hook, function, names):
    warnings.warn(
        f"The {hook} hook {getattr(function, '__qualname__', function)!r} takes "
        f"its arguments by position; hooks are now called by keyword "
        f"({hook}(loop, {', '.join(f'{n}=...' for n in names) or '**kwargs'})). "
        f"Name its parameters {', '.join(map(repr, names))} or accept **kwargs: "
        "positional calls will stop in the next release.",
        FutureWarning,
        stacklevel=3,
    )


def call_hook(function, hook, loop, kwargs):
    """Call one hook: ``function(loop, **kwargs)``.

    A hook written for the positional calls of earlier releases (one whose
    parameters do not take ``kwargs`` by name) is called by position, with a
    ``FutureWarning``, for one release.

    Parameters
    ----------
    function : callable
        The hook (a bound method, or a function of a :class:`LambdaCallback`).
    hook : str
        Its name, one of :data:`HOOKS`.
    loop : ActiveLearningLoop
    kwargs : dict
        The hook's keyword arguments.
    """
    if _takes_keywords(function, kwargs):
        return function(loop, **kwargs)
    _positional_warning(hook, function, list(kwargs))
    return function(loop, *kwargs.values())


class Callback:
    """Base class of loop callbacks: every hook does nothing.

    Subclass it and override the hooks you need; each takes the loop and
    keyword arguments (accept ``**kwargs`` for those you do not use).
    """

    def on_loop_begin(self, loop, **kwargs):
        """Called before the first training."""

    def on_query_end(self, loop, indices=None, **kwargs):
        """Called after a query with the positions it chose (``indices``)."""

    def on_iteration_end(self, loop, record=None, **kwargs):
        """Called after every training with its ``record``."""

    def on_loop_end(self, loop, **kwargs):
        """Called when ``run`` returns."""


class LambdaCallback(Callback):
    """A callback made of functions, one per hook (None: nothing).

    Parameters
    ----------
    on_loop_begin, on_query_end, on_iteration_end, on_loop_end : callable or None
        Called as the hook is: with the loop, then keyword arguments
        (``on_query_end(loop, indices=...)``,
        ``on_iteration_end(loop, record=...)``); a function may take
        ``**kwargs`` and ignore what it does not use. A function whose
        parameters have other names (``lambda loop, r: ...``) is called by
        position, with a ``FutureWarning``, for one release.

    Examples
    --------
    >>> seen = []
    >>> callback = LambdaCallback(
    ...     on_iteration_end=lambda loop, record, **kwargs: seen.append(record))
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

    def on_iteration_end(self, loop, record=None, **kwargs):
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

    def on_loop_begin(self, loop, **kwargs):
        from tqdm.auto import tqdm

        total = loop.schedule_[-1] if loop.schedule_ else None
        self.bar_ = tqdm(total=total, desc=self.desc, unit="label")

    def on_iteration_end(self, loop, record=None, **kwargs):
        self.bar_.update(record.n_labeled - self.bar_.n)

    def on_loop_end(self, loop, **kwargs):
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

    def on_loop_begin(self, loop, **kwargs):
        self.times_ = {key: [] for key in TIME_KEYS}

    def on_iteration_end(self, loop, record=None, **kwargs):
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

    def on_loop_begin(self, loop, **kwargs):
        if self.mode not in ("any", "all"):
            raise ValueError(
                "The 'mode' parameter of StopWhen must be 'any' or 'all'. Got "
                f"{self.mode!r} instead."
            )
        self.history_ = []
        self.checks_ = []

    def on_iteration_end(self, loop, record=None, **kwargs):
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
