"""What the labeling page needs from a labeling session, and nothing more.

Every label, skip and undo goes through :class:`~allsh_sklearn.session.LabelingSession`
(the same code as the ``allsh-label`` CLI): committed before the page shows
the next text. This module only turns the session's items, status and
rounds into what the templates show.
"""

from pathlib import Path

from ._diff import changed_tokens

__all__ = ["Backend", "LabelingError"]

#: How the page names the session's strategies.
STRATEGY_NAMES = {
    "allsh": "ALLSH",
    "allsh-wca": "ALLSH (worst case over copies, WCA)",
    "allsh-cl": "ALLSH + CL",
    "allsh-balanced": "ALLSH (class-balanced)",
    "entropy": "Entropy sampling",
    "margin": "Margin sampling",
    "least-confidence": "Least-confidence sampling",
    "random": "Random sampling",
    "cal": "CAL",
    "badge": "BADGE",
    "python": "The session's strategy",
}

#: The names of the divergences in the explanations.
DIVERGENCE_NAMES = {
    "kl": "KL",
    "reverse_kl": "reverse KL",
    "jsd": "Jensen-Shannon distance",
    "alpha": "alpha-divergence",
}


class LabelingError(ValueError):
    """A request the session refused; ``status_code`` is the HTTP answer."""

    def __init__(self, message, status_code=400):
        super().__init__(message)
        self.status_code = status_code


