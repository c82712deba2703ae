"""The retention purge: what the door deletes once it is old enough, written to the access log.

Unknown visitors never enrolled go ``retention_days`` after they were last seen (their faces,
snapshots and review entries: core.door.visitors); so do the holders of a visitor pass that ended
``retention_days`` ago (core.door.passes), with their samples, the visitor faces they were
enrolled from, their review-queue faces and their access-log snapshots; and access-log rows older
than ``access_log_days`` (0: kept for ever). Whatever went is logged as one ``Purged`` row, and
log rows go from the front of the log with the hash the chain was cut at (core.gallery.chain), so
``facegate access-log --verify`` still holds after a purge and still catches a row deleted by hand.

At a site the pass holders are the site's people: the admin PC's sync deletes them centrally,
hourly, with its ``retention_days`` (core.station.pass_expiry; by hand: ``facegate site pass
purge DAYS``) and every door drops them at its next pull; a door deleting them itself would only
see them pulled back. Run hourly from the access log's writer
thread (core.door.recorders), and by ``facegate visitors --purge``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from core.door.access_log import AccessLog
from core.door.passes import Passes, at_site
from core.door.visitors import Visitors

if TYPE_CHECKING:
    from core.gallery.api import Gallery


@dataclass(frozen=True)
class Purged:
    """How much one purge removed."""

    visitors: int = 0
    passes: int = 0
    log_rows: int = 0

    def text(self) -> str:
        return (
            f"{self.visitors} unknown visitors, {self.passes} expired visitor passes and {self.log_rows} access-log rows deleted"
        )


class Retention:
    """The purge of one gallery: its unknown visitors, expired visitor passes and access log."""

    def __init__(self, gallery: Gallery, visitors: Visitors) -> None:
        self.gallery = gallery
        self.visitors = visitors
        self.access_log = AccessLog(gallery.store)

    def purge(self, at: datetime | None = None) -> Purged:
        at = at or datetime.now(timezone.utc)
        settings = self.visitors.settings
        days = settings.retention_days
        removed = []
        visitors = self.visitors.purge(at)
        if visitors:
            removed.append(f"{visitors} unknown visitors not seen for {days:g} days, with their faces")
        holders = self._expired_passes(_before(at, days))
        if holders:
            removed.append(f"{len(holders)} visitor passes ended over {days:g} days ago, with their faces ({', '.join(holders)})")
        cutoff = _before(at, settings.access_log_days) if settings.access_log_days > 0 else None
        rows = self.access_log.purge_before(cutoff, "; ".join(removed))
        return Purged(visitors, len(holders), rows)

    def _expired_passes(self, cutoff: str) -> list[str]:
        """Delete the holders of passes that ended before ``cutoff`` (not at a site); their names."""
        store = self.gallery.store
        if at_site(store):
            return []
        names = []
        for held in Passes(store).ended_before(cutoff):
            name = store.person(held.person_id).name
            with store.write(f"deleting {name!r}, whose visitor pass ended") as db:
                db.execute(
                    "DELETE FROM visitor_faces WHERE visitor_id IN (SELECT id FROM visitors WHERE person_id = ?)",
                    (held.person_id,),
                )
                db.execute("DELETE FROM visitors WHERE person_id = ?", (held.person_id,))
                db.execute("DELETE FROM recent_faces WHERE person_id = ?", (held.person_id,))
                db.execute("UPDATE access_events SET snapshot = NULL, descriptor = NULL WHERE person_id = ?", (held.person_id,))
            self.gallery.remove(name)
            names.append(name)
        if names:
            self.visitors.forget_cache()
        return names


def _before(at: datetime, days: float) -> str:
    return (at - timedelta(days=days)).astimezone(timezone.utc).isoformat(timespec="milliseconds")
