"""Hand a door decision to a live loop: the Station (core.station.station) wires the window's
and ``facegate replay``'s through here, so a recorded video replayed decides exactly as the
window would have decided on it.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from core.door.access_log import AccessEvent
from core.door.base import Door, DoorSettings
from core.door.decide import DoorDecider
from core.door.drivers import SimulatedDoor
from core.door.policy import DecisionSettings
from core.door.review import RecentFaces
from core.site.people import remove_sample

if TYPE_CHECKING:
    from core.live.loop import LiveRecognizer


def attach_decider(
    recognizer: LiveRecognizer,
    door: Door | None,
    settings: DecisionSettings | None = None,
    dry_run: bool = False,
    inline_texture: bool = False,
) -> DoorDecider:
    """A DoorDecider for the recognizer's gallery (its stored settings unless given), asked about
    every track on every frame the recognizer processes. A ``dry_run`` keeps its decisions in
    memory (KeptLog) and writes nothing to the gallery: no access log, visitors or review queue.
    ``inline_texture``: the screen and print check scores faces on the frame thread (a replay)."""
    if settings is None:
        settings, _ = DecisionSettings.load_or_default(recognizer.gallery.store)
    gallery = recognizer.gallery
    decider = DoorDecider(
        gallery,
        door,
        settings,
        access_log=KeptLog() if dry_run else None,
        recent=RecentFaces(gallery, remove_sample=partial(remove_sample, gallery)),  # an undo withdraws at the site too
        keep_faces=not dry_run,
        inline_texture=inline_texture,
    )
    recognizer.decider = decider
    return decider


def simulated_door(settings: DoorSettings) -> SimulatedDoor:
    """A started door that only records its pulses, with the configured pulse and cooldown."""
    door = SimulatedDoor(settings.pulse_seconds, settings.cooldown_seconds)
    door.start()
    return door


class KeptLog:
    """An access log kept in memory: what a read-only replay would have logged, nothing written."""

    def __init__(self) -> None:
        self.kept: list[AccessEvent] = []

    def record(self, event: AccessEvent) -> int:
        event.id = len(self.kept) + 1
        self.kept.append(event)
        return event.id
