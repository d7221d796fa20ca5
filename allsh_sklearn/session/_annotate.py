"""Label in the terminal: one text at a time, one key per label.

The loop only reads keys and prints; every label, skip and undo goes
through the session's methods, which commit before returning, so quitting,
Ctrl-C or a killed process lose at most the key being typed.
"""

import os
import shutil
import sys
import textwrap
from dataclasses import dataclass

from ._errors import NotReadyError

__all__ = ["AnnotationSummary", "annotate", "label_keys", "print_round"]

_COMMANDS = {"s": "skip", "u": "undo", "w": "why", "r": "retrain", "q": "quit"}


@dataclass
class AnnotationSummary:
    """What one annotation run did.

    Attributes
    ----------
    n_labeled, n_skipped, n_undone, n_retrained : int
    stopped_by : str
        ``"quit"``, ``"end of input"`` or ``"pool exhausted"``.
    """

    n_labeled: int = 0
    n_skipped: int = 0
    n_undone: int = 0
    n_retrained: int = 0
    stopped_by: str = "quit"


def label_keys(labels):
    """One key per label: 1-9, then letters not used by commands.

    Parameters
    ----------
    labels : sequence of str

    Returns
    -------
    keys : dict of {str: str}
        Key to label.

    Examples
    --------
    >>> label_keys(["neg", "pos"])
    {'1': 'neg', '2': 'pos'}
    """
    keys = [str(i) for i in range(1, 10)]
    keys += [c for c in "abcdefghijklmnopqrstuvwxyz" if c not in _COMMANDS]
    if len(labels) > len(keys):
        raise ValueError(
            f"The terminal annotator has keys for {len(keys)} labels; the session "
            f"has {len(labels)}. Export batches and label them in another tool."
        )
    return dict(zip(keys, labels, strict=False))


class _Keys:
    """Single keys from a terminal (cbreak mode), or lines from a pipe."""

    def __init__(self, stream):
        self.stream = stream
        self.fd = None
        self._saved = None
        try:
            if stream.isatty():
                self.fd = stream.fileno()
        except (AttributeError, ValueError, OSError):
            self.fd = None

    def __enter__(self):
        if self.fd is not None:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc_info):
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def read(self):
        """The next key (a one-character string), or None at the end of input."""
        if self.fd is not None:
            data = os.read(self.fd, 1)
            if not data:
                return None
            return data.decode("utf-8", "replace")
        while True:
            line = self.stream.readline()
            if not line:
                return None
            line = line.strip()
            if line:
                return line


def _show(item, keys, session, out, n_labeled, every):
    width = min(shutil.get_terminal_size((88, 24)).columns, 100)
    print("-" * width, file=out)
    place = ""
    if item.batch is not None and item.position is not None:
        place = f"batch {item.batch} - text {item.position} of {item.batch_size} - "
    since = session._labels_since_round()
    print(
        f"{place}{n_labeled} labels - retrain in {max(every - since, 0)} - "
        f"id {item.item_id}",
        file=out,
    )
    print(file=out)
    for part in (item.text, item.text_pair):
        if part is None:
            continue
        for paragraph in part.splitlines() or [""]:
            print(textwrap.fill(paragraph, width=width) or "", file=out)
        print(file=out)
    if item.label is not None:
        print(f"current label: {item.label} (a new key re-labels it)", file=out)
    if item.guess is not None and item.proba is not None:
        print(f"model's guess: {item.guess} ({item.proba[item.guess]:.2f})", file=out)
    choices = "  ".join(f"[{key}] {label}" for key, label in keys.items())
    print(f"{choices}   [s] skip  [u] undo  [w] why  [r] retrain  [q] quit", file=out)
    out.flush()


def print_round(round_info, out):
    """Print what a round trained on, its audit accuracy and its stopping rules.

    Parameters
    ----------
    round_info : RoundInfo or None
        Nothing is printed for None.
    out : file
    """
    if round_info is None:
        return
    line = f"Round {round_info.round}: trained on {round_info.n_labeled} labels"
    if round_info.n_audit:
        line += (
            f"; audit accuracy {round_info.audit_accuracy:.3f} "
            f"[{round_info.audit_low:.3f}, {round_info.audit_high:.3f}] on "
            f"{round_info.n_audit} texts"
        )
    print(line + ".", file=out)
    for check in round_info.checks:
        verdict = "STOP" if check["stop"] else "go on"
        print(f"  {verdict:5}  {check['message']}", file=out)
    if round_info.stop:
        print(
            "  A stopping rule says more labels are unlikely to help; go on if "
            "you want to.",
            file=out,
        )
    out.flush()


