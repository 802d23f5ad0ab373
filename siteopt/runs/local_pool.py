"""Worker processes on this machine that outlive one of their number dying.

A ProcessPoolExecutor breaks as a whole when one worker is killed (the out-of-memory killer's
SIGKILL, a crash in native code): every job in flight fails with BrokenProcessPool and nobody
knows whose process died. Here each worker has its own pipe and process, so a death is
charged to the one job that worker was running, with its exit code; the others run on and a
fresh process takes the dead one's place.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

STOP = None  # sent to a worker: no more jobs
GRACE_S = 5.0  # seconds a stopped worker has to end by itself before it is killed


@dataclass(frozen=True)
class Died:
    """The worker running a job ended without answering."""

    exitcode: int | None

    @property
    def reason(self) -> str:
        code = self.exitcode
        if code is not None and code < 0:
            number = -code
            if number == signal.SIGKILL:
                return f"killed by signal {number}: out of memory?"
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = "unknown signal"
            return f"killed by signal {number} ({name})"
        return f"exited with code {code}"


@dataclass(frozen=True)
class Raised:
    """The job raised in the worker (the text of the exception)."""

    error: str


def _serve(conn: Connection, func: Callable[[Any], Any]) -> None:
    """A worker's loop: run each job received, send back its result."""
    try:
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                return
            if job is STOP:
                return
            try:
                answer: Any = func(job)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # the worker stays up for the next job
                answer = Raised(f"{type(exc).__name__}: {exc}")
            try:
                conn.send(answer)
            except Exception as exc:  # an answer that cannot be pickled
                conn.send(Raised(f"cannot send the result back: {type(exc).__name__}: {exc}"))
    except KeyboardInterrupt:
        # Ctrl-C reaches the whole process group and the parent reports it; ending here
        # (not by a signal) lets the job's own clean-up run and prints no traceback
        return


class _Worker:
    def __init__(self, context: Any, func: Callable[[Any], Any]):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, func), daemon=True)
        self.process.start()
        child.close()  # only the child holds its end: its death closes the pipe
        self.job: Any = None

    def give(self, job: Any) -> bool:
        try:
            self.conn.send(job)
        except OSError:  # died while idle
            return False
        self.job = job
        return True

    def answer(self) -> Any:
        """The job's result, or Died when the process ended without one."""
        try:
            if self.conn.poll():
                return self.conn.recv()
        except (EOFError, OSError):
            pass
        self.process.join(timeout=5)
        return Died(self.process.exitcode)

    def stop(self) -> None:
        if self.job is None and self.process.is_alive():
            with contextlib.suppress(OSError):
                self.conn.send(STOP)
        elif self.process.is_alive():  # interrupted mid-job: end it as Ctrl-C would
            with contextlib.suppress(OSError):
                os.kill(self.process.pid, signal.SIGINT)

    def reap(self) -> None:
        self.process.join(timeout=GRACE_S)
        if self.process.is_alive():  # deep in HiGHS, which does not look at signals
            self.process.kill()
            self.process.join()
        self.conn.close()


def _hand_out(queue: deque, pool: list[_Worker], workers: int,
              start_worker: Callable[[], _Worker], on_start: Callable[[Any], None]) -> None:
    """Give the next jobs to idle workers, then to new ones up to `workers` in all; a worker
    found dead while idle is dropped."""
    for worker in [w for w in pool if w.job is None]:
        if queue and not worker.give(queue[0]):
            pool.remove(worker)
            worker.reap()
        elif queue:
            on_start(queue.popleft())
    while queue and len(pool) < workers:
        worker = start_worker()
        pool.append(worker)
        if worker.give(queue[0]):
            on_start(queue.popleft())


def run_jobs(jobs: Iterable[Any], func: Callable[[Any], Any], workers: int,
             on_start: Callable[[Any], None] = lambda job: None,
             stop_after: Callable[[Any], bool] = lambda answer: False
             ) -> Iterator[tuple[Any, Any]]:
    """Run `func(job)` on up to `workers` spawned processes; yield (job, answer) as each
    finishes, where answer is func's result, Raised or Died. After an answer for which
    `stop_after` is true no new job starts (those in flight finish)."""
    # spawn: HiGHS keeps threads of its own, which do not survive a fork
    context = multiprocessing.get_context("spawn")
    queue = deque(jobs)
    pool: list[_Worker] = []
    try:
        while queue or any(w.job is not None for w in pool):
            _hand_out(queue, pool, workers, lambda: _Worker(context, func), on_start)
            busy = [w for w in pool if w.job is not None]
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for worker in busy:
                if worker.conn not in ready and worker.process.sentinel not in ready:
                    continue
                job, answer = worker.job, worker.answer()
                worker.job = None
                if isinstance(answer, Died):
                    pool.remove(worker)
                    worker.reap()
                yield job, answer
                if stop_after(answer):
                    queue.clear()
    finally:
        for worker in pool:
            worker.stop()
        for worker in pool:
            worker.reap()
