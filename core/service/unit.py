"""The systemd user unit that starts FaceGate's kiosk at login and restarts it, and the commands
that install, remove and inspect it (`facegate service install|remove|status`).

Why a *user* service (of a dedicated, unprivileged account that the door PC logs in
automatically) and not a system service: the kiosk is a window, and only the user's graphical
session has the display (the X authority cookie or the Wayland socket) and the session bus
that keeps the screen awake; a system service would have to borrow them from a session it does
not own. The gallery lives in that account's private data folder (0700), so the service, the
person at the keyboard and `facegate status` all see the same gallery, and nothing runs as root.
Lingering is enabled so the account's service manager runs from boot and is not torn down when
a session ends (restart accounting and `systemctl --user` over ssh keep working).

The unit starts with the graphical session (WantedBy=graphical-session.target, which GNOME and
KDE Plasma start); an XDG autostart entry starts it on desktops that do not (Xfce, LXQt, a bare
window manager), after importing DISPLAY/WAYLAND_DISPLAY into the service manager.

Restart policy: Restart=always after RestartSec=2s. KillMode stays control-group: whenever
FaceGate's main process ends, the rest of the service (the descriptor worker, the door guard)
gets SIGTERM, which the guard answers by locking the door - with KillMode=mixed systemd would
SIGKILL the guard at once, racing its own lock-on-parent-death. Start
limits: 20 starts within 10 minutes and systemd gives up (only an app that dies right after
each start gets there; `facegate status` then exits 3). No growing delay (RestartSteps=,
systemd >= 254): its counter is never reset after a good run (systemd issue #43813), so a door
that crashed five times in a year would then wait the longest delay every time. Type=notify
with WatchdogSec=20s: see core.service.monitor. An admin who quits the kiosk with the PIN exits
with ADMIN_QUIT_STATUS and is not restarted, nor is a kiosk refused for want of an admin PIN
(NO_PIN_STATUS); any other end is (even a stray SIGTERM: a clean
exit, status 0).
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import FaceGateError

if TYPE_CHECKING:
    from collections.abc import Callable

SERVICE = "facegate.service"
AUTOSTART = "facegate-service.desktop"
#: The exit status of an admin quitting the kiosk on purpose: an exit not restarted.
ADMIN_QUIT_STATUS = 10
#: The kiosk refused to start on a gallery with no admin PIN (anyone at the door could choose one):
#: not restarted either, since starting again cannot help.
NO_PIN_STATUS = 11
#: The door refused to start because its site file is missing, damaged or readable by others
#: (fail secure). Restarted as any other end: the file may be mended meanwhile.
SITE_BROKEN_STATUS = 12


@dataclass
class UnitOptions:
    """What goes into the unit; the defaults are the shipped template's."""

    command: list[str] = field(default_factory=lambda: ["/usr/bin/facegate", "--kiosk"])
    environment: dict[str, str] = field(default_factory=dict)
    restart_seconds: float = 2
    watchdog_seconds: float = 20
    start_timeout_seconds: float = 90  # models, window and camera (EXTEND_TIMEOUT_USEC beyond)
    abort_timeout_seconds: float = 10  # after the watchdog's SIGABRT, SIGKILL
    stop_timeout_seconds: float = 20
    start_limit_burst: int = 20
    start_limit_interval_seconds: float = 600


def service_unit(options: UnitOptions | None = None) -> str:
    """The text of facegate.service."""
    o = options or UnitOptions()
    env = "".join(f"Environment={_quote(f'{k}={v}')}\n" for k, v in sorted(o.environment.items()))
    return f"""\
# FaceGate at the door: the kiosk window, started with the graphical session and restarted
# when it crashes or hangs. Written by `facegate service install`; `facegate service remove`
# takes it away. The door stays locked whenever FaceGate is down (its guard process locks).
[Unit]
Description=FaceGate door recognition (kiosk)
After=graphical-session.target
PartOf=graphical-session.target
StartLimitIntervalSec={_seconds(o.start_limit_interval_seconds)}
StartLimitBurst={o.start_limit_burst}

[Service]
Type=notify
NotifyAccess=main
ExecStart={" ".join(_quote(arg) for arg in o.command)}
{env}Restart=always
RestartSec={_seconds(o.restart_seconds)}
RestartPreventExitStatus={ADMIN_QUIT_STATUS} {NO_PIN_STATUS}
SuccessExitStatus={ADMIN_QUIT_STATUS}
WatchdogSec={_seconds(o.watchdog_seconds)}
TimeoutStartSec={_seconds(o.start_timeout_seconds)}
TimeoutAbortSec={_seconds(o.abort_timeout_seconds)}
TimeoutStopSec={_seconds(o.stop_timeout_seconds)}
KillMode=control-group

[Install]
WantedBy=graphical-session.target
"""


