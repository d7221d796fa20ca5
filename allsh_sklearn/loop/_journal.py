"""A folder of crash-safe logs of loop runs, from which runs resume.

:class:`RunJournal` keeps, in one folder, the iteration records of many
loop runs (``iterations.jsonl``, one :class:`IterationRecord` per line with
its run's id), one summary per finished run (``runs.jsonl``) and what asked
for each run (``requests.jsonl``). Lines are appended whole and fsynced
(:class:`~allsh_sklearn.utils._storage.JsonlLog`): a process killed at any
point loses at most the iteration in progress, and a run started again
resumes from :meth:`RunJournal.completed`. Per-run locks keep two processes
sharing the folder from computing the same run.
"""

from pathlib import Path

from ..utils._storage import JsonlLog, RunLock
from ._callbacks import LambdaCallback
from ._records import IterationRecord

__all__ = ["RunJournal"]


class RunJournal:
    """Crash-safe JSON-lines logs of loop runs in one folder.

    Parameters
    ----------
    folder : str or path-like
        Created on the first write.

    Attributes
    ----------
    iterations, runs, requests : JsonlLog
        ``iterations.jsonl``, ``runs.jsonl`` and ``requests.jsonl``.

    Examples
    --------
    >>> import tempfile
    >>> journal = RunJournal(tempfile.mkdtemp())
    >>> recorder = journal.recorder("run-1")
    >>> recorder.on_iteration_end(None, record=IterationRecord(0, 2, [4, 7]))
    >>> [r.acquired for r in journal.completed("run-1")]
    [[4, 7]]
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.iterations = JsonlLog(self.folder / "iterations.jsonl")
        self.runs = JsonlLog(self.folder / "runs.jsonl")
        self.requests = JsonlLog(self.folder / "requests.jsonl")

    def completed(self, run_id):
        """The saved records of a run: iterations ``0..T`` without a gap.

        Parameters
        ----------
        run_id : str

        Returns
        -------
        records : list of IterationRecord
            For :meth:`ActiveLearningLoop.resume`.
        """
        found = {}
        for line in self.iterations.read():
            if line.get("run_id") == run_id:
                found.setdefault(line["iteration"], line)
        records = []
        while len(records) in found:
            records.append(IterationRecord.from_dict(found[len(records)]))
        return records

    def recorder(self, run_id, after=None):
        """A loop callback that appends every new record to ``iterations``.

        Parameters
        ----------
        run_id : str
            Written with each record.
        after : callable or None, default=None
            Called with no argument after each append (a test hook).

        Returns
        -------
        callback : Callback
        """

        def append(loop, record, **kwargs):
            self.iterations.append({"run_id": run_id, **record.to_dict()})
            if after is not None:
                after()

        return LambdaCallback(on_iteration_end=append)

    def finished(self):
        """The summaries of the finished runs, by run id.

        Returns
        -------
        runs : dict of {str: dict}
        """
        return {record["run_id"]: record for record in self.runs.read()}

    def lock(self, name):
        """A non-blocking lock on one run (``with journal.lock(id) as lock:``).

        Parameters
        ----------
        name : str
            A file-name-safe key of the run.

        Returns
        -------
        lock : RunLock
            ``lock.acquired`` tells whether this process holds it.
        """
        return RunLock(self.folder / ".locks" / f"{name}.lock")
