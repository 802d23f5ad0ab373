"""The hidden names siteopt writes beside a target, and removing those of dead processes.

Beside a target NAME (a file, or a result folder) siteopt writes only:

- `.KEY.PID.RANDOM.tmp`: a file or folder being written by process PID, moved into place
  when complete (a result folder's staging is complete once it holds its summary.json);
- `.KEY.old-PID`: the previous result folder, for the instant of a swap;
- `.KEY.lock`: held by the one process writing a result folder, removed when it is done.

KEY is NAME, or for a long name its beginning and a hash, so that hidden names fit the file
system's limit. A process killed outright (SIGKILL, power loss) leaves its hidden names
behind; the PID in each name tells whether its writer is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

_KEY_BYTES = 100  # NAME_MAX is 255 on common file systems; PIDs, suffixes and dots fit after


def key(name: str) -> str:
    raw = os.fsencode(name)
    if len(raw) <= _KEY_BYTES:
        return name
    head = raw[:60].decode("utf-8", errors="ignore")
    return f"{head}~{hashlib.sha256(raw).hexdigest()[:16]}"


def temp_prefix(target: Path, pid: int | None = None) -> str:
    return f".{key(target.name)}.{pid or os.getpid()}."


def old_path(outdir: Path, pid: int | None = None) -> Path:
    return outdir.parent / f".{key(outdir.name)}.old-{pid or os.getpid()}"


def lock_path(outdir: Path) -> Path:
    return outdir.parent / f".{key(outdir.name)}.lock"


def is_alive(pid: int) -> bool:
    """Whether process `pid` exists here (when in doubt: yes, so nothing live is removed)."""
    if pid <= 0 or os.name == "nt":  # os.kill(pid, 0) is not a probe on Windows
        return pid > 0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@dataclass(frozen=True)
class Leftover:
    path: Path
    pid: int
    kind: str  # "temp" (a file or staging folder being written) or "old" (a swapped-out run)

    @property
    def complete_stage(self) -> bool:
        """A staging folder that holds its summary.json: a whole run, written last."""
        return self.kind == "temp" and self.path.is_dir() and \
            (self.path / "summary.json").is_file()


def found(target: Path) -> list[Leftover]:
    """Every hidden name of `target` in its folder, newest first."""
    stem = re.escape(key(target.name))
    patterns = {"temp": re.compile(rf"\.{stem}\.(\d+)\.[A-Za-z0-9_]+\.tmp"),
                "old": re.compile(rf"\.{stem}\.old-(\d+)")}
    out = []
    try:
        entries = list(target.parent.iterdir()) if target.parent.is_dir() else []
    except OSError:
        return []
    for entry in entries:
        for kind, pattern in patterns.items():
            match = pattern.fullmatch(entry.name)
            if match:
                out.append(Leftover(entry, int(match.group(1)), kind))
    return sorted(out, key=_mtime, reverse=True)


def _mtime(leftover: Leftover) -> float:
    try:
        return leftover.path.lstat().st_mtime
    except OSError:
        return 0.0


def stale(target: Path, own_is_stale: bool = False) -> list[Leftover]:
    """Hidden names of `target` whose writer is gone. `own_is_stale`: this process is not
    writing `target` (it holds the target's lock), so names with its own PID are stale too
    (PIDs are reused, e.g. in containers)."""
    me = os.getpid()
    return [f for f in found(target)
            if (f.pid == me and own_is_stale) or (f.pid != me and not is_alive(f.pid))]


def remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()


_ANY_TEMP = re.compile(r"\.(.+)\.(\d+)\.[A-Za-z0-9_]+\.tmp")


def is_stale_temp_file(path: Path) -> bool:
    """Whether `path` is a temporary file of a siteopt process that is gone."""
    match = _ANY_TEMP.fullmatch(path.name)
    if not match or path.is_dir():
        return False
    pid = int(match.group(2))
    return pid != os.getpid() and not is_alive(pid)


def remove_stale_files(target: Path) -> None:
    """Remove temporary files of `target` left by dead processes (files only: a staging
    folder is cleaned under its result folder's lock)."""
    for leftover in stale(target):
        if leftover.kind == "temp" and not leftover.path.is_dir():
            remove(leftover.path)
