"""The site's purge of expired visitor passes, on its own: an admin PC's sync thread runs it.

A door cannot delete anyone at the site (its role cannot; its own deletion would be pulled back),
so the holders of a pass that ended over the retention period ago are deleted centrally, by the
one PC that holds the admin login: after its sync rounds, at most hourly, with its visitors'
``retention_days`` (the site's retention setting: the admin sets it there). The deletion reaches
the site's change log like any admin deletion, so every door drops the people at its next pull,
and a Purged row in the admin PC's access log (chained, pushed to the site with the rest of its
log) names who went. The glue lives here because it joins the site (core.site) with the door's
settings and access log (core.door), which may not import each other.
"""

from __future__ import annotations

import logging
import time

from core.door.access_log import AccessEvent, AccessLog
from core.door.recorders import PURGE_EVERY
from core.door.verdict import Verdict
from core.door.visitors import VisitorSettings
from core.gallery.api import Gallery
from core.site.admin import SiteAdmin
from core.site.config import SiteConfig

log = logging.getLogger("facegate.site")


def purge_expired_passes(gallery: Gallery, config: SiteConfig) -> list[str]:
    """Delete at the site the holders of passes that ended over ``retention_days`` ago (this
    admin PC's visitor settings) and log it here; their names. Raises SiteError or psycopg's
    errors when the site does not answer (nothing is logged then)."""
    days = VisitorSettings.load_or_default(gallery.store)[0].retention_days
    with SiteAdmin.from_config(config) as admin:
        names = admin.purge_passes(days)
    if names:
        reason = (
            f"retention: removed {len(names)} visitor passes ended over {days:g} days ago, with their faces, "
            f"at every door of the site ({', '.join(names)})"
        )
        AccessLog(gallery.store).record(AccessEvent(Verdict.PURGED, reason=reason))
        log.info("site: %s", reason)
    return names


class PassExpiry:
    """Run after each sync round of an admin PC (SiteSync's ``after_round``): the purge when an
    hour has passed since the last one (the first round runs it). True when people went (the
    sync pulls their deletion at once)."""

    def __init__(self, gallery: Gallery, config: SiteConfig) -> None:
        self.gallery, self.config = gallery, config
        self._ran_at: float | None = None

    def __call__(self) -> bool:
        now = time.monotonic()
        if self._ran_at is not None and now - self._ran_at < PURGE_EVERY:
            return False
        self._ran_at = now
        try:
            return bool(purge_expired_passes(self.gallery, self.config))
        except Exception as exc:  # the site's errors: tried again in an hour, the sync goes on
            log.warning("site: the purge of expired visitor passes failed (%s); the next try is in an hour", exc)
            return False