class Backend:
    """The page's view of one labeling session.

    All methods but :meth:`retrain_and_query` are called from one thread,
    in order (the session's database connection belongs to its thread).

    Parameters
    ----------
    project : path-like or LabelingSession
    """

    def __init__(self, project):
        from ..session import LabelingSession

        if isinstance(project, LabelingSession):
            self.session = project
        else:
            self.session = LabelingSession.open(project, progress=False)
        self.path = Path(self.session.path)
        self.labels = list(self.session.labels)
        self.project_name = self.path.resolve().name
        self.strategy = self.session.config.get("strategy", "python")
        self._trainer = None

    # The labeling page ----------------------------------------------------------

    def view(self, *, annotator, shown=None):
        """The item to show this annotator (their claimed one, else the next).

        Parameters
        ----------
        annotator : str or None
        shown : Item or None
            Show this item instead of the next one (after an undo).

        Returns
        -------
        view : dict
            ``item`` (a dict for the template, or None), ``progress``,
            ``can_undo``.
        """
        if not annotator:
            return {"item": None, "progress": _no_progress(), "can_undo": False}
        item = shown if shown is not None else self.session.next_item(annotator)
        batch = self.session.current_batch()
        progress = _progress(batch, item)
        return {
            "item": None if item is None else self._item(item),
            "progress": progress,
            "can_undo": True,
        }

    def act(self, action, *, annotator, item_id=None, label=None):
        """Label, skip or undo, then the view of what comes next.

        Returns
        -------
        outcome : str or None
            A line to show above the next item (after an undo).
        view : dict
        """
        if action == "undo":
            undone = self.session.undo(annotator=annotator, source="web")
            if undone is None:
                return (
                    "Nothing to undo: you have no label or skip left to take back.",
                    (self.view(annotator=annotator)),
                )
            item = self.session.item(undone.item_id)
            what = f"label {undone.label!r}" if undone.kind == "label" else "skip"
            return f"Undid your {what} of this text.", self.view(
                annotator=annotator, shown=item
            )
        if not item_id:
            raise LabelingError("The request names no text (item_id is missing).")
        try:
            if action == "label":
                if label not in self.labels:
                    raise LabelingError(
                        f"Unknown label {label!r}: the session's labels are "
                        f"{self.labels}."
                    )
                self.session.label(item_id, label, annotator=annotator, source="web")
            elif action == "skip":
                self.session.skip(item_id, annotator=annotator, source="web")
            else:  # pragma: no cover - the routes only pass the three above
                raise LabelingError(f"Unknown action {action!r}.")
        except KeyError as error:
            raise LabelingError(str(error.args[0]), status_code=404) from None
        return None, self.view(annotator=annotator)

    def _item(self, item):
        return {
            "id": item.item_id,
            "text": item.text,
            "text_pair": item.text_pair,
            "label": item.label,
            "skipped": item.skipped,
            "guess": item.guess,
            "guess_proba": None
            if item.proba is None or item.guess is None
            else item.proba.get(item.guess),
            "why": self._why(item),
        }

    def _why(self, item):
        strategy = STRATEGY_NAMES.get(self.strategy, self.strategy)
        explanation = item.explanation
        if explanation is not None and explanation.get("kind") == "allsh":
            copies = explanation["copies"]
            copy = copies[explanation["driver"]]
            text = copy["text"]
            if isinstance(text, list | tuple):
                copy_text, copy_pair = text[0], text[1]
            else:
                copy_text, copy_pair = text, None
            measure = explanation.get("divergence", "")
            return {
                "strategy": strategy,
                "score": item.score if item.score is not None else copy["divergence"],
                "copy_divergence": copy["divergence"],
                "divergence_name": DIVERGENCE_NAMES.get(measure, measure),
                "n_copies": len(copies),
                "worst_case": explanation.get("aggregate") == "max",
                "copy_tokens": changed_tokens(item.text, copy_text),
                "copy_pair_tokens": None
                if copy_pair is None or item.text_pair is None
                else changed_tokens(item.text_pair, copy_pair),
                "proba": None
                if item.proba is None
                else [item.proba.get(name, 0.0) for name in self.labels],
                "copy_proba": list(copy["proba"]),
            }
        if item.score is not None:
            return {
                "strategy": strategy,
                "score": item.score,
                "copy_tokens": None,
                "note": None,
            }
        if item.batch is None:
            return None
        return {
            "strategy": "Random",
            "score": None,
            "copy_tokens": None,
            "note": "This text was drawn at random: either no model was trained "
            "yet, or it belongs to the random sample that measures the model's "
            "accuracy",
        }

    # The status page ------------------------------------------------------------

    def status(self):
        """Labels, class counts, the audit estimate and the stopping rules.

        Returns
        -------
        status : dict
        """
        status = self.session.status()
        rounds = status.rounds
        audited = [r for r in rounds if r.n_audit > 0]
        audit = None
        if audited:
            last = audited[-1]
            audit = {
                "accuracy": last.audit_accuracy,
                "low": last.audit_low,
                "high": last.audit_high,
                "n": last.n_audit,
                "confidence": 0.95,
                "round": last.round,
            }
        if self.session.config.get("audit_fraction", 0) <= 0:
            audit_note = (
                "this session has no audit sample (create it with an audit "
                "fraction, for example --audit-fraction 0.1)."
            )
        else:
            audit_note = "no model has been trained on labels yet."
        checks = rounds[-1].checks if rounds else []
        batch = status.batch or {}
        return {
            "n_labeled": status.n_labeled,
            "n_audit_labeled": status.n_audit_labeled,
            "n_skipped": status.n_skipped,
            "n_pool": status.n_items,
            "class_counts": list(status.class_counts.items()),
            "annotators": sorted(status.annotators.items()),
            "batch": batch.get("batch"),
            "batch_size": batch.get("size"),
            "batch_done": batch.get("done"),
            "audit": audit,
            "audit_note": audit_note,
            "n_rounds": len(rounds),
            "rounds": [
                {
                    "round": r.round,
                    "n_labeled": r.n_labeled,
                    "n_audit": r.n_audit,
                    "accuracy": r.audit_accuracy,
                    "low": r.audit_low,
                    "high": r.audit_high,
                    "train_seconds": r.train_seconds,
                    "query_seconds": r.query_seconds,
                }
                for r in rounds
            ],
            "has_curve": bool(rounds),
            "stopping": [
                {
                    "name": check["rule"],
                    "value": check["value"],
                    "stop": check["stop"],
                    "message": check["message"],
                }
                for check in checks
            ],
            "should_stop": status.should_stop,
            "labels_since_round": status.labels_since_round,
            "default_batch_size": self.session.config.get("batch_size", 50),
        }

    def learning_curve_png(self):
        """The learning curve as PNG bytes (None before the first round)."""
        import io

        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        if not self.session.rounds():
            return None
        buffer = io.BytesIO()
        figure = self.session.plot_learning_curve()
        try:
            figure.savefig(buffer, format="png", dpi=100)
        finally:
            plt.close(figure)
        return buffer.getvalue()

    # Retraining (in its own thread) ----------------------------------------------

    def retrain_and_query(self, batch_size=None, progress=None):
        """Retrain on every label and query the next batch; one line of summary.

        Runs in the retraining thread, on a session object of its own (the
        page keeps labeling meanwhile; the session's transactions keep both
        consistent).

        Parameters
        ----------
        batch_size : int or None
            None: the session's batch size.
        progress : callable or None
            ``progress(message, done, total)``, told what is happening: the
            session's stages (training, scoring the pool, the audit sample
            and stopping rules, the batch), ``done`` of ``total`` finished.

        Returns
        -------
        summary : str
        """
        from ..session import LabelingSession

        report = progress or (lambda *args, **kwargs: None)
        if self._trainer is None:
            report("Opening the session...")
            self._trainer = LabelingSession.open(self.path, progress=False)
        trainer = self._trainer
        before = trainer.current_batch()
        status = trainer.status()
        last = status.rounds[-1] if status.rounds else None
        took = (
            ""
            if last is None
            else f" (round {last.round} took "
            f"{last.train_seconds + last.query_seconds:.0f} s)"
        )
        intro = (
            f"Retraining on {status.n_labeled} labels and scoring "
            f"{status.n_items} texts{took}; the page can label meanwhile:"
        )
        report(intro)

        def stage(name, done, total):
            report(f"{intro} {name}...", done, total)

        round_info = trainer.retrain(size=batch_size, progress=stage)
        after = trainer.current_batch()
        if after is None:
            return "No batch could be queried."
        same = before is not None and before.batch == after.batch
        if same:
            return (
                f"Nothing changed since round {round_info.round if round_info else 0}: "
                f"batch {after.batch} still has {after.n_pending} texts to label."
            )
        if round_info is None or after.kind == "initial":
            return (
                f"Batch {after.batch} of {len(after.items)} texts drawn at random: "
                "labels of at least two classes are needed to train a model."
            )
        return (
            f"Round {round_info.round}: trained on {round_info.n_labeled} labels in "
            f"{round_info.train_seconds:.1f} s, pool scored in "
            f"{round_info.query_seconds:.1f} s; batch {after.batch} of "
            f"{len(after.items)} texts queried."
        )


def _no_progress():
    return {
        "batch": None,
        "total": 0,
        "done": 0,
        "labeled": 0,
        "skipped": 0,
        "position": 0,
        "held": 0,
    }


def _progress(batch, item):
    if batch is None:
        return _no_progress()
    labeled = sum(1 for i in batch.items if i.label is not None)
    skipped = sum(1 for i in batch.items if i.skipped)
    position = 0
    if item is not None and item.batch == batch.batch and item.position is not None:
        position = item.position
    return {
        "batch": batch.batch,
        "total": len(batch.items),
        "done": batch.n_done,
        "labeled": labeled,
        "skipped": skipped,
        "position": position,
        "held": batch.n_pending if item is None else 0,
    }
