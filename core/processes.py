"""The child processes FaceGate starts (the descriptor worker, the door guard): spawned, with one
duplex pipe, and stopped politely before being terminated.

Spawned, never forked: the GUI process runs Qt threads, which a fork would copy half-way. The
parent closes its copy of the child's end of the pipe at once, so the child sees the pipe close
the moment the parent dies, however it dies (the door guard relies on that to lock). Spawn also
works in the frozen app, through main.py's freeze_support().
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any


class ChildProcess:
    """Runs ``target(conn, *args)`` in a new process; ``conn`` is the parent's end of the pipe.

    ``env`` is set in this process's environment only while the child starts (the child
    inherits it; this process keeps its own).
    """

    def __init__(
        self, target: Callable[..., Any], args: tuple = (), name: str = "facegate-child", env: Mapping[str, str] | None = None
    ) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child_end = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=target, args=(child_end, *args), name=name, daemon=True)
        with _environment(env or {}):
            self.process.start()
        child_end.close()  # only the child holds its end now: our death closes the pipe
        self.started = time.monotonic()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def exitcode(self) -> int | None:
        return self.process.exitcode

    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self, timeout: float) -> None:
        """Ask the child to end (None down the pipe), wait up to ``timeout``, then terminate it
        and wait again; the pipe is closed either way."""
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(None)
        self.process.join(timeout=timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=timeout)
        self.conn.close()


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then put back what was there."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
