"""The systemd user unit FaceGate writes: systemd's own checker accepts it (no warning), its
ExecStart survives spaces and %/$ in paths, and `facegate service install` on a PC whose user
service manager cannot be reached (this one: systemd is not PID 1) says so and leaves nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.cli.main import main as cli_main
from core.service import unit
from core.service.unit import UnitOptions, service_unit


def verify(folder, *names: str) -> subprocess.CompletedProcess:
    """`systemd-analyze --user verify` in a private runtime dir (no user manager needed)."""
    runtime = folder / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return subprocess.run(
        ["systemd-analyze", "--user", "verify", *(str(folder / n) for n in names)],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
    )


def test_the_unit_passes_systemd_analyze_verify(tmp_path):
    odd = tmp_path / "a gallery %h $HOME"
    odd.mkdir()
    options = UnitOptions(
        command=[sys.executable, "-c", "print('x')", "--kiosk", "--db", str(odd / "g.db")],
        environment={"FACEGATE_HOME": str(odd)},
    )
    text = service_unit(options)
    (tmp_path / unit.SERVICE).write_text(text)
    done = verify(tmp_path, unit.SERVICE)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    for line in (
        "Type=notify",
        "Restart=always",
        "RestartSec=2s",
        "WatchdogSec=20s",
        "StartLimitBurst=20",
        "StartLimitIntervalSec=10min",
        "WantedBy=graphical-session.target",
        "KillMode=control-group",
        f"RestartPreventExitStatus={unit.ADMIN_QUIT_STATUS} {unit.NO_PIN_STATUS}",
    ):
        assert line in text.splitlines(), line
    assert f'"{odd}/g.db"'.replace("%", "%%").replace("$", "$$") in text


def test_a_broken_unit_is_caught_by_the_same_check(tmp_path):
    """The check above can fail: a key systemd does not know is reported."""
    (tmp_path / unit.SERVICE).write_text(
        service_unit().replace("[Service]", "[Service]\nRestartEvery=2s").replace("/usr/bin/facegate", sys.executable)
    )
    assert "Unknown key" in verify(tmp_path, unit.SERVICE).stderr


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config"


def test_install_without_a_user_service_manager_leaves_nothing(config_home, db_path, capsys, gallery):
    from core.gallery.admin import AdminLock

    AdminLock(gallery.store).set_secret("2468")
    code = cli_main(["service", "install", "--db", str(db_path), "--source", "0"])
    err = capsys.readouterr().err
    print(err)
    assert code == 2
    assert "FAILED: could not reload the user service manager (Failed to connect to bus" in err
    assert "took the unit and the autostart entry away again" in err
    assert not (config_home / "systemd" / "user" / unit.SERVICE).exists()
    assert not (config_home / "autostart" / unit.AUTOSTART).exists()


def test_install_refuses_a_gallery_without_admin_pin(config_home, db_path, capsys, gallery):
    assert cli_main(["service", "install", "--db", str(db_path)]) == 2
    assert "choose the admin PIN first" in capsys.readouterr().err
    assert not (config_home / "systemd").exists()


def test_dry_run_prints_the_unit_for_these_options(config_home, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("FACEGATE_HOME", str(tmp_path))
    assert cli_main(["service", "install", "--dry-run", "--source", "rtsp://cam/1", "--screen", "1"]) == 0
    out = capsys.readouterr().out
    assert "--kiosk --source rtsp://cam/1 --screen 1" in out and f"Environment=FACEGATE_HOME={tmp_path}" in out
    assert not (config_home / "systemd").exists()
