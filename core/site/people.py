"""One verb to remove, allow or block a person, give them a card number, set their own threshold
or set how they open the doors, whatever PC it is said on.

A person who belongs to the site is the site's: on a PC that holds the admin login, removing
(or blocking) them changes the site, and every door follows; on a door PC the verb is refused up
front, saying what to do, instead of being undone at the next sync. People this door enrolled
that the site has not got yet, and galleries without a site, are changed here only.

    >>> plan = plan_removal(gallery, "Ada")          # what removing Ada would do, in words
    >>> remove_person(gallery, "Ada")                # after the operator confirmed plan.warning
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import StoreError
from core.gallery.api import Gallery
from core.gallery.match import check_personal
from core.gallery.store import Person, clean_card
from core.site.config import SiteConfig, SiteError, SiteUnreachable, connect, first_line, site_of
from core.site.local import LocalSite

if TYPE_CHECKING:
    from core.site.admin import SiteAdmin

log = logging.getLogger(__name__)

WHEN_DOORS_KNOW = (
    "online doors drop them within seconds; a door that is offline does when it next syncs (its offline policy applies meanwhile)"
)


@dataclass
class SitePlan:
    """Where a change of one person takes effect, and what the operator must be told first."""

    name: str
    site_id: str | None  # None: only this gallery has them (no site, or not pushed yet)
    config: SiteConfig | None  # the site's, when the change goes through it

    @property
    def site_wide(self) -> bool:
        return self.config is not None and self.site_id is not None

    @property
    def warning(self) -> str | None:
        """What to confirm before removing: every door loses them (None: only this PC changes)."""
        if not self.site_wide:
            return None
        return f"{self.name!r} belongs to the site: removing them removes them from every door ({WHEN_DOORS_KNOW})."


def _plan(
    gallery: Gallery, name: str, verb: str, command: str | None = None, doing: str | None = None, where: str | None = None
) -> SitePlan:
    """Where changing ``name`` takes effect; on a door PC, SiteError saying it cannot ``doing``
    (in words; "VERB people" unless given) and to run ``command`` (``facegate VERB NAME`` unless
    given) on an admin PC, or to go ``where`` there (a change the CLI has no verb for)."""
    person = gallery.store.person(name)
    config = site_of(gallery.store)
    if config is None:
        return SitePlan(person.name, None, None)
    (site_id,) = gallery.store.read("SELECT site_id FROM people WHERE id = ?", (person.id,))[0]
    if site_id is None or not _known_at_site(gallery, person.id):
        return SitePlan(person.name, None, None)
    if config.admin_login is None:
        where = where or f"run `{command or f'facegate {verb} {person.name!r}'}` (or the People page there)"
        raise SiteError(
            f"{person.name!r} belongs to the site, and only the site's admin can {doing or verb + ' people'}: on an "
            f"admin PC {where}; "
            "this door follows at its next sync"
        )
    return SitePlan(person.name, site_id, config)


def _known_at_site(gallery: Gallery, person_id: int) -> bool:
    """Whether the site has (or had) this person: anything of theirs not still waiting in the
    outbox came from, or went to, the site."""
    rows = gallery.store.read(
        "SELECT count(*) FROM samples WHERE person_id = ? AND site_id NOT IN (SELECT ref FROM site_outbox WHERE kind = 'sample')",
        (person_id,),
    )
    waiting = gallery.store.read("SELECT count(*) FROM samples WHERE person_id = ?", (person_id,))
    return rows[0][0] > 0 or waiting[0][0] == 0


def plan_removal(gallery: Gallery, name: str) -> SitePlan:
    """Where removing ``name`` takes effect; SiteError on a door PC that may not remove them."""
    return _plan(gallery, name, "remove")


def remove_person(gallery: Gallery, name: str) -> int:
    """Remove ``name``: from the site (and so every door) when they belong to it, else here.
    The number of samples removed here."""
    plan = plan_removal(gallery, name)
    if plan.site_wide:
        assert plan.config is not None and plan.site_id is not None
        with _admin(plan.config) as admin:
            admin.delete_id(plan.site_id)
    return gallery.remove(plan.name)


def remove_sample(gallery: Gallery, sample_id: int) -> list[int]:
    """Remove a sample and, with a photo's, its camera views (Gallery.remove_sample): from the site
    too (and so from every door) once it went there, on an admin PC, which also takes the views the
    site holds of that photo. On a door PC a sample it proposed that no admin approved yet is
    withdrawn at the site (_withdraw); one the site approved is refused, nothing changed. The
    review queue's undo comes through here (core.door.review takes it as its remover). The ids
    removed here."""
    rows = gallery.store.read("SELECT person_id, site_id FROM samples WHERE id = ?", (sample_id,))
    if not rows:
        raise StoreError(f"no sample {sample_id}")
    person_id, site_id = rows[0]
    gone = [sample_id, *gallery.photo_views(person_id).get(sample_id, [])]
    marks = ",".join("?" * len(gone))
    at_site = [r[0] for r in gallery.store.read(f"SELECT site_id FROM samples WHERE id IN ({marks})", gone) if r[0]]
    config = site_of(gallery.store)
    if config is not None and config.admin_login is None and at_site:
        _withdraw(gallery, config, gallery.store.person(person_id).name, at_site)
    elif site_id is not None and site_id not in LocalSite(gallery.store).pending_samples():
        plan = _plan(
            gallery,
            gallery.store.person(person_id).name,
            "remove",
            doing="remove their samples",
            where="open their samples on the People page there",
        )
        if plan.site_wide:
            _at_site(plan, lambda admin, _: admin.delete_samples_id(at_site))
    gallery.remove_sample(sample_id)
    return gone


def withdrawal_note(gallery: Gallery) -> str:
    """What an operator is told after removing or undoing a sample at a door: withdrawals still
    waiting for the site ("" when none, or no site)."""
    waiting = LocalSite(gallery.store).withdrawals_waiting() if site_of(gallery.store) else 0
    return f"; its withdrawal at the site waits for the next sync ({waiting} waiting)" if waiting else ""


def _withdraw(gallery: Gallery, config: SiteConfig, name: str, site_ids: list[str]) -> None:
    """On a door PC, take back samples of ``name`` this door proposed, at the site first
    (facegate.door_withdraw deletes only this door's unapproved proposals, and a person it
    proposed left with none), so no admin can approve them later. Samples the site has approved
    are refused (SiteError: an admin removes them). The site unreachable, or the samples not
    pushed yet: the withdrawal is queued and goes first at the next push (a sample pushed just
    before a crash, still in the outbox, is taken back too; the site skips what it never got)."""
    import psycopg

    local = LocalSite(gallery.store)
    pending = local.pending_samples()
    if all(ref in pending for ref in site_ids):
        local.queue_withdrawal(site_ids)
        return
    try:
        with connect(config.url, config.door_login, application=f"facegate door {config.door}") as conn, conn.transaction():
            conn.execute("SELECT facegate.door_withdraw(%s::uuid[])", (site_ids,))
    except psycopg.errors.InsufficientPrivilege:
        raise SiteError(
            f"this sample of {name!r} is the site's (an admin approved it, or another door took it), and only the "
            "site's admin can remove their samples: on an admin PC open their samples on the People page there; "
            "nothing was changed"
        ) from None
    except (SiteError, psycopg.OperationalError) as exc:
        log.warning("site unreachable (%s): withdrawing %d sample(s) of %r at the next sync", exc, len(site_ids), name)
        local.queue_withdrawal(site_ids)


def set_access(gallery: Gallery, name: str, access: str, pin: str | None, duress_pin: str | None) -> SitePlan:
    """Set how ``name`` opens the door, with their PIN records (hashed on this PC, never the
    PINs): at every door (a site person, on an admin PC) or here; refused on a door PC."""
    plan = _plan(gallery, name, "access", doing="change how people open the doors")
    _at_site(plan, lambda admin, site_id: admin.set_access_id(site_id, access, pin, duress_pin))
    gallery.store.set_access(plan.name, access, pin, duress_pin)
    return plan


def set_cards(gallery: Gallery, cards: Sequence[tuple[str, str | None]]) -> list[Person]:
    """Give people credential numbers (None clears one), all or none: checked here first (names,
    numbers, no number twice), then the site's people changed on the site (an admin PC; a door
    PC is refused up front, naming who), then this gallery."""
    cleaned = [(gallery.store.person(name).name, None if card is None else clean_card(card)) for name, card in cards]
    numbers = [card for _, card in cleaned if card is not None]
    if len(numbers) != len(set(numbers)):
        twice = next(card for card in numbers if numbers.count(card) > 1)
        raise StoreError(f"card {twice} is given to two people; nothing was changed")
    named = {name for name, _ in cleaned}
    for card in numbers:
        holder = gallery.store.person_with_card(card)
        if holder is not None and holder.name not in named:
            raise StoreError(f"card {card} already belongs to {holder.name!r}; nothing was changed")
    plans = [_plan(gallery, name, "give a card to", f"facegate card {name!r} NUMBER") for name, _ in cleaned]
    if site_of(gallery.store) is not None:  # at a site a card is the site's: one set here alone would be undone by the next pull
        for plan in plans:
            if not plan.site_wide:
                raise SiteError(
                    f"{plan.name!r} is not at the site yet: sync first (facegate site sync; a door's enrollment "
                    "also needs the admin's approval), then give them a card; nothing was changed"
                )
    at_site = [(plan.site_id, card) for plan, (_, card) in zip(plans, cleaned, strict=True) if plan.site_wide]
    if at_site:
        config = next(plan.config for plan in plans if plan.site_wide)
        assert config is not None
        with _admin(config) as admin:
            admin.set_cards_id([(site_id, card) for site_id, card in at_site if site_id is not None])
    return gallery.set_cards(cleaned)


def set_allowed(gallery: Gallery, name: str, allowed: bool) -> SitePlan:
    """Allow or block ``name`` at every door (a site person, on an admin PC) or here."""
    plan = _plan(gallery, name, "allow" if allowed else "block")
    _at_site(plan, lambda admin, site_id: admin.set_allowed_id(site_id, allowed))
    gallery.set_allowed(plan.name, allowed)
    return plan


def set_threshold(gallery: Gallery, name: str, threshold: float | None, door_threshold: float) -> SitePlan:
    """Give ``name`` their own threshold, stricter than ``door_threshold`` (None: the door's
    again), at every door (a site person, on an admin PC; a door PC is refused) or here. Checked
    before the site is touched, so a refused value changes nothing anywhere."""
    if threshold is not None:
        check_personal(threshold, door_threshold)
    plan = _plan(gallery, name, "set a personal threshold for", f"facegate threshold {name!r} VALUE")
    _at_site(plan, lambda admin, site_id: admin.set_threshold_id(site_id, threshold))
    gallery.set_threshold(plan.name, threshold, door_threshold)
    return plan


def _at_site(plan: SitePlan, change: Callable[[SiteAdmin, str], object]) -> None:
    """Make ``change`` at the site first when the plan goes through it (then every door follows)."""
    if plan.site_wide:
        assert plan.config is not None and plan.site_id is not None
        with _admin(plan.config) as admin:
            change(admin, plan.site_id)


@contextmanager
def _admin(config: SiteConfig) -> Iterator[SiteAdmin]:
    """The admin's connection for a change made at the site before this gallery (every verb
    here): the site not reached, or lost during the change, the gallery is left as it was, and
    the message says so (what the People page and the CLI show; the operator tries again)."""
    import psycopg

    from core.site.admin import SiteAdmin

    try:
        admin = SiteAdmin.from_config(config)
    except SiteUnreachable as exc:
        raise SiteUnreachable(f"the site is unreachable: nothing was changed; try again ({exc})") from None
    with admin:
        try:
            yield admin
        except psycopg.OperationalError as exc:  # autocommit: the site took the change or not; its next sync says which
            raise SiteUnreachable(
                f"the connection to the site was lost ({first_line(exc)}): nothing was changed here, and the next "
                "sync brings whatever the site took; try again"
            ) from None
