"""Logging for commsldr: every module logs to ``logging.getLogger("commsldr.<part>")``.

The library adds no handler of its own (the standard-library convention); the ``commsldr``
command calls :func:`console_logging` (status lines on stderr, written through ``tqdm`` so that
they do not break progress bars), and a scenario run adds :func:`run_log` (``run.log`` in the run
directory, with time stamps) for as long as it runs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from commsldr.rundir import open_append

__all__ = ["LOGGER_NAME", "console_logging", "run_log"]

LOGGER_NAME = "commsldr"


class _TqdmHandler(logging.Handler):
    """Writes records with ``tqdm.write`` (to stderr), so open progress bars stay intact."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=__import__("sys").stderr)
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


def console_logging(level: int = logging.INFO) -> None:
    """Print ``commsldr`` log records of ``level`` and above on stderr (once per process)."""
    logger = logging.getLogger(LOGGER_NAME)
    if any(isinstance(h, _TqdmHandler) for h in logger.handlers):
        return
    handler = _TqdmHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(level)
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)


@contextlib.contextmanager
def run_log(path: str | Path, level: int = logging.DEBUG) -> Iterator[Path]:
    """Also write every ``commsldr`` record of ``level`` and above to ``path`` while inside."""
    logger = logging.getLogger(LOGGER_NAME)
    path = Path(path)
    handler = logging.StreamHandler(open_append(path))  # never through a symbolic link
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)
    old_level = logger.level
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    logger.addHandler(handler)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        handler.close()
        handler.stream.close()
        logger.setLevel(old_level)
