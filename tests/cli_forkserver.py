"""Runs `siteopt` commands, each in a process of its own, without paying the imports each time.

Started as a fresh, single-threaded Python process (`python tests/cli_forkserver.py WORKERS`),
it imports siteopt's command line and the libraries it uses once, then reads one JSON command
per line on stdin — {"id", "args", "cwd", "timeout"} — and runs each in a forked child: the
child's exit code, stdout and stderr are its own, exactly as for `python -m siteopt ARGS`
(a traceback would show on its stderr, a hang is killed after `timeout` seconds and reported
with code null). Up to WORKERS children run at once; each result is one JSON line on stdout,
in the order they finish. Linux and macOS only (fork).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import time


def _preload() -> None:
    """What `siteopt validate` and `solve` import, so that every child has it already."""
    import highspy  # noqa: F401
    import openpyxl  # noqa: F401
    import pandas  # noqa: F401
    import pyomo.environ  # noqa: F401

    import siteopt.api  # noqa: F401
    import siteopt.cli  # noqa: F401
    import siteopt.export.results_folder  # noqa: F401
    import siteopt.export.terminal  # noqa: F401
    import siteopt.export.workbook  # noqa: F401


def _child(command: dict, out_path: str, err_path: str) -> None:
    """In the forked child: run the command line with its own stdin, stdout and stderr."""
    code = 1
    try:
        os.chdir(command["cwd"])
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        for fd, path in ((1, out_path), (2, err_path)):
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(handle, fd)
            os.close(handle)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        sys.argv = ["siteopt", *command["args"]]
        from siteopt.cli import main

        try:
            main(args=command["args"], prog_name="siteopt")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # what `python -m siteopt` would print and exit 1 with
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # nothing more can be said from here
                stream.flush()
        os._exit(code)


def serve(workers: int) -> None:
    _preload()
    folder = tempfile.mkdtemp(prefix="siteopt-forkserver-")
    pending = [json.loads(line) for line in sys.stdin if line.strip()]
    running: dict[int, tuple[dict, float, str, str]] = {}

    def report(command: dict, code: int | None, out_path: str, err_path: str) -> None:
        texts = []
        for path in (out_path, err_path):
            with open(path, encoding="utf-8", errors="replace") as f:
                texts.append(f.read())
            os.unlink(path)
        sys.stdout.write(json.dumps({"id": command["id"], "code": code, "out": texts[0],
                                     "err": texts[1]}) + "\n")
        sys.stdout.flush()

    while pending or running:
        while pending and len(running) < workers:
            command = pending.pop(0)
            out_path = os.path.join(folder, f"{command['id']}.out")
            err_path = os.path.join(folder, f"{command['id']}.err")
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                _child(command, out_path, err_path)
            running[pid] = (command, time.monotonic(), out_path, err_path)
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for child, (command, started, _, _) in list(running.items()):
                if now - started > command["timeout"]:
                    os.kill(child, signal.SIGKILL)
                    os.waitpid(child, 0)
                    command_, _, out_path, err_path = running.pop(child)
                    report(command_, None, out_path, err_path)
            time.sleep(0.01)
            continue
        command, _, out_path, err_path = running.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        report(command, code, out_path, err_path)
    os.rmdir(folder)


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
