"""Anti-passback across a site: a person who came in by an ``in`` door must leave by an ``out``
door before coming in again, decided by the central PostgreSQL so that two doors cannot both let
the same person in.

Each door says which way it lets people through (SiteSettings.direction) and how strict the rule
is (SiteSettings.passback): ``hard`` refuses a second entry ("entered at front at 09:02 and has
not left"), ``soft`` lets them in and logs it. Leaving twice is never refused, only logged: no rule
of FaceGate's keeps anyone inside. The door asks just before it opens, once per visit
(core.door.decide's ``passage`` hook), and the site answers in one transaction that locks the
person's row (core.site.schema, migration 'anti-passback': facegate.door_passage); the door waits
at most ``passback_timeout`` for it.

The offline rule: a door that cannot reach its site in time lets the person through as the soft
rule would (its offline policy, core.site.gate, still decides whether anyone is let in at all)
and logs the grant as "passback unchecked (offline)". It keeps each such passage and tells the site
at its next successful check, oldest first and with its own time, so the person's state catches
up (a passage older than what the site already knows changes nothing). After a failure it does not
try again for ``RETRY_AFTER`` seconds, so an outage costs one timeout, not one per visitor.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import psycopg

from core.gallery.store import Store
from core.site.config import HARD, OFF, SiteConfig, SiteSettings, connect, first_line

log = logging.getLogger("facegate.site")

RETRY_AFTER = 10.0  # s without asking the site after it failed to answer
UNCHECKED = "passback unchecked (offline)"


@dataclass(frozen=True)
class Passage:
    """One passage this door let through while the site could not be asked."""

    site_id: str
    direction: str
    at: datetime


class SitePassback:
    """Callable: person id (this gallery's) -> (may pass, what to log). Thread-safe."""

    def __init__(self, store: Store, config: SiteConfig, settings: SiteSettings) -> None:
        self.store = store
        self.config = config
        self.settings = settings
        self.unsent: list[Passage] = []  # offline passages, oldest first, until the site has them
        self._conn: psycopg.Connection | None = None
        self._down_until = 0.0
        self._lock = threading.Lock()

    def __call__(self, person_id: int) -> tuple[bool, str]:
        s = self.settings
        if s.passback == OFF or not s.direction:
            return True, ""
        rows = self.store.read("SELECT site_id, name FROM people WHERE id = ?", (person_id,))
        if not rows or rows[0][0] is None:
            return True, "passback unchecked (a person the site does not know yet)"
        site_id, name = rows[0]
        with self._lock:
            try:
                outcome, last_door, last_at = self._ask(site_id, s.direction, s.passback == HARD and s.direction == "in", None)
            except Exception as exc:  # a dead network, a timeout, a lock held too long: the offline rule
                self._offline(exc)
                self.unsent.append(Passage(site_id, s.direction, datetime.now(timezone.utc)))
                return True, UNCHECKED
        where = f" at {last_door}" if last_door else ""
        when = f" at {last_at.astimezone():%H:%M}" if last_at else ""
        if outcome == "refused":
            return False, f"anti-passback: {name} came in{where}{when} and has not left; refused until they go out"
        if outcome == "violation":
            went = "came in" if s.direction == "in" else "left"
            return True, f"anti-passback ({s.passback}): {name} {went}{where}{when} and now again {s.direction}; logged"
        if outcome == "unknown":
            return True, "passback unchecked (the site does not let this door see the person)"
        return True, ""

    def reconcile(self) -> int:
        """Tell the site the passages let through offline (also done before the next check); how
        many it was told. A site still away keeps them for later."""
        with self._lock:
            sent = len(self.unsent)
            try:
                self._send_unsent(self._connection())
            except Exception as exc:
                self._offline(exc)
            return sent - len(self.unsent)

    def _send_unsent(self, conn: psycopg.Connection) -> None:
        while self.unsent:  # oldest first, each with its own time: a stale one changes nothing
            first = self.unsent[0]
            self._claim(conn, first.site_id, first.direction, False, first.at)
            self.unsent.pop(0)

    def _ask(self, site_id: str, direction: str, hard: bool, at: datetime | None) -> tuple[str, str | None, datetime | None]:
        """One passage claimed at the site (its unsent offline passages first), within the timeout."""
        if time.monotonic() < self._down_until:
            raise TimeoutError("the site did not answer a moment ago")
        conn = self._connection()
        try:
            self._send_unsent(conn)
            return self._claim(conn, site_id, direction, hard, at)
        except psycopg.OperationalError:
            if not conn.broken:  # a timeout: the site is slow, a second try would double the wait
                raise
        self.close()  # a connection the network dropped since the last visitor: one fresh try
        conn = self._connection()
        self._send_unsent(conn)
        return self._claim(conn, site_id, direction, hard, at)

    def _claim(
        self, conn: psycopg.Connection, site_id: str, direction: str, hard: bool, at: datetime | None
    ) -> tuple[str, str | None, datetime | None]:
        ms = int(self.settings.passback_timeout * 1000)
        with conn.transaction():
            conn.execute(f"SET LOCAL statement_timeout = {ms}")
            conn.execute(f"SET LOCAL lock_timeout = {ms}")
            row = conn.execute(
                "SELECT * FROM facegate.door_passage(%s::uuid, %s, %s, %s::timestamptz)", (site_id, direction, hard, at)
            ).fetchone()
        assert row is not None  # the function always answers one row
        return row[0], row[1], row[2]

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = connect(
                self.config.url,
                self.config.door_login,
                timeout=max(1.0, self.settings.passback_timeout * 2),
                application="facegate passback",
            )
        return self._conn

    def _offline(self, exc: BaseException) -> None:
        log.warning("anti-passback: the site did not answer (%s); %s", first_line(exc), UNCHECKED)
        self._down_until = time.monotonic() + RETRY_AFTER
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
