"""Long work (folder enroll, video scans, evaluations) on a QThread, with progress and cancel.

A job is a plain function ``work(progress, should_stop) -> result`` calling core; JobThread runs
it off the GUI thread and turns its progress, result and errors into signals (delivered on the
GUI thread). JobPanel is the progress bar, status line and Cancel button a page shows for it.
ask_site runs a change that may wait on the site's server the same way: a widget never calls the
network on the GUI thread, which would freeze the live video and the door for the connect timeout.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from core.errors import FaceGateError
from core.tools.evaluate import Cancelled

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

#: What a job reports: progress(done, total, what) and should_stop().
Progress = Callable[[int, int, str], None]
ShouldStop = Callable[[], bool]
R = TypeVar("R")


class JobThread(QThread):
    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, work: Callable[[Progress, ShouldStop], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._stop = threading.Event()

    def run(self) -> None:
        try:
            result = self._work(self.progress.emit, self._stop.is_set)
        except Cancelled:
            self.cancelled.emit()
        except FaceGateError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug: say so instead of dying silently on a thread
            traceback.print_exc()
            self.failed.emit(f"unexpected error: {exc!r}")
        else:
            self.succeeded.emit(result)

    def cancel(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        """Ask the job to stop and wait for its thread to end (page teardown)."""
        self.cancel()
        self.wait()


class JobPanel(QWidget):
    """Progress bar, status line and Cancel for at most one job at a time."""

    finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.status = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 2)
        row.addWidget(self.status, 3)
        row.addWidget(self.cancel_button)
        self.job: JobThread | None = None
        self._stopped = False

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.isRunning()

    def start(
        self,
        title: str,
        work: Callable[[Progress, ShouldStop], R],
        on_success: Callable[[R], None],
        on_failure: Callable[[str], None],
        on_cancel: Callable[[], None] | None = None,
    ) -> JobThread:
        """Run ``work`` on a thread; the callbacks run on the GUI thread when it ends."""
        if self.busy:
            raise RuntimeError("a job is already running")
        job = JobThread(work, self)
        job.progress.connect(self._progress)
        job.succeeded.connect(self._unless_stopped(on_success))
        job.failed.connect(self._unless_stopped(on_failure))
        job.cancelled.connect(self._unless_stopped(on_cancel or (lambda: None)))
        job.finished.connect(self._ended)
        self.job = job
        self.status.setText(title)
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        job.start()
        return job

    def _progress(self, done: int, total: int, what: str) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(min(done, max(total, 1)))
        self.status.setText(what)

    def _ended(self) -> None:
        self.status.setText("")  # the page's summary says how it went
        self.cancel_button.setEnabled(False)
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.finished.emit()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("cancelling…")

    def stop(self) -> None:
        """Stop and wait for the job's thread (page teardown); safe to call when idle. Its answer,
        still on its way to the GUI thread, is dropped: the page and its gallery are closing."""
        self._stopped = True
        if self.job is not None:
            self.job.stop()

    def _unless_stopped(self, callback: Callable[..., object]) -> Callable[..., None]:
        def call(*args: object) -> None:
            if not self._stopped:
                callback(*args)

        return call


ASKING = "asking the site…"


def ask_site(
    jobs: JobPanel,
    say: Callable[[str], None],
    work: Callable[[], R],
    on_success: Callable[[R], None],
    on_failure: Callable[[], None] | None = None,
    buttons: Sequence[QWidget] = (),
) -> bool:
    """Run ``work`` (a core.site verb: it may wait on the site's server for seconds) on ``jobs``'
    thread: ``buttons`` are disabled and ``say`` tells ASKING meanwhile; then, on the GUI thread,
    ``buttons`` as they were and ``on_success`` with the result, or ``say`` what went wrong (core's
    message says what changed: nothing, or what waits for the next sync) and ``on_failure``.
    False, said, while the panel's job still runs. The panel's owner stops it at teardown."""
    if jobs.busy:
        say("still busy with the last change; try again when it is done")
        return False
    enabled = [(button, button.isEnabled()) for button in buttons]

    def restore() -> None:
        for button, was in enabled:
            button.setEnabled(was)

    def succeeded(result: R) -> None:
        restore()
        on_success(result)

    def failed(why: str) -> None:
        restore()
        say(why)
        if on_failure is not None:
            on_failure()

    for button in buttons:
        button.setEnabled(False)
    say(ASKING)
    jobs.start(ASKING, lambda progress, should_stop: work(), succeeded, failed)
    jobs.cancel_button.setEnabled(False)  # core's verb is not stopped halfway: it ends, one way or the other
    return True


def page_layout(page: QWidget, bar: QLayout, jobs: JobPanel, summary: QLabel, body: QWidget) -> None:
    """The shape the tool pages share: buttons, the job's progress, a summary line, then the body."""
    layout = QVBoxLayout(page)
    layout.addLayout(bar)
    layout.addWidget(jobs)
    layout.addWidget(summary)
    layout.addWidget(body, 1)
