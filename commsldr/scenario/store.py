"""The rows of finished jobs on disk: ``jobs.jsonl`` in the run directory.

Each finished job appends one JSON line ``{"key", "kind", "row"}`` (flushed and fsynced);
:class:`RowStore` reads them back for ``--resume`` (a line cut short by a kill is ignored) and the
runner builds every result file from the rows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from commsldr.scenario.plan import Job
from commsldr.scenario.rows import JobRow

__all__ = ["RowStore", "ROWS_FILE", "normalize_row"]

#: The file of finished-job rows in a run directory.
ROWS_FILE = "jobs.jsonl"


def normalize_row(row: JobRow) -> JobRow:
    """``row`` as it reads back from ``jobs.jsonl`` (so fresh and resumed runs agree bit for bit:
    JSON keeps every float exactly, NaN included)."""
    out: JobRow = json.loads(json.dumps(row))
    return out


class RowStore:
    """Append-only ``jobs.jsonl``: one line per finished job.

    Args:
        path: the file (``<run_dir>/jobs.jsonl``).
        resume: keep the rows already there (else start an empty file).
    """

    def __init__(self, path: str | os.PathLike[str], *, resume: bool) -> None:
        self.path = Path(path)
        self.rows: dict[str, JobRow] = {}
        self.ignored_lines = 0
        if resume and self.path.is_file():
            self._read()
            with open(self.path, "rb") as f:  # a kill may have cut the last line short
                data = f.read()
            if data and not data.endswith(b"\n"):
                with open(self.path, "ab") as f:
                    f.write(b"\n")
        else:
            self.path.write_text("")

    def _read(self) -> None:
        for line in self.path.read_text(errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                key, row = rec["key"], rec["row"]
            except (ValueError, KeyError, TypeError):
                self.ignored_lines += 1
                continue
            if isinstance(key, str) and isinstance(row, dict):
                self.rows[key] = row

    def append(self, job: Job, row: JobRow) -> JobRow:
        """Record ``row`` of ``job`` durably (flush + fsync); returns the normalized row."""
        row = normalize_row(row)
        line = json.dumps({"key": job.key, "kind": job.kind, "row": row}) + "\n"
        with open(self.path, "a") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self.rows[job.key] = row
        return row

    def done(self, job: Job) -> bool:
        """Whether ``job`` has a usable row (with the timeline when the job must record it)."""
        row = self.rows.get(job.key)
        return row is not None and (not job.timeline or "timeline" in row)
