"""A watchdog process that kills what a process started once that process dies (Linux ``/proc``).

Run by :class:`commsldr.workers.TreeReaper` as ``python -I -S _reaper.py PID`` with pipes on its
standard input and output; it imports nothing beyond the standard library, so it starts in
milliseconds, and writes ``ready`` once it knows which descendants were there before it.

While the watched process ``PID`` lives, the reaper records every descendant of it that was not
there when the reaper started (``pid`` and start time from ``/proc/PID/stat``), re-reading the
process table every :data:`POLL_S` seconds. When its standard input closes without the line
``done`` -- the watched process ended, however it ended (``kill -9`` included), because the kernel
closes the pipe then -- it sends ``SIGKILL`` to every recorded process that still has the same
start time (a reused pid is never hit) and to their own new children, then exits. On ``done`` it
exits without killing anything. A process that is started and orphaned (its parent ending)
within one poll interval is never seen.

Why: a local Ray instance started by ``ray.init()`` lets its raylet start helper processes
(``ray::DashboardAgent``, ``ray::RuntimeEnvAgent``) that survived a ``kill -9`` of the driver
(measured: still alive 60 s later), re-parented to ``init`` where nothing cleans them up.

Reference: ``proc(5)`` (``/proc/PID/stat``: fields 4 ``ppid`` and 22 ``starttime``), Linux
man-pages.
"""

from __future__ import annotations

import os
import select
import signal
import sys

#: seconds between two reads of the process table while the watched process lives
POLL_S = 0.2


def _table() -> dict[int, tuple[int, int]]:
    """``pid -> (ppid, starttime)`` of every process readable in ``/proc``."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        out[int(name)] = (int(fields[1]), int(fields[19]))
    return out


def _descendants(root: int, table: dict[int, tuple[int, int]]) -> set[tuple[int, int]]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            out.add((child, table[child][1]))
            todo.append(child)
    return out


def _kill(recorded: set[tuple[int, int]]) -> None:
    """SIGKILL the recorded processes still alive with the same start time, and their children
    (a process started between the last poll and the end), until none is left."""
    for _ in range(20):
        table = _table()
        alive = {(pid, start) for pid, start in recorded if table.get(pid, (0, -1))[1] == start}
        for pid, _ in list(alive):
            alive |= _descendants(pid, table)
        if not alive:
            return
        for pid, _ in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        recorded = recorded | alive
        select.select([], [], [], 0.05)


def main(argv: list[str]) -> int:
    watched = int(argv[1])
    me = os.getpid()
    table = _table()
    before = _descendants(watched, table)
    os.write(sys.stdout.fileno(), b"ready\n")  # the watched process waits for this line
    recorded: set[tuple[int, int]] = set()
    buffer = b""
    while True:
        ready, _, _ = select.select([sys.stdin.buffer], [], [], POLL_S)
        if ready:
            chunk = os.read(sys.stdin.fileno(), 64)
            buffer += chunk
            if b"done" in buffer:
                return 0
            if not chunk:  # the watched process closed the pipe without "done": it has ended
                break
        table = _table()
        if watched not in table:
            break
        recorded |= {p for p in _descendants(watched, table) - before if p[0] != me}
    _kill(recorded)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
