"""The labeling page's work off the event loop: worker threads for the
session's requests (:class:`Workers`) and the retraining in the background
(:class:`RetrainJob`)."""

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

__all__ = ["RetrainJob", "Workers"]

#: Worker threads for requests that change the session, and for those that
#: only read it. Each thread keeps its own database connection.
_WRITE_WORKERS = 4
_READ_WORKERS = 4


class RetrainJob:
    """One retraining at a time, in a thread, with its progress.

    The thread opens its own connection to the session (the backend's
    ``retrain_and_query`` runs wherever it is called), so the page keeps
    answering while the model trains.
    """

    def __init__(self, backend):
        self.backend = backend
        self._lock = threading.Lock()
        self._thread = None
        self.state = {"running": False, "message": "", "done": 0, "total": 0}

    def snapshot(self):
        with self._lock:
            state = dict(self.state)
        if state["running"] and "started_at" in state:
            seconds = time.time() - state["started_at"]
            state["elapsed"] = seconds
            state["message"] = f"{state['message']} {seconds:.0f} s so far."
        return state

    def _progress(self, message, done=0, total=0):
        with self._lock:
            self.state.update(message=message, done=done, total=total)

    def start(self, batch_size):
        with self._lock:
            if self.state["running"]:
                return False
            self.state = {
                "running": True,
                "message": "Starting...",
                "done": 0,
                "total": 0,
                "started_at": time.time(),
            }
            self._thread = threading.Thread(
                target=self._run, args=(batch_size,), name="allsh-retrain", daemon=True
            )
            self._thread.start()
            return True

    def _run(self, batch_size):
        try:
            summary = self.backend.retrain_and_query(
                batch_size, progress=self._progress
            )
        except Exception as error:  # shown on the page, never lost
            with self._lock:
                self.state.update(
                    running=False,
                    error=True,
                    message=f"Retraining failed: {error}",
                    finished_at=time.time(),
                )
            return
        with self._lock:
            self.state.update(
                running=False,
                error=False,
                message=summary,
                finished_at=time.time(),
            )

    def join(self, timeout=None):
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


class Workers:
    """The page's worker threads: one pool for writes, one for reads.

    Starlette's ``run_in_threadpool`` would do the same on anyio's shared
    threads, but those end after ten idle seconds and new ones start, each
    opening another database connection that the session keeps: these
    pools keep their threads (and connections) for the server's life.
    """

    def __init__(self):
        self.writes = ThreadPoolExecutor(
            max_workers=_WRITE_WORKERS, thread_name_prefix="allsh-write"
        )
        self.reads = ThreadPoolExecutor(
            max_workers=_READ_WORKERS, thread_name_prefix="allsh-read"
        )

    async def write(self, function, *args, **kwargs):
        """Run ``function`` in a write worker; its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.writes, lambda: function(*args, **kwargs)
        )

    async def read(self, function, *args, **kwargs):
        """Run ``function`` in a read worker; its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.reads, lambda: function(*args, **kwargs))

    def shutdown(self, wait=True):
        """Stop both pools (after their running calls when ``wait``)."""
        self.writes.shutdown(wait=wait)
        self.reads.shutdown(wait=wait)
