"""Replacing a result folder as a whole, recoverably, one writer at a time.

A run is staged in `.NAME.PID.RANDOM.tmp` beside OUTDIR and swapped in with two renames
(OUTDIR → `.NAME.old-PID`, staging → OUTDIR) while SIGINT and SIGTERM are held back. Writers
of one OUTDIR take `.NAME.lock` beside it (`fcntl.flock`; the kernel releases it when a
process dies, so a killed run never blocks the next one).

A process killed outright between the two renames leaves OUTDIR missing. The next writer, or
`load_results`, repairs that under the lock (`recover`): if the dead run's staging is
complete (it holds its summary.json, which is written last) the swap is finished, so OUTDIR
holds the newer whole run; otherwise the previous run is moved back. Then every staging and
old folder of a dead process is removed.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

from siteopt.export import leftovers
from siteopt.export.files import WriteError, reason

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; writers are not serialised there
    fcntl = None  # type: ignore[assignment]

LOCK_WAIT_SECONDS = 60.0  # a second writer waits this long for the first, then gives up
_POLL_SECONDS = 0.2
log = logging.getLogger("siteopt")


class FolderBusy(WriteError):
    """Another live process holds the lock of the result folder."""

    def __init__(self, outdir: Path, pid: int | None):
        super().__init__(outdir, "another siteopt run is writing it", errno.EBUSY)
        self.pid = pid

    def __str__(self) -> str:
        who = f" (pid {self.pid})" if self.pid else ""
        return (f"another siteopt run is writing {self.path}{who}; run again when it has "
                f"finished")


@contextlib.contextmanager
def folder_lock(outdir: Path, wait_s: float | None = None) -> Iterator[None]:
    """Hold the lock of `outdir`'s writers, waiting up to `wait_s` seconds for another."""
    if fcntl is None:
        yield
        return
    path = leftovers.lock_path(outdir)
    deadline = time.monotonic() + (LOCK_WAIT_SECONDS if wait_s is None else wait_s)
    fd = _acquire(path, outdir, deadline)
    try:
        yield
    finally:
        # removed while still held, so a waiter that opened the old file retries on a new one
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _acquire(path: Path, outdir: Path, deadline: float) -> int:
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise WriteError(path, reason(exc), exc.errno) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            if time.monotonic() >= deadline:
                raise FolderBusy(outdir, holder) from None
            time.sleep(_POLL_SECONDS)
            continue
        except OSError as exc:  # a file system without locks: go on unserialised
            log.debug("no lock on %s: %s", path, exc)
            return fd
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if not same:  # the holder removed it as we opened it: lock the new one
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd


def _holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="ignore").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


def recover(outdir: Path) -> list[str]:
    """Repair what dead writers of `outdir` left (call it holding the lock); return what was
    done, in words."""
    done = []
    stale = leftovers.stale(outdir, own_is_stale=True)
    if not outdir.exists() and not outdir.is_symlink():
        stages = [s for s in stale if s.complete_stage]
        olds = [s for s in stale if s.kind == "old" and s.path.is_dir()]
        olds_pids = {o.pid for o in olds}
        pick = next((s for s in stages if s.pid in olds_pids), None) or \
            next(iter(stages), None) or next(iter(olds), None)
        if pick is not None:
            try:
                os.replace(pick.path, outdir)
            except OSError as exc:
                raise WriteError(outdir, f"cannot restore it from {pick.path.name}: "
                                         f"{reason(exc)}", exc.errno) from None
            what = "finished the interrupted swap" if pick.kind == "temp" else \
                "restored the previous run"
            done.append(f"{outdir}: {what} of a siteopt run that was killed (pid {pick.pid})")
            stale = [s for s in stale if s is not pick]
    for leftover in stale:
        leftovers.remove(leftover.path)
    for line in done:
        log.warning("note: %s", line)
    return done


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back (POSIX; per thread); delivered when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def swap_in(stage: Path, outdir: Path) -> None:
    """Put the complete folder `stage` at `outdir`, replacing a previous run there."""
    old = leftovers.old_path(outdir)
    leftovers.remove(old)  # under the lock, a folder with our own PID is stale
    moved = False
    try:
        with _signals_held():
            try:
                if outdir.exists() or outdir.is_symlink():
                    os.replace(outdir, old)
                    moved = True
                os.replace(stage, outdir)
            except OSError:
                if moved and not outdir.exists():
                    os.replace(old, outdir)
                    moved = False
                raise
    finally:
        # also when a held-back Ctrl-C fires as the signals come back: the swap is done
        if moved and outdir.exists() and not stage.exists():
            leftovers.remove(old)
