"""Scans that run after the upload has been answered: one at a time, each with a progress the page polls."""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from detector.errors import DetectorError

STAGES = {"reading": "读取文件 reading", "scanning": "比对 scanning", "recording": "保存结果 recording"}


@dataclasses.dataclass
class Job:
    """One scan's state as the progress page shows it."""

    id: str
    files: int
    state: str = "queued"  # queued, running, done, failed
    stage: str = "reading"
    done: int = 0
    total: int = 0
    scan_id: int | None = None
    error: str | None = None
    started: float = dataclasses.field(default_factory=time.time)

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total

    def as_dict(self) -> dict:
        return {"id": self.id, "state": self.state, "stage": self.stage, "stage_label": STAGES.get(self.stage, self.stage),
                "done": self.done, "total": self.total, "files": self.files, "scan_id": self.scan_id, "error": self.error,
                "seconds": round(time.time() - self.started, 1)}


class Jobs:
    """Runs jobs on one worker thread (the machine's cores go to the scan itself); keeps the latest ones for polling."""

    def __init__(self, keep: int = 200):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chachong-scan")
        self._jobs: dict = {}
        self._lock = threading.Lock()
        self._keep = keep

    def start(self, files: int, work) -> Job:
        """Queue `work(job)`; it returns the scan id. A DetectorError becomes the job's error message."""
        job = Job(id=secrets.token_urlsafe(9), files=files)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                self._jobs.pop(next(iter(self._jobs)))
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def wait(self, job: Job, timeout: float) -> Job:
        deadline = time.time() + timeout
        while job.state in ("queued", "running") and time.time() < deadline:
            time.sleep(0.05)
        return job

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _run(job: Job, work) -> None:
        job.state = "running"
        try:
            job.scan_id = work(job)
            job.state = "done"
        except DetectorError as err:
            job.error, job.state = str(err), "failed"
        except Exception as err:  # a bug must still end the job, or the page would wait for ever
            job.error, job.state = f"internal error: {type(err).__name__}: {err}", "failed"


def current_jobs() -> Jobs:
    """The jobs of the app handling the request."""
    import flask

    return flask.current_app.extensions["chachong.jobs"]
