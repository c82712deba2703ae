"""Build the door decision from the settings stored in the gallery and hand it to a live loop.

The window and ``facegate replay`` both wire through here, so a recorded video replayed decides
exactly as the window would have decided on it.
"""
from __future__ import annotations

import json
import logging

from core.door import make_door
from core.door.access_log import AccessEvent, AccessLog
from core.door.base import Door, DoorSettings
from core.door.decide import Decider, DecisionSettings
from core.door.drivers import SimulatedDoor
from core.errors import FaceGateError

log = logging.getLogger("facegate.door")


def stored(cls, store):
    """Settings saved in the gallery; the defaults (and the reason) when they cannot be read."""
    try:
        settings = cls.load(store)
        settings.check()
        return settings, None
    except (ValueError, TypeError, json.JSONDecodeError, FaceGateError) as exc:
        return cls(), f"saved {cls.KEY} settings ignored: {exc}"


def open_door(settings: DoorSettings) -> tuple[Door, str | None]:
    """The configured door, or a simulated one showing why the configured one could not start:
    either way nothing physical is left unlocked."""
    try:
        door = make_door(settings)
        door.start()
        return door, None
    except Exception as exc:  # a missing port or a guard that will not start must not stop the window
        why = f"the {settings.driver} door could not start: {exc}"
        log.error(why)
        return simulated_door(settings, why), why


def simulated_door(settings: DoorSettings, error: str | None = None) -> SimulatedDoor:
    """A door that only records its pulses, with the configured pulse and cooldown."""
    door = SimulatedDoor(settings.pulse_seconds, settings.cooldown_seconds)
    door.start()
    door.error = error
    return door


def attach_decider(recognizer, door: Door | None, settings: DecisionSettings | None = None,
                   access_log: AccessLog | None = None) -> Decider:
    """A Decider for the recognizer's gallery (its stored settings unless given), asked about
    every track on every frame the recognizer processes."""
    decider = Decider(recognizer.gallery, door, settings or stored(DecisionSettings, recognizer.gallery.store)[0],
                      access_log=access_log)
    recognizer.decider = decider
    return decider


class KeptLog:
    """An access log kept in memory: what a read-only replay would have logged, nothing written."""

    def __init__(self) -> None:
        self.kept: list[AccessEvent] = []

    def record(self, event: AccessEvent) -> int:
        event.id = len(self.kept) + 1
        self.kept.append(event)
        return event.id
