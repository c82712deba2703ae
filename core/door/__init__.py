"""The door: decide who may pass (decide, schedule, access log) and drive the lock (base, drivers, guard).

    >>> door = make_door(DoorSettings(driver="serial", serial_port="/dev/ttyUSB0"))
    >>> door.unlock()   # 'unlocking' | 'cooldown (2.1 s left)' | 'error: ...'

A relay board holds its last state when the app dies, so the real drivers run by default inside
a small guard process (core.door.guard) that owns the port: it locks at start, times each pulse
itself, and locks the moment its parent's pipe closes - even when the app is SIGKILLed while
the door is open.
"""
from __future__ import annotations

from core.door.base import Door, DoorSettings
from core.door.drivers import build_driver
from core.door.guard import GuardedDoor


def make_door(settings: DoorSettings | None = None) -> Door:
    """The door the app should use: real drivers inside the guard process unless told otherwise."""
    settings = settings or DoorSettings()
    settings.check()
    if settings.driver != "simulated" and settings.guard:
        return GuardedDoor(settings)
    return build_driver(settings)
