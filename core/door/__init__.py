"""The door: decide who may pass (decide, schedule, access log) and drive the lock (base, drivers, guard).

    >>> door = make_door(DoorSettings(driver="serial", serial_port="/dev/ttyUSB0"))
    >>> door.unlock()   # 'unlocking' | 'cooldown (2.1 s left)' | 'error: ...'
    >>> door, problem = start_door(settings)   # the window's way: a simulated door if it cannot start

A relay board holds its last state when the app dies, so the real drivers run by default inside
a small guard process (core.door.guard) that owns the port: it locks at start, times each pulse
itself, and locks the moment its parent's pipe closes - even when the app is SIGKILLed while
the door is open.
"""

from __future__ import annotations

import logging

from core.door.base import Door, DoorSettings
from core.door.drivers import SimulatedDoor, build_driver
from core.door.guard import GuardedDoor

log = logging.getLogger("facegate.door")


def make_door(settings: DoorSettings | None = None) -> Door:
    """The door the app should use: real drivers inside the guard process unless told otherwise."""
    settings = settings or DoorSettings()
    settings.check()
    if settings.driver not in ("simulated", "osdp") and settings.guard:  # a reader holds no lock open
        return GuardedDoor(settings)
    return build_driver(settings)


def start_door(settings: DoorSettings) -> tuple[Door, str | None]:
    """The configured door, started; or, when it cannot start (a missing port, a guard that will
    not come up), a started simulated door showing why: either way nothing physical is left
    unlocked, and the window keeps running. Returns (door, the problem or None)."""
    try:
        door = make_door(settings)
        door.start()
        return door, None
    except Exception as exc:
        why = f"the {settings.driver} door could not start: {exc}"
        log.error(why)
        fallback = SimulatedDoor(settings.pulse_seconds, settings.cooldown_seconds)
        fallback.start()
        fallback.error = why
        return fallback, why