def _ansi(out):
    """Whether ``out`` is a terminal that shows bold text (and NO_COLOR unset)."""
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _print_why(session, item, out):
    """The ``w`` view: why the text was picked in one sentence, then the numbers.

    For ALLSH, the copy with replaced words follows with those words marked
    (bold and underlined on a terminal, ``[in brackets]`` otherwise), then
    the model's probabilities on the text and on the copy, and their
    divergence (the text's score).
    """
    from ._why import MEASURE_NAMES, mark_changed, percent, why_sentence

    why = session.why(item.item_id)
    width = min(shutil.get_terminal_size((88, 24)).columns, 100)
    style = "ansi" if _ansi(out) else "brackets"
    sentence = why.get("sentence") or why.get("reason", "")
    if why.get("kind") == "allsh":
        sentence = why_sentence(
            "allsh",
            why["proba"],
            copy_proba=why["copy_proba"],
            changed_words="the highlighted words"
            if style == "ansi"
            else "the words in [brackets]",
        )
    print(
        textwrap.fill(f"why: {sentence}", width=width, subsequent_indent="     "),
        file=out,
    )
    if "copy" in why:
        copies = why["copy"] if isinstance(why["copy"], list) else [why["copy"]]
        originals = [item.text, item.text_pair]
        print("  the copy with replaced words:", file=out)
        for original, copy in zip(originals, copies, strict=False):
            marked = mark_changed(original or "", copy, style=style)
            for paragraph in marked.splitlines() or [""]:
                print(
                    textwrap.fill(
                        paragraph,
                        width=width,
                        initial_indent="    ",
                        subsequent_indent="    ",
                    ),
                    file=out,
                )
        original = ", ".join(
            f"{k} {percent(v)}" for k, v in (why["proba"] or {}).items()
        )
        copy = ", ".join(f"{k} {percent(v)}" for k, v in why["copy_proba"].items())
        print(f"  model on the text: {original}", file=out)
        print(f"  model on the copy: {copy}", file=out)
        measure = MEASURE_NAMES.get(why["measure"], why["measure"])
        print(
            f"  divergence ({measure}) between the two: "
            f"{why['divergence']:.4f} (the text's score)",
            file=out,
        )
    elif why.get("score") is not None:
        print(f"  score: {why['score']:.4g} ({why.get('reason', '')})", file=out)
    out.flush()


def annotate(
    session,
    *,
    annotator,
    retrain_every=None,
    input=None,
    output=None,
    progress=True,
):
    """Label texts of a session in the terminal until quit or the end of input.

    Keys: 1-9 (then letters) label, ``s`` skips, ``u`` undoes the last label
    or skip (and shows that text again), ``w`` shows why the text was
    picked, ``r`` retrains now, ``q`` quits. On a terminal one key press is
    enough; from a pipe each line is a key or a label name.

    Parameters
    ----------
    session : LabelingSession
    annotator : str
        Stored with every label.
    retrain_every : int or None, default=None
        Retrain (and query a fresh batch) after this many new labels; None
        uses the session's ``retrain_every``. A finished batch always
        retrains.
    input, output : file objects or None, default=None
        ``sys.stdin`` and ``sys.stdout`` by default.
    progress : bool, default=True
        Progress bars while retraining.

    Returns
    -------
    summary : AnnotationSummary
    """
    input = sys.stdin if input is None else input
    out = sys.stdout if output is None else output
    keys = label_keys(session.labels)
    every = session.config["retrain_every"] if retrain_every is None else retrain_every
    by_name = {label.lower(): label for label in session.labels}
    summary = AnnotationSummary()
    redo = None
    n_labeled = session.status().n_labeled
    with _Keys(input) as reader:
        while True:
            item = redo if redo is not None else session.next_item(annotator)
            redo = None
            if item is None:
                n_rounds = len(session.rounds())
                try:
                    batch = session.next_batch(progress=progress)
                except NotReadyError as error:
                    # The pool used up: next_batch trained on every label first.
                    rounds = session.rounds()
                    if len(rounds) > n_rounds:
                        summary.n_retrained += 1
                        print_round(rounds[-1], out)
                    print(str(error), file=out)
                    summary.stopped_by = "pool exhausted"
                    return summary
                if batch.kind == "query":
                    summary.n_retrained += 1
                    print_round(session.rounds()[-1], out)
                item = session.next_item(annotator)
                if item is None:
                    print("No text is free to label right now.", file=out)
                    summary.stopped_by = "pool exhausted"
                    return summary
            _show(item, keys, session, out, n_labeled, every)
            while True:
                key = reader.read()
                if key is None:
                    summary.stopped_by = "end of input"
                    print("End of input: every label is saved.", file=out)
                    return summary
                key_lower = key.lower()
                label = keys.get(key) or by_name.get(key_lower)
                if label is not None:
                    session.label(
                        item.item_id, label, annotator=annotator, source="annotate"
                    )
                    summary.n_labeled += 1
                    n_labeled += 1
                    print(f"saved: {label}", file=out)
                    break
                command = _COMMANDS.get(key_lower[:1]) if len(key_lower) == 1 else None
                command = command or {v: v for v in _COMMANDS.values()}.get(key_lower)
                if command == "quit":
                    print(
                        f"Quit: {summary.n_labeled} labels saved in this run.", file=out
                    )
                    summary.stopped_by = "quit"
                    return summary
                if command == "skip":
                    session.skip(item.item_id, annotator=annotator, source="annotate")
                    summary.n_skipped += 1
                    print("saved: skipped", file=out)
                    break
                if command == "undo":
                    undone = session.undo(annotator=annotator, source="annotate")
                    if undone is None:
                        print("Nothing to undo.", file=out)
                        continue
                    summary.n_undone += 1
                    if undone.kind == "label":
                        n_labeled -= 1
                    print(f"undone: {undone.kind} of {undone.item_id}", file=out)
                    redo = session.item(undone.item_id)
                    break
                if command == "why":
                    _print_why(session, item, out)
                    continue
                if command == "retrain":
                    print("Retraining now...", file=out)
                    out.flush()
                    round_info = session.retrain(progress=progress)
                    summary.n_retrained += 1
                    print_round(round_info, out)
                    break
                print(f"Unknown key {key!r}.", file=out)
                out.flush()
            out.flush()
            if redo is None and session.retrain_due(every):
                print(f"{every} new labels: retraining...", file=out)
                out.flush()
                round_info = session.retrain(progress=progress)
                summary.n_retrained += 1
                print_round(round_info, out)
