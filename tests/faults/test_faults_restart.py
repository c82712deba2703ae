"""The door PC's service, for real: the unit `facegate service install` writes, run by a small
supervisor that honours its Restart=, RestartSec=, WatchdogSec= and Type=notify as systemd
does (tests/support/supervisor.py; systemd is not PID 1 here). The app (`facegate --kiosk`,
offscreen, the clip as a looping camera, Lin-Manuel enrolled, a door driven by commands through
the guard process) is

1. killed with SIGKILL: back (READY) and naming Lin-Manuel at the door again, with the same
   source, door settings and a locked admin; the access log says "restarted after a crash";
2. frozen (SIGSTOP, a hung process): the watchdog aborts it, it comes back, and the access log
   says "restarted after a hang";
3. stopped (SIGTERM): "FaceGate stopped".

While it is down the door stays locked: the guard locks when the app dies and again when the
new one starts; no unlock command runs in between. How fast it comes back is printed.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from core.door.access_log import AccessLog
from core.door.base import DoorSettings
from core.gallery.admin import AdminLock
from core.gallery.api import Gallery
from core.service import heartbeat
from core.service.lifecycle import RESTARTED_CRASH, RESTARTED_HANG, STARTED, STOPPED
from core.service.unit import UnitOptions, service_unit
from tests.support.data import CLIP, ROOT
from tests.support.supervisor import Supervisor, Unit

WATCHDOG_S = 6.0


def _recognised(path, pid: int, after_wall: str) -> heartbeat.Heartbeat | None:
    """The heartbeat of ``pid`` once it has logged a door decision naming Lin-Manuel."""
    beat = heartbeat.read(path)
    if beat and beat.pid == pid and beat.last_person == "Lin-Manuel" and beat.last_decision >= after_wall:
        return beat
    return None


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise TimeoutError(what)


def test_killed_and_frozen_app_comes_back_and_recognises_again(tmp_path, lin_gallery):
    journal = tmp_path / "door.txt"
    write = f"{sys.executable} -c \"import sys; open({str(journal)!r}, 'a').write(sys.argv[1] + '\\n')\""
    DoorSettings(
        driver="command", command_unlock=f"{write} open", command_lock=f"{write} lock", pulse_seconds=0.5, cooldown_seconds=0.5
    ).save(lin_gallery.store)
    AdminLock(lin_gallery.store).set_secret("2468")
    db = lin_gallery.store.path
    lin_gallery.close()
    beat_path = heartbeat.heartbeat_path(db)
    text = service_unit(
        UnitOptions(
            command=[sys.executable, str(ROOT / "main.py"), "--kiosk", "--db", str(db), "--source", str(CLIP)],
            environment={
                "QT_QPA_PLATFORM": "offscreen",
                "FACEGATE_HOME": str(tmp_path),
                "XDG_CONFIG_HOME": str(tmp_path / "config"),
            },
            watchdog_seconds=WATCHDOG_S,
        )
    )
    unit = Unit.parse(text)
    assert (unit.restart, unit.restart_sec, unit.watchdog_sec) == ("always", 2.0, WATCHDOG_S)
    supervisor = Supervisor(unit, cwd=str(tmp_path))
    supervisor.start()
    try:
        first = supervisor.wait_for("ready", timeout=180)
        now = heartbeat.now_iso()
        _wait(lambda: _recognised(beat_path, first.pid, now), 180, "Lin-Manuel named before the kill")

        # 1. SIGKILL
        lines_at_kill = len(journal.read_text().split())
        killed = time.monotonic()
        os.kill(first.pid, signal.SIGKILL)
        wall = heartbeat.now_iso()
        ready = supervisor.wait_for("ready", after=killed, timeout=180)
        lines_at_ready = len(journal.read_text().split())
        back = _wait(lambda: _recognised(beat_path, ready.pid, wall), 180, "Lin-Manuel named after the kill")
        named = time.monotonic()
        assert ready.pid != first.pid and supervisor.last("exited", killed).detail == str(-signal.SIGKILL)
        assert back.source == str(CLIP) and back.door_driver == "command" and back.admin == "locked"
        assert back.mode == "kiosk" and back.gallery_people == 1
        # while it was down: the old guard locked as the app died, the new one as it started, and
        # nothing opened the door
        while_down = journal.read_text().split()[lines_at_kill:lines_at_ready]
        assert while_down.count("lock") >= 2 and "open" not in while_down, journal.read_text().split()

        # 2. a frozen process: no pings, the watchdog aborts it, it comes back
        frozen = time.monotonic()
        os.kill(ready.pid, signal.SIGSTOP)
        timeout = supervisor.wait_for("watchdog-timeout", after=frozen, timeout=60)
        again = supervisor.wait_for("ready", after=frozen, timeout=180)
        hang_exit = supervisor.last("exited", frozen).detail
        assert timeout.when - frozen >= WATCHDOG_S - 1.5 and hang_exit == str(-signal.SIGABRT)
    finally:
        code = supervisor.stop()
    assert code == 0
    print(
        f"\nSIGKILL -> READY again {ready.when - killed:.1f} s (RestartSec 2 s), -> Lin-Manuel named at the door "
        f"again {named - killed:.1f} s; SIGSTOP -> watchdog abort {timeout.when - frozen:.1f} s "
        f"(WatchdogSec {WATCHDOG_S:g} s) -> READY again {again.when - frozen:.1f} s"
    )
    with Gallery(db) as g:
        events = AccessLog(g.store).events()
    lifecycle = [(e.verdict, e.reason) for e in reversed(events) if e.verdict.startswith("FaceGate")]
    assert [v for v, _ in lifecycle] == [STARTED, RESTARTED_CRASH, RESTARTED_HANG, STOPPED], lifecycle
    assert "ended without stopping" in lifecycle[1][1]
    assert "aborted" in lifecycle[2][1] or "has not" in lifecycle[2][1], lifecycle[2]
    assert "SIGTERM" in lifecycle[3][1]
    assert any(e.name == "Lin-Manuel" for e in events)
    assert not [e.reason for e in events if e.verdict == "Door error"]  # no restart or stop upset the door
