"""How fast the door PC's FaceGate comes back (prints figures; never a timed test).

    .venv/bin/python bench/restart_bench.py [--runs 3]

The unit `facegate service install` writes (production values: RestartSec=2s, WatchdogSec=20s)
run by the test supervisor (tests/support/supervisor.py, which honours Restart=, RestartSec=,
WatchdogSec= and Type=notify as systemd does); the app is `facegate --kiosk` offscreen with the
clip as a looping camera and Lin-Manuel enrolled from his own frames. Each run SIGKILLs the app
and measures until READY (the new app's first frame) and until its first door decision naming
Lin-Manuel; a last run freezes the app (SIGSTOP) and measures until the watchdog aborts it and
until READY again. Medians of --runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def enroll_lin(db: Path) -> None:
    """Lin-Manuel enrolled live from the clip, as an operator would at the door."""
    from core.gallery.admin import AdminLock
    from core.gallery.api import Gallery
    from core.live.loop import LiveRecognizer, LiveSettings
    from core.live.worker import InlineWorker
    from tests.support.data import LIN_CLICK_FRAME, clip_frames

    with Gallery(db) as g:
        rec = LiveRecognizer(g, LiveSettings(enroll_timeout=600.0), descriptor_worker=InlineWorker(g.describer))
        for i, rgb in enumerate(clip_frames()[: LIN_CLICK_FRAME + 80]):
            result = rec.process(rgb, i / 30)
            if i == LIN_CLICK_FRAME:
                rec.start_enrollment(result.tracks[0].id, "Lin-Manuel")
        rec.close()
        assert [p.name for p in g.people()] == ["Lin-Manuel"]
        AdminLock(g.store).set_secret("2468")


def named_after(path: Path, pid: int, since: str, timeout: float = 300.0) -> float:
    from core.service import heartbeat

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        beat = heartbeat.read(path)
        if beat and beat.pid == pid and beat.last_person == "Lin-Manuel" and beat.last_decision >= since:
            return time.monotonic()
        time.sleep(0.1)
    raise TimeoutError("Lin-Manuel was not named")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from core.service import heartbeat
    from core.service.unit import UnitOptions, service_unit
    from tests.support.data import CLIP
    from tests.support.supervisor import Supervisor, Unit

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = tmp / "gallery.db"
        enroll_lin(db)
        unit = Unit.parse(
            service_unit(
                UnitOptions(
                    command=[sys.executable, str(ROOT / "main.py"), "--kiosk", "--db", str(db), "--source", str(CLIP)],
                    environment={
                        "QT_QPA_PLATFORM": "offscreen",
                        "FACEGATE_HOME": str(tmp),
                        "XDG_CONFIG_HOME": str(tmp / "config"),
                    },
                )
            )
        )
        beat = heartbeat.heartbeat_path(db)
        supervisor = Supervisor(unit, cwd=str(tmp))
        supervisor.start()
        ready_s, named_s = [], []
        try:
            ready = supervisor.wait_for("ready", timeout=300)
            named_after(beat, ready.pid, heartbeat.now_iso())
            for _ in range(args.runs):
                killed, wall = time.monotonic(), heartbeat.now_iso()
                os.kill(ready.pid, signal.SIGKILL)
                ready = supervisor.wait_for("ready", after=killed, timeout=300)
                ready_s.append(ready.when - killed)
                named_s.append(named_after(beat, ready.pid, wall) - killed)
            frozen = time.monotonic()
            os.kill(ready.pid, signal.SIGSTOP)
            aborted = supervisor.wait_for("watchdog-timeout", after=frozen, timeout=300)
            back = supervisor.wait_for("ready", after=frozen, timeout=300)
        finally:
            supervisor.stop()
    print(
        f"SIGKILL -> READY again: median {statistics.median(ready_s):.1f} s ({', '.join(f'{x:.1f}' for x in ready_s)}); "
        f"RestartSec {unit.restart_sec:g} s of it"
    )
    print(
        f"SIGKILL -> a door decision naming Lin-Manuel again: median {statistics.median(named_s):.1f} s "
        f"({', '.join(f'{x:.1f}' for x in named_s)})"
    )
    print(
        f"frozen (SIGSTOP) -> watchdog abort {aborted.when - frozen:.1f} s (WatchdogSec {unit.watchdog_sec:g} s) "
        f"-> READY again {back.when - frozen:.1f} s"
    )


if __name__ == "__main__":
    main()
