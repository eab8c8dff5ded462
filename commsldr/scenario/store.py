"""The rows of finished jobs on disk: ``jobs.jsonl`` in the run directory.

Each finished job appends one JSON line ``{"key", "kind", "row", "sum"}`` (flushed and fsynced);
``sum`` is :func:`row_checksum`, a SHA-256 of the job key, its kind and the row. :class:`RowStore`
reads them back for ``--resume`` and trusts a line only when it is complete JSON with those four
fields and its checksum matches: a line cut short by a kill, a damaged or edited line, or a row
without a checksum (an older run) is reported in one warning (``jobs.jsonl: N row(s) not trusted
(line 3: checksum mismatch, ...); their jobs run again``) and its job runs again — never used,
never fatal. (The checksum detects damage and edits; anyone who can write the run directory can
also recompute it, so a run directory from someone else is no more trustworthy than its author:
see "Trust model" in the robustness guide.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from commsldr.rundir import create_fresh, open_append
from commsldr.scenario.plan import Job
from commsldr.scenario.rows import JobRow

__all__ = ["RowStore", "ROWS_FILE", "normalize_row", "row_checksum"]

logger = logging.getLogger("commsldr.run")

#: The file of finished-job rows in a run directory.
ROWS_FILE = "jobs.jsonl"


def normalize_row(row: JobRow) -> JobRow:
    """``row`` as it reads back from ``jobs.jsonl`` (so fresh and resumed runs agree bit for bit:
    JSON keeps every float exactly, NaN included)."""
    out: JobRow = json.loads(json.dumps(row))
    return out


def row_checksum(key: str, kind: str, row: JobRow) -> str:
    """SHA-256 (32 hex digits) of the canonical JSON of ``[key, kind, row]`` (sorted keys)."""
    text = json.dumps([key, kind, row], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _why_untrusted(line: str) -> tuple[str, str, JobRow] | str:
    """``(key, kind, row)`` of a trustworthy line, else the reason it is not."""
    try:
        rec = json.loads(line)
    except ValueError:
        return "not complete JSON"
    if not isinstance(rec, dict):
        return "not a JSON object"
    key, kind, row, total = rec.get("key"), rec.get("kind"), rec.get("row"), rec.get("sum")
    if not (isinstance(key, str) and isinstance(kind, str) and isinstance(row, dict)):
        return "missing or mistyped key/kind/row"
    if not isinstance(total, str):
        return "no checksum"
    if total != row_checksum(key, kind, row):
        return "checksum mismatch"
    return key, kind, row


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
        self.problems: list[str] = []
        if resume and self.path.is_file():
            self._read()
            with open(self.path, "rb") as f:  # a kill may have cut the last line short
                data = f.read()
            if data and not data.endswith(b"\n"):
                with open_append(self.path) as f:
                    f.write("\n")
        else:
            create_fresh(self.path).close()  # never truncates through a link

    def _read(self) -> None:
        problems: list[str] = []
        for number, line in enumerate(self.path.read_text(errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            got = _why_untrusted(line)
            if isinstance(got, str):
                self.ignored_lines += 1
                problems.append(f"line {number}: {got}")
                continue
            key, _, row = got
            self.rows[key] = row
        self.problems = problems
        if problems:
            shown = ", ".join(problems[:5]) + (", ..." if len(problems) > 5 else "")
            logger.warning(f"{self.path.name}: {len(problems)} row(s) not trusted ({shown}); "
                           f"their jobs run again")

    def append(self, job: Job, row: JobRow) -> JobRow:
        """Record ``row`` of ``job`` durably (flush + fsync); returns the normalized row."""
        row = normalize_row(row)
        line = json.dumps({"key": job.key, "kind": job.kind, "row": row,
                           "sum": row_checksum(job.key, job.kind, row)}) + "\n"
        try:
            with open_append(self.path) as f:  # O_NOFOLLOW
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:  # e.g. a full disk: the message names the file
            if exc.filename is not None:
                raise
            raise OSError(exc.errno, exc.strerror or str(exc), str(self.path)) from exc
        self.rows[job.key] = row
        return row

    def done(self, job: Job) -> bool:
        """Whether ``job`` has a usable row (with the timeline when the job must record it)."""
        row = self.rows.get(job.key)
        return row is not None and (not job.timeline or "timeline" in row)
