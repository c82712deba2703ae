"""The offline policy, checked where the door decides (core.door.decide.DoorDecider.gates).

A door that has not heard from its site for longer than ``offline_after_hours`` may have missed
revocations. The site's policy says what it then does: keep recognising with its last copy
(``keep``, the default: the door still works through a network outage, for
``keep_at_most_days`` at most, 7 by default, and then lets nobody in, since an old copy holds
every leaver of that week) or let nobody in at once (``nobody``: the site's revocations matter
more than the door working).

    >>> decider.gates.append(OfflineGate(gallery.store))

Both limits are measured on the PC's clock from when the door last heard from its site. A stamp
ahead of the clock (the clock set back since: a wrong RTC corrected by NTP, or by hand) says
nothing about how old the copy is, so while it stays ahead nobody is let in. And every sync
measures the door's clock against the site server's (``hello``): a door whose clock is more
than ``CLOCK_SLACK`` off lets nobody in until a sync finds it right - visitor passes and weekly
time windows are judged on this clock, and one set back two days let an ended pass in again
once the next sync had stamped "heard" on it (a fault-path audit confirmed it). The sync goes
on meanwhile, so revocations still arrive.
"""

from __future__ import annotations

from datetime import datetime, timezone

from core.gallery.store import Store
from core.site.config import NOBODY, SiteSettings
from core.site.local import LocalSite
from core.site.sync import copy_age

#: seconds a "heard" stamp may be ahead of the clock (two clocks' disagreement) before it is not believed
CLOCK_SLACK = 300.0


class OfflineGate:
    """Callable: None when a grant may go ahead, else why not (in words, for the access log)."""

    def __init__(self, store: Store, settings: SiteSettings | None = None) -> None:
        self.local = LocalSite(store)
        self.settings = settings or SiteSettings.load(store)

    def __call__(self, now: datetime | None = None) -> str | None:
        if self.local.door_id() is None:
            return None
        heard = self.local.heard()
        if (
            heard
            and (ahead := (datetime.fromisoformat(heard) - (now or datetime.now(timezone.utc))).total_seconds()) > CLOCK_SLACK
        ):
            return (
                f"this door last heard from its site {ahead / 60:.0f} min ahead of its clock now (the clock was set "
                "back?): how old its copy is cannot be told; nobody is let in until it hears from the site again (offline policy)"
            )
        off = self.local.clock_offset()
        if off is not None and abs(off) > CLOCK_SLACK:
            return (
                f"this door's clock was {abs(off) / 60:.0f} min {'ahead of' if off > 0 else 'behind'} its site's at the "
                "last sync: passes and time windows cannot be judged; nobody is let in until it is set right (NTP)"
            )
        age = copy_age(heard, now)
        if self.settings.offline_policy != NOBODY:
            limit_days = self.settings.keep_at_most_days
            if age is not None and age > limit_days * 86400:
                return (
                    f"this door has not heard from its site for {age / 86400:.1f} days (more than the "
                    f"{limit_days:g} days a door keeps its last copy); nobody is let in (offline policy)"
                )
            return None
        limit = self.settings.offline_after_hours * 3600
        if age is None:
            return "this door has never heard from its site; nobody is let in (offline policy)"
        if age > limit:
            return (
                f"this door has not heard from its site for {age / 3600:.1f} h (more than "
                f"{self.settings.offline_after_hours:g} h); nobody is let in (offline policy)"
            )
        return None


class ShutGate:
    """Callable: a door that must stay shut whoever comes (its site file is broken), and why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __call__(self, now: datetime | None = None) -> str | None:
        return f"the door stays shut: {self.reason}"