def autostart_entry() -> str:
    """An XDG autostart entry for desktops that never start graphical-session.target."""
    return f"""\
[Desktop Entry]
Type=Application
Name=FaceGate door service
Comment=Starts the FaceGate kiosk service with this desktop session
Exec=sh -c 'systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY XDG_CURRENT_DESKTOP; systemctl --user start {SERVICE}'
NoDisplay=true
X-GNOME-Autostart-enabled=true
"""


def facegate_command() -> list[str]:
    """How to start this FaceGate: the frozen executable, the installed `facegate` command, or
    this interpreter running main.py from the source tree."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    found = shutil.which("facegate")
    if found:
        return [os.path.abspath(found)]
    return [sys.executable, str(Path(__file__).resolve().parents[2] / "main.py")]


def _seconds(value: float) -> str:
    return f"{value:g}s" if value < 60 or value % 60 else f"{value / 60:g}min"


def _quote(arg: str) -> str:
    """One ExecStart=/Environment= word: specifiers (%) and variables ($) kept literal, quoted
    when it holds spaces or quotes (systemd.syntax(7))."""
    text = arg.replace("%", "%%").replace("$", "$$")
    if text and not any(c in text for c in " \t\"'\\;"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- installing ------------------------------------------------------------------------------
def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def unit_dir() -> Path:
    return config_home() / "systemd" / "user"


def autostart_dir() -> Path:
    return config_home() / "autostart"


class ServiceError(FaceGateError):
    """A step of installing or removing failed; the message says which and why."""


@dataclass
class Step:
    what: str
    ok: bool
    detail: str = ""


def install(options: UnitOptions, run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run) -> list[Step]:
    """Write the unit and the autostart entry, reload, enable, and enable lingering. Nothing is
    left half-done: when enabling fails the files are taken away again."""
    written = []
    for path, text in ((unit_dir() / SERVICE, service_unit(options)), (autostart_dir() / AUTOSTART, autostart_entry())):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        written.append(path)
    steps = [Step(f"wrote {p}", True) for p in written]
    for done, failed, argv in (
        (
            "reloaded the user service manager",
            "could not reload the user service manager",
            ["systemctl", "--user", "daemon-reload"],
        ),
        (f"enabled {SERVICE}", f"could not enable {SERVICE}", ["systemctl", "--user", "enable", SERVICE]),
    ):
        ok, detail = _run(argv, run)
        steps.append(Step(done if ok else failed, ok, detail))
        if not ok:
            for path in written:
                path.unlink(missing_ok=True)
            steps.append(Step("took the unit and the autostart entry away again", True))
            raise ServiceError(_explain(steps))
    user = _user()
    ok, detail = _run(["loginctl", "enable-linger", user], run)
    steps.append(
        Step(
            f"enabled lingering for {user}"
            if ok
            else f"could not enable lingering for {user} (ask an administrator: sudo loginctl enable-linger {user})",
            ok,
            detail,
        )
    )
    return steps


def remove(run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run) -> list[Step]:
    """Stop and disable the service and delete what install() wrote. Lingering is left as it is."""
    steps = []
    ok, detail = _run(["systemctl", "--user", "disable", "--now", SERVICE], run)
    steps.append(Step(f"stopped and disabled {SERVICE}" if ok else f"could not disable {SERVICE}", ok, detail))
    for path in (unit_dir() / SERVICE, autostart_dir() / AUTOSTART):
        if path.exists():
            path.unlink()
            steps.append(Step(f"removed {path}", True))
    ok, detail = _run(["systemctl", "--user", "daemon-reload"], run)
    steps.append(Step("reloaded the user service manager" if ok else "could not reload the user service manager", ok, detail))
    return steps


def status(run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run) -> dict[str, str]:
    """What the user's service manager says about the unit (ActiveState, NRestarts, ...), plus
    whether the unit file is installed and lingering is on."""
    info = {"unit_file": str(unit_dir() / SERVICE), "installed": "yes" if (unit_dir() / SERVICE).exists() else "no"}
    ok, out = _run(
        [
            "systemctl",
            "--user",
            "show",
            SERVICE,
            "--property",
            "LoadState,ActiveState,SubState,UnitFileState,NRestarts,ExecMainStartTimestamp,Result,StatusText",
        ],
        run,
    )
    if ok:
        info.update(line.split("=", 1) for line in out.splitlines() if "=" in line)  # type: ignore[misc]
    else:
        info["manager"] = out
    ok, out = _run(["loginctl", "show-user", _user(), "--property", "Linger"], run)
    info["Linger"] = out.split("=", 1)[1] if ok and "=" in out else "unknown"
    return info


def _run(argv: list[str], run: Callable[..., subprocess.CompletedProcess[str]]) -> tuple[bool, str]:
    try:
        done = run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{argv[0]}: {exc}"
    out = (done.stdout or "").strip() if done.returncode == 0 else (done.stderr or done.stdout or "").strip()
    return done.returncode == 0, out


def _user() -> str:
    return getpass.getuser()


def _explain(steps: list[Step]) -> str:
    lines = [f"{'done' if s.ok else 'FAILED'}: {s.what}" + (f" ({s.detail})" if s.detail else "") for s in steps]
    return "\n".join(lines)
