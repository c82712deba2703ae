"""FaceGate behind an access panel: how long from a grant to the card read at the panel, next to
how long from a grant to a relay's ON bytes (prints figures; never a timed test).

    .venv/bin/python bench/osdp_bench.py [--runs 5]

Lin-Manuel is enrolled from his own frames of the clip (as at a door, tests/core/door/test_decide),
given card 1001, and the clip's frames 80-160 are played through a real Station per run until the
door decides he is granted. "Grant" is the moment the decider hands the grant to the door output
(its unlock() call on the frame thread):

1. OSDP reader (core.door.osdp) to a real libosdp ControlPanel over a pty pair, secure channel on:
   grant -> the card read delivered to the panel; the panel's LED answer back at the reader; and
   the reader's start to the secure channel up.
2. Serial relay through the fail-secure guard process (core.door.guard) on a pty: grant -> the
   relay's ON bytes.

A pty has no line speed: on a real RS-485 bus at 9600 baud add the bytes' time on the wire (a
secure-channel card read and its poll are about 60 bytes: ~60 ms at 9600, ~5 ms at 115200).
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "core" / "door"))  # test_decide: the clip helpers the tests use
CLIP = ROOT / "tests" / "data" / "video" / "short_hamilton_clip.mp4"
NAME = "Lin-Manuel"


def clip_part(start: int = 80, stop: int = 160) -> list:
    from test_decide import frames

    return [(ts, rgb) for _, ts, rgb in frames(CLIP, start, stop)]


def granted_through(station, frames, mark) -> float:
    """Play ``frames`` through the station until its door output is handed a grant; that moment."""
    door = station.door
    original = door.unlock
    handed: list[float] = []

    def unlock(holder=None):
        handed.append(time.perf_counter())
        answer = original(holder)
        mark(answer)
        return answer

    door.unlock = unlock
    for ts, rgb in frames:
        station.recognizer.process(rgb, ts)
        if handed:
            return handed[0]
    raise SystemExit("Lin-Manuel was never granted in the clip's frames 80-160")


def osdp_runs(g, frames, runs: int) -> None:
    import osdp

    from core.door.base import DoorSettings
    from core.live.worker import InlineWorker
    from core.station import Station
    from tests.support.osdp import SCBK, PanelBus

    to_panel, answers, secure = [], [], []
    for _ in range(runs):
        with PanelBus() as bus:
            DoorSettings(driver="osdp", osdp_port=bus.port, osdp_scbk=SCBK.hex(), osdp_facility=42).save(g.store)
            panel = bus.panel(answer=osdp.CommandLEDColor.Green)
            t = time.perf_counter()
            station = Station(g, descriptor_worker=InlineWorker(g.describer))
            reader = station.door
            while reader.status().state != "locked":
                time.sleep(0.005)
            secure.append(time.perf_counter() - t)
            got: list = []
            reader.answer_listeners.append(got.append)
            said: list[str] = []
            try:
                granted = granted_through(station, frames, said.append)
                assert said == ["card 1001 sent to the panel"], said
                try:
                    arrived = panel.reads.get(timeout=5)[0]
                except Exception:
                    raise SystemExit(f"no card read at the panel: reader {reader.status()} {reader.panel()}") from None
                to_panel.append((arrived - granted) * 1000)
                deadline = time.monotonic() + 5
                while not got and time.monotonic() < deadline:
                    time.sleep(0.005)
                answers.append(got[0].seconds * 1000)
            finally:
                station.close()
    print(
        f"OSDP reader -> libosdp panel (pty, secure channel): grant -> card read at the panel "
        f"{statistics.median(to_panel):.1f} ms (min {min(to_panel):.1f}, max {max(to_panel):.1f}); the panel's LED "
        f"answer back at the reader {statistics.median(answers):.1f} ms after the read was sent; reader start -> "
        f"secure channel up {statistics.median(secure):.2f} s - medians of {runs}"
    )


def relay_runs(g, frames, runs: int) -> None:
    import tty

    from core.door.base import LCUS_ON, DoorSettings, hex_bytes
    from core.live.worker import InlineWorker
    from core.station import Station

    on = hex_bytes(LCUS_ON)
    to_on = []
    for _ in range(runs):
        master, slave = os.openpty()
        tty.setraw(slave)
        DoorSettings(driver="serial", serial_port=os.ttyname(slave), pulse_seconds=0.2).save(g.store)
        station = Station(g, descriptor_worker=InlineWorker(g.describer))
        time.sleep(0.5)
        while select.select([master], [], [], 0.05)[0]:
            os.read(master, 1024)  # the guard's lock at start
        granted = granted_through(station, frames, lambda answer: None)
        got = b""
        deadline = time.monotonic() + 10
        while on not in got and time.monotonic() < deadline:
            if select.select([master], [], [], 0.01)[0]:
                got += os.read(master, 1024)
        to_on.append((time.perf_counter() - granted) * 1000)
        station.close()
        os.close(master)
        os.close(slave)
    print(
        f"serial relay through the guard process (pty): grant -> ON bytes {statistics.median(to_on):.1f} ms "
        f"(min {min(to_on):.1f}, max {max(to_on):.1f}) - medians of {runs}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from test_decide import enroll_from_clip

    from core.gallery.api import Gallery

    with tempfile.TemporaryDirectory() as tmp:
        g = Gallery(Path(tmp) / "door.db")
        enroll_from_clip(g, NAME)
        g.set_cards([(NAME, "1001")])
        frames = clip_part()
        osdp_runs(g, frames, args.runs)
        relay_runs(g, frames, args.runs)
        g.close()


if __name__ == "__main__":
    main()
