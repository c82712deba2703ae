"""Every setting FaceGate keeps, by group: each a StoredSettings dataclass in the gallery, read and
written by the window's forms and by ``facegate settings`` through the same check().

    recognition.*  detector, smallest face, live threshold     (Settings dialog)
    quality.*      the gates before a descriptor               (Settings dialog)
    decision.*     consensus, margin, liveness                 (Door page)
    door.*         driver, pulse, cooldown                     (Door page)
    events.*       MQTT, webhook                               (Door page)
    site.*         the offline policy                          (Site page / site join)
    visitors.*     grouping and keeping unknown faces          (Visitors page)
    review.*       the review queue and learning mode          (Recent faces page)
    scan.*         the Video scan page's last choices          (Video scan page)

Only per-user window geometry and the recent sources stay in QSettings.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from core.door.base import DoorSettings
from core.door.event_settings import EventSettings
from core.door.policy import DecisionSettings
from core.door.review import ReviewSettings
from core.door.visitors import VisitorSettings
from core.gallery.store import Store
from core.gallery.stored_settings import StoredSettings
from core.live.loop import LiveSettings
from core.live.settings import QualityGates, RecognitionSettings
from core.site.config import SiteSettings
from core.tools.scan import ScanChoices

#: Every stored group by its key, in the order ``facegate settings list`` shows them.
GROUPS: dict[str, type[StoredSettings]] = {
    cls.KEY: cls
    for cls in (
        RecognitionSettings,
        QualityGates,
        DecisionSettings,
        DoorSettings,
        EventSettings,
        SiteSettings,
        VisitorSettings,
        ReviewSettings,
        ScanChoices,
    )
}
#: Groups the window changes only behind the admin PIN; so does ``facegate settings set``.
GUARDED = ("recognition", "quality", "decision", "door", "events", "site", "visitors", "review")
#: Fields never printed (``settings list`` / ``get`` show that they are set, not their value).
SECRET = {"events.mqtt_password", "door.osdp_scbk"}


@dataclass
class StationSettings:
    """The groups a door station runs on (what Station.apply takes)."""

    recognition: RecognitionSettings
    quality: QualityGates
    decision: DecisionSettings
    door: DoorSettings
    events: EventSettings
    site: SiteSettings

    @classmethod
    def load(cls, store: Store) -> tuple[StationSettings, list[str]]:
        """The stored groups (a damaged value takes its default, the rest is kept) and what could
        not be used."""
        loaded: dict[str, Any] = {}
        problems: list[str] = []
        for f in fields(cls):
            settings, problem = GROUPS[f.name].load_or_default(store)
            loaded[f.name] = settings
            if problem:
                problems.append(problem)
        return cls(**loaded), problems

    def save(self, store: Store) -> None:
        """Check every group, then save them; nothing is saved when any is refused (ValueError)."""
        groups = [getattr(self, f.name) for f in fields(self)]
        for group in groups:
            group.check()
        for group in groups:
            group.save(store)

    def live(self, base: LiveSettings | None = None) -> LiveSettings:
        """The live loop's settings: ``base`` (the defaults) with the stored recognition and gates."""
        r = self.recognition
        return replace(
            base or LiveSettings(), method=r.method, min_face=r.min_face, threshold=r.threshold, quality=self.quality.gates()
        )


def damaged_door_settings(store: Store) -> str | None:
    """Why the door must stay shut (None: it need not): a saved value that decides who gets in
    (a group's DOOR_FIELDS: the threshold, the screen check, the offline policy...) could not be
    used. Its default could be weaker than what the admin chose, so no one is let in on it until
    the group is saved again; every other door keeps its own."""
    for group in (DecisionSettings, SiteSettings):
        _, lost = group.load_salvaged(store)
        hit = {name: why for name, why in lost.items() if name == "*" or name in group.DOOR_FIELDS}
        if hit:
            said = "; ".join(why if name == "*" else f"{name}: {why}" for name, why in hit.items())
            return (
                f"its saved {group.KEY} settings could not be used ({said}); save them again "
                f"(Door page, or facegate settings set {group.KEY}.<name> VALUE, then restart the door)"
            )
    return None


def get(store: Store, key: str) -> dict[str, Any]:
    """``group`` or ``group.field`` -> {"group.field": value}, secrets hidden."""
    group, _, name = key.partition(".")
    settings = _group(group).load_or_default(store)[0]
    names = [f.name for f in fields(settings)]
    if name and name not in names:
        raise ValueError(f"{group} has no setting {name!r} (it has {', '.join(names)})")
    return {f"{group}.{n}": _shown(f"{group}.{n}", getattr(settings, n)) for n in ([name] if name else names)}


def everything(store: Store) -> dict[str, Any]:
    return {k: v for group in GROUPS for k, v in get(store, group).items()}


def set_text(store: Store, key: str, text: str) -> StoredSettings:
    """Set ``group.field`` from ``text``, checked as the window's form checks it; the saved group."""
    group, _, name = key.partition(".")
    if not name:
        raise ValueError(f"say which setting of {group}: {group}.<name> (facegate settings get {group})")
    current, _ = _group(group).load_or_default(store)  # a damaged value is replaced by its default
    changed = current.with_text(name, text)
    changed.save(store)
    return changed


def reset(store: Store, key: str) -> StoredSettings:
    """``group.field`` (or the whole ``group``) back to its default."""
    group, _, name = key.partition(".")
    default = _group(group)()
    if not name:
        default.save(store)
        return default
    if name not in {f.name for f in fields(default)}:
        raise ValueError(f"{group} has no setting {name!r}")
    return set_text(store, key, str(getattr(default, name)))


def guarded(key: str) -> bool:
    return key.partition(".")[0] in GUARDED


def _group(group: str) -> type[StoredSettings]:
    if group not in GROUPS:
        raise ValueError(f"no settings group {group!r}; the groups are {', '.join(GROUPS)}")
    return GROUPS[group]


def _shown(key: str, value: Any) -> Any:
    return ("(set)" if value else "") if key in SECRET else value
