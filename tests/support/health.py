"""Heartbeats for the service tests: one of this (running) process, just written, with fresh frames."""

from __future__ import annotations

import os
import time

from core.service import heartbeat
from core.service.heartbeat import Heartbeat


def beat(**changes) -> Heartbeat:
    values = dict(
        pid=os.getpid(),
        boot_id=heartbeat.boot_id(),
        started=heartbeat.now_iso(),
        written=heartbeat.now_iso(),
        written_monotonic=time.monotonic(),
        uptime_s=60.0,
        ready=True,
        source="camera 0",
        camera="running",
        fps=29.5,
        frames=1800,
        last_frame_age_s=0.03,
        door_driver="simulated",
        door_state="locked",
        gallery_people=3,
    )
    return Heartbeat(**{**values, **changes})
