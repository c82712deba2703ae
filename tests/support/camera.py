"""A network camera for tests: tests/support/mjpeg_server.py in its own process, which a test can
kill (the camera dies), SIGSTOP (it hangs with the connection open) and start again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from tests.support.data import SUPPORT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Camera:
    def __init__(self, port: int, garbage: bool = True, fps: float = 30.0) -> None:
        self.port = port
        self.garbage = garbage
        self.fps = fps
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def start(self, qtbot) -> None:
        """Start the server; wait for it with the event loop running (the stall watch is on)."""
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(SUPPORT / "mjpeg_server.py"),
                str(self.port),
                *(["garbage"] if self.garbage else []),
                "--fps",
                str(self.fps),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        qtbot.waitUntil(self._answers, timeout=30_000)

    def _answers(self) -> bool:
        assert self.proc.poll() is None, "the camera server failed to start"
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def die(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def hang(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.resume()
            self.die()
