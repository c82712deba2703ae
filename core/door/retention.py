"""The retention purge: what the door deletes once it is old enough, written to the access log.

Unknown visitors never enrolled go ``retention_days`` after they were last seen (their faces,
snapshots and review entries: core.door.visitors), and access-log rows older than
``access_log_days`` (0: kept for ever). Whatever went is logged as one ``Purged`` row, and the
log rows go from the front of the log with the hash the chain was cut at (core.gallery.chain),
so ``facegate access-log --verify`` still holds after a purge and still catches a row deleted by
hand. Run hourly from the access log's writer thread (core.door.recorders), and by
``facegate visitors --purge``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from core.door.access_log import AccessLog
from core.door.visitors import Visitors


@dataclass(frozen=True)
class Purged:
    """How much one purge removed."""

    visitors: int = 0
    log_rows: int = 0

    def text(self) -> str:
        return f"{self.visitors} unknown visitors and {self.log_rows} access-log rows deleted"


class Retention:
    """The purge of one gallery: its visitors and its access log."""

    def __init__(self, visitors: Visitors, access_log: AccessLog) -> None:
        self.visitors = visitors
        self.access_log = access_log

    def purge(self, at: datetime | None = None) -> Purged:
        at = at or datetime.now(timezone.utc)
        settings = self.visitors.settings
        visitors = self.visitors.purge(at)
        removed = (
            [f"{visitors} unknown visitors not seen for {settings.retention_days:g} days, with their faces"] if visitors else []
        )
        cutoff = None
        if settings.access_log_days > 0:
            cutoff = (at - timedelta(days=settings.access_log_days)).astimezone(timezone.utc).isoformat(timespec="milliseconds")
        rows = self.access_log.purge_before(cutoff, "; ".join(removed))
        return Purged(visitors, rows)
