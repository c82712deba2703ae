"""FaceGate's log file: every error and every door decision, rotating, readable by the owner only.

Modules log to loggers under "facegate" (facegate.door, facegate.decide, facegate.cli, …) and
need nothing else: setup() attaches one rotating file handler to that logger tree, so whatever a
module logs lands in the file without the module knowing where the file is. Uncaught exceptions
(in any thread) are logged too, because an error nobody caught is the one most worth keeping.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from io import TextIOWrapper
    from types import TracebackType

LOG_NAME = "facegate.log"
ROOT_LOGGER = "facegate"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose files (the current one and each new one after a rollover)
    are created mode 0600: the log names people, so it is as private as the gallery."""

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def setup(
    folder: str | Path | None = None, level: int = logging.INFO, max_bytes: int = 2_000_000, backups: int = 5
) -> Path | None:
    """Log the "facegate" tree to ``folder``/facegate.log (default: the data folder); the path,
    or None when the folder cannot be written (the warning goes to the console).

    Calling it again with another folder moves the log there (one file handler at a time), so
    tests and a window reopened on another gallery do not write to two files."""
    if folder is None:
        from core.paths import data_dir

        folder = data_dir()
    path = Path(folder) / LOG_NAME
    logger = logging.getLogger(ROOT_LOGGER)
    old = [h for h in logger.handlers if isinstance(h, PrivateRotatingFileHandler)]
    if any(Path(h.baseFilename) == path.resolve() and h.maxBytes == max_bytes for h in old):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = PrivateRotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    except OSError as exc:  # a read-only or full data folder must not stop FaceGate; say so once
        logger.warning(
            "cannot write the log file %s (%s); keeping %s",
            path,
            exc.strerror or exc,
            old[0].baseFilename if old else "the console only",
        )
        return None
    for previous in old:
        logger.removeHandler(previous)
        previous.close()
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    _log_uncaught()
    return path


def log_file() -> Path | None:
    """Where the log goes now (None before setup())."""
    for handler in logging.getLogger(ROOT_LOGGER).handlers:
        if isinstance(handler, PrivateRotatingFileHandler):
            return Path(handler.baseFilename)
    return None


def _log_uncaught() -> None:
    """Chain sys/threading excepthooks so a crash leaves its traceback in the log (once)."""
    if getattr(sys.excepthook, "_facegate", False):
        return
    crash = logging.getLogger(f"{ROOT_LOGGER}.crash")
    previous_sys, previous_thread = sys.excepthook, threading.excepthook

    def sys_hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            crash.critical("uncaught %s: %s", kind.__name__, value, exc_info=(kind, value, tb))
        previous_sys(kind, value, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit:
            crash.critical(
                "uncaught %s in thread %s: %s",
                args.exc_type.__name__,
                getattr(args.thread, "name", "?"),
                args.exc_value,
                exc_info=args.exc_value,
            )  # the exception brings its type and traceback
        previous_thread(args)

    setattr(sys_hook, "_facegate", True)  # noqa: B010 - marks our hook, so it is chained once
    sys.excepthook = sys_hook
    threading.excepthook = thread_hook
