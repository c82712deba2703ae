"""A bounded queue with its own delivery thread: what lets the door publish to a network it
never waits for.

``put()`` returns at once, whatever the receiver does: the item goes to the back of a queue of
at most ``capacity`` items (when full, the oldest is dropped and counted - the door's own
access log already holds every event, so what is lost here is a notification, never a record).
The thread delivers the head of the queue; when delivery fails it keeps the item, logs the
failure once (and the recovery), and tries again after a pause that doubles up to
``retry_max`` seconds. ``status()`` says how it goes, for the window and the CLI.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("facegate.events")


@dataclass(frozen=True)
class OutboxStatus:
    """One output's health: 'ok', 'retrying' (failing now, items kept) or 'closed'."""

    name: str
    state: str
    queued: int
    sent: int
    dropped: int
    error: str | None

    def __str__(self) -> str:
        text = f"{self.name}: {self.state}, {self.sent} sent, {self.queued} queued"
        if self.dropped:
            text += f", {self.dropped} dropped (queue full)"
        return text + (f" - {self.error}" if self.error else "")


class Outbox:
    """Deliver items one by one on a thread of its own, oldest first, retrying the head."""

    def __init__(
        self, name: str, deliver: Callable[[Any], None], capacity: int = 200, retry_first: float = 0.5, retry_max: float = 30.0
    ) -> None:
        if capacity < 1:
            raise ValueError("an outbox needs room for at least one item")
        self.name = name
        self._deliver = deliver
        self._items: deque = deque()
        self._capacity = capacity
        self._retry_first, self._retry_max = retry_first, retry_max
        self._wake = threading.Condition()
        self._closed = False
        self.sent = 0
        self.dropped = 0
        self.error: str | None = None
        self._busy = False  # an item is being delivered (it stays at the head until it is through)
        self._thread = threading.Thread(target=self._run, name=f"events-{name}", daemon=True)
        self._thread.start()

    def put(self, item: Any) -> None:
        """Queue an item; never blocks (a full queue drops its oldest item)."""
        with self._wake:
            if self._closed:
                return
            if len(self._items) >= self._capacity:
                self._items.popleft()
                self.dropped += 1
                log.warning("%s: queue full (%d), the oldest event was dropped", self.name, self._capacity)
            self._items.append(item)
            self._wake.notify()

    def status(self) -> OutboxStatus:
        with self._wake:
            state = "closed" if self._closed else ("retrying" if self.error else "ok")
            return OutboxStatus(self.name, state, len(self._items), self.sent, self.dropped, self.error)

    def flush(self, timeout: float) -> bool:
        """Wait until the queue is empty (True) or ``timeout`` s have passed (False)."""
        deadline = time.monotonic() + timeout
        with self._wake:
            while self._items or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.05))
            return True

    def close(self, timeout: float = 2.0) -> None:
        """Try to deliver what is queued for up to ``timeout`` s, then stop the thread."""
        self.flush(timeout)
        with self._wake:
            self._closed = True
            if self._items:
                log.warning("%s: %d events not delivered at close", self.name, len(self._items))
            self._wake.notify_all()
        self._thread.join(timeout=timeout + 1)  # a delivery still hanging ends with the (daemon) thread

    def _run(self) -> None:
        pause = self._retry_first
        while True:
            with self._wake:
                while not self._items and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                item = self._items[0]
                self._busy = True
            try:
                self._deliver(item)
            except Exception as exc:  # the receiver's failure, whatever it is, is reported and retried
                with self._wake:
                    self._busy = False
                    if self.error is None:
                        log.warning("%s: delivery failed, retrying: %s", self.name, exc)
                    self.error = str(exc) or type(exc).__name__
                    self._wake.wait(pause)  # close() wakes it
                pause = min(pause * 2, self._retry_max)
                continue
            with self._wake:
                self._busy = False
                if self._items and self._items[0] is item:
                    self._items.popleft()
                self.sent += 1
                if self.error is not None:
                    log.info("%s: delivering again after: %s", self.name, self.error)
                    self.error = None
                self._wake.notify_all()
            pause = self._retry_first
