"""The installer, for real: packaging/build makes the bundle and the .deb, dpkg installs it on this
machine (CI runs as root), the installed `facegate --self-test` and CLI run with no network and
every Python installation hidden (the CLI also starts a site on a real PostgreSQL + pgvector and,
with a network, sends a test event to a real MQTT broker),
and dpkg -r takes it all away again.

"Hidden" is literal: each installed command runs in its own mount and network namespace
(unshare) where tmpfs covers this venv, the interpreter it was made from and the system's
Python, and python3 is checked not to start. The self-test runs twice: offscreen (its default) and
on an X server (Xvfb) through the xcb plugin, as on a desktop. 1.5-3 minutes in all.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from core.gallery.photo_views import VIEW_WIDTHS
from tests.support.data import ROOT
from tests.support.pg import PgServer
from tests.support.receivers import Broker, Subscriber
from tests.support.xserver import xvfb

INSTALL_DIR = Path("/opt/facegate")
INSTALLED_FILES = [
    INSTALL_DIR / "facegate",
    Path("/usr/bin/facegate"),
    Path("/usr/share/applications/facegate.desktop"),
    Path("/usr/share/icons/hicolor/256x256/apps/facegate.png"),
    Path("/usr/share/icons/hicolor/scalable/apps/facegate.svg"),
    Path("/usr/lib/systemd/user/facegate.service"),
]
INSTALLED_MODELS = [
    INSTALL_DIR / "_internal" / "resources" / "models" / "yunet" / name
    for name in ("face_detection_yunet_2023mar.onnx", "LICENSE", "README.md")
]
INSTALLED_MODELS += [
    INSTALL_DIR / "_internal" / "resources" / "models" / "minifas" / name
    for name in ("minifasnet_v2se_128.onnx", "LICENSE", "README.md")
]
SUDO = [] if os.geteuid() == 0 else ["sudo", "-n"]


@pytest.fixture(scope="module")
def deb() -> Path:
    """packaging/build, once for the module: the bundle in dist/facegate and the .deb beside it."""
    done = subprocess.run(
        [str(ROOT / "packaging" / "build")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PY": sys.executable},
        timeout=1200,
    )
    assert done.returncode == 0, f"packaging/build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert re.search(r"done in \d+ s .*installed size \d+ MB", done.stdout), done.stdout
    (path,) = (ROOT / "dist").glob("facegate_*_*.deb")
    return path


def python_hiding_script(command: list[str]) -> str:
    """A sh script that covers every Python installation with an empty tmpfs, checks python3
    no longer runs, and execs ``command`` (meant for `unshare --mount --net`)."""
    system = {Path("/"), Path("/usr"), Path("/usr/local")}  # their Pythons are covered by the globs
    dirs = {Path(sys.prefix), Path(sys.base_prefix)} - system
    dirs |= {Path(p) for p in glob.glob("/usr/lib/python3*") + glob.glob("/usr/local/lib/python3*")}
    files = {Path(p) for p in glob.glob("/usr/bin/python3*") + glob.glob("/usr/local/bin/python3*") if not os.path.islink(p)}
    lines = ["set -e"]
    lines += [f"mount -t tmpfs none {shlex.quote(str(d))}" for d in sorted(dirs) if d.is_dir()]
    lines += [f"mount --bind /dev/null {shlex.quote(str(f))}" for f in sorted(files)]
    lines.append("if python3 -c '' 2>/dev/null; then echo 'python3 still runs' >&2; exit 97; fi")
    lines.append("exec " + " ".join(shlex.quote(c) for c in command))
    return "\n".join(lines)


def isolated(command: list[str], home: Path, network: bool = False, **env: str) -> list[str]:
    """``command`` with no Python, a bare environment and, unless ``network``, no network."""
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(home), "FACEGATE_HOME": str(home / "data"), "LANG": "C.UTF-8", **env}
    return SUDO + [
        "env",
        "-i",
        *(f"{k}={v}" for k, v in bare.items()),
        "unshare",
        "--mount",
        *([] if network else ["--net"]),
        "--",
        "sh",
        "-c",
        python_hiding_script(command),
    ]


def test_bundle_has_one_qt_and_only_the_plugins_it_needs(deb):
    internal = ROOT / "dist" / "facegate" / "_internal"
    dangling = [p for p in internal.rglob("*") if p.is_symlink() and not p.exists()]
    assert not dangling, f"links to files left out of the bundle: {dangling}"
    assert len({p.resolve() for p in internal.rglob("libQt6Core.so*")}) == 1  # (PyInstaller adds symlinks)
    assert not list(internal.rglob("*PyQt*")) and not (internal / "cv2" / "qt").exists()
    platforms = {p.name for p in internal.rglob("plugins/platforms/*")}
    assert platforms == {"libqoffscreen.so", "libqxcb.so"}
    assert not list(internal.rglob("libQt6Qml.so*")) and not list(internal.rglob("libQt6WaylandClient.so*"))
    models = {p.name for p in (internal / "face_recognition_models" / "models").iterdir()}
    assert "dlib_face_recognition_resnet_model_v1.dat" in models and "shape_predictor_68_face_landmarks.dat" in models
    assert (internal / "cv2" / "data" / "haarcascade_frontalface_default.xml").is_file()
    assert (internal / "resources" / "demo_clip.mp4").is_file()
    assert list(internal.glob("osdp_sys*.so"))  # libosdp's compiled module, for the OSDP reader
    yunet = internal / "resources" / "models" / "yunet"
    assert {p.name for p in yunet.iterdir()} == {"face_detection_yunet_2023mar.onnx", "LICENSE", "README.md"}
    assert (yunet / "face_detection_yunet_2023mar.onnx").read_bytes() == (
        ROOT / "resources" / "models" / "yunet" / "face_detection_yunet_2023mar.onnx"
    ).read_bytes()
    assert "Apache License" in (yunet / "LICENSE").read_text()
    minifas = internal / "resources" / "models" / "minifas"  # the screen and print check's model
    assert {p.name for p in minifas.iterdir()} == {"minifasnet_v2se_128.onnx", "LICENSE", "README.md"}
    assert (minifas / "minifasnet_v2se_128.onnx").read_bytes() == (
        ROOT / "resources" / "models" / "minifas" / "minifasnet_v2se_128.onnx"
    ).read_bytes()
    assert "Apache License" in (minifas / "LICENSE").read_text()

    info = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True, check=True).stdout
    assert "Package: facegate" in info and re.search(r"Depends: .*libc6 \(>= 2\.\d+\)", info), info
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True).stdout
    for path in INSTALLED_FILES + INSTALLED_MODELS:
        assert f".{path}" in listing, f"{path} is not in the package"


def test_installed_self_test_and_cli_without_python_or_network_then_removed(deb, tmp_path):
    subprocess.run(SUDO + ["dpkg", "-r", "facegate"], capture_output=True)  # a leftover from a killed run
    done = subprocess.run(SUDO + ["dpkg", "-i", str(deb)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    try:
        assert all(p.exists() for p in INSTALLED_FILES + INSTALLED_MODELS)
        check_self_test(tmp_path)
        with xvfb() as display:
            check_self_test(tmp_path, "xcb", DISPLAY=display, QT_QPA_PLATFORM="xcb")
        check_self_test_failure(tmp_path)
        check_cli(tmp_path)
        check_site(tmp_path)
        check_events(tmp_path)
        check_service_unit(tmp_path)
    finally:
        removed = subprocess.run(SUDO + ["dpkg", "-r", "facegate"], capture_output=True, text=True, timeout=600)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert not INSTALL_DIR.exists(), f"{INSTALL_DIR} is left after dpkg -r: {list(INSTALL_DIR.rglob('*'))[:10]}"
    assert not any(p.exists() for p in INSTALLED_FILES)
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "facegate"], capture_output=True, text=True)
    assert "installed" not in status.stdout.split()[-1:], status.stdout


def check_self_test(home: Path, platform: str = "offscreen", **env: str) -> None:
    """The installed window plays the demo clip, enrolls and recognises; its descriptor worker is
    the frozen app itself and nothing outside /opt/facegate provides Python."""
    proc = subprocess.Popen(
        isolated(["facegate", "--self-test"], home, **env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)
    reader.start()
    out, seen_processes = [], False
    for line in proc.stdout:
        out.append(line)
        found = re.search(r"descriptor worker pid (\d+) \(this process (\d+)\)", line)
        if found and not seen_processes:
            seen_processes = True
            for pid in found.groups():
                assert os.readlink(f"/proc/{pid}/exe") == str(INSTALL_DIR / "facegate")
                mapped = {
                    m.split()[-1]
                    for m in Path(f"/proc/{pid}/maps").read_text().splitlines()
                    if len(m.split()) >= 6 and m.split()[-1].startswith("/")
                }
                pythons = [m for m in mapped if "python" in m.lower() and not m.startswith(str(INSTALL_DIR))]
                assert not pythons, f"process {pid} maps Python from outside the bundle: {pythons}"
                assert str(INSTALL_DIR / "_internal" / "libpython3.11.so.1.0") in mapped
    proc.wait(timeout=300)
    reader.join(timeout=10)
    text, errors = "".join(out), "".join(err)
    assert proc.returncode == 0, f"self-test exit {proc.returncode}\n{text}\n{errors}"
    assert seen_processes, text
    assert f"FaceGate frozen (PyInstaller), Qt platform {platform}" in text
    assert f"in {INSTALL_DIR}/_internal/face_recognition_models/models" in text
    # the window detects with YuNet, from the model inside the bundle (no network in here)
    assert f"YuNet face detector {INSTALL_DIR}/_internal/resources/models/yunet/face_detection_yunet_2023mar.onnx" in text
    assert "detecting with yunet, every frame" in text
    assert re.search(r"playing /opt/facegate/_internal/resources/demo_clip\.mp4", text)
    enrolled = re.search(r"enrolled 'Demo Person' with (\d+) samples", text)
    # 5 samples at least; more while head poses are still missing (core.live.enrollment)
    assert enrolled and int(enrolled.group(1)) >= 5, text
    named = re.search(r"Demo Person named on (\d+) of (\d+) frames shown.*stranger not named on (\d+) of (\d+)", text)
    assert named, text
    person, shown, unnamed, stranger = map(int, named.groups())
    assert shown >= 33 and person >= 0.6 * shown and stranger >= 17 and unnamed == stranger, text
    assert re.search(r"self-test: PASS in [\d.]+ s", text)


def check_self_test_failure(home: Path) -> None:
    """Broken installation: a non-zero exit and the reason."""
    empty = home / "no-models"
    empty.mkdir()
    done = subprocess.run(
        isolated(["facegate", "--self-test"], home, FACEGATE_MODELS=str(empty)), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1
    assert f"self-test: FAIL: ModelError: dlib model files missing from {empty}" in done.stderr, done.stderr


def check_cli(home: Path) -> None:
    """The installed CLI enrolls and identifies from photos, models found inside the bundle."""
    db = home / "cli.db"
    images = ROOT / "tests" / "data" / "images"
    done = subprocess.run(
        isolated(["facegate", "enroll", "Barack", str(images / "obama.jpg"), "--db", str(db)], home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run(
        isolated(["facegate", "identify", str(images / "obama2.jpg"), "--db", str(db), "--json"], home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (face,) = json.loads(done.stdout)
    assert face["name"] == "Barack" and face["distance"] < 0.4


def check_site(home: Path) -> None:
    """The frozen app's PostgreSQL driver (psycopg with its bundled libpq) and pgvector: the
    installed CLI starts a site on a real server, enrolls and pushes the person there. Over the
    server's Unix socket, since the command has no network."""
    server = PgServer(Path(tempfile.mkdtemp(prefix="facegate-frozen-site-")) / "pg").start()
    try:
        server.sql("CREATE DATABASE frozen")
        url = f"postgresql://postgres@/frozen?host={server.sockets}&port={server.port}"
        db = home / "site.db"
        for command, said in (
            (["site", "init", url, "--admin"], "started the site"),
            (
                ["enroll", "Barack", str(ROOT / "tests" / "data" / "images" / "obama.jpg")],
                f"{1 + len(VIEW_WIDTHS)} in all",
            ),  # the photo and its camera views
            (["site", "sync"], f"pushed 1 new people, {1 + len(VIEW_WIDTHS)} samples"),
        ):
            done = subprocess.run(
                isolated(["facegate", *command, "--db", str(db)], home), capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0 and said in done.stdout, done.stdout + done.stderr
        assert server.sql("SELECT name FROM facegate.people", dbname="frozen").split() == ["Barack"]
    finally:
        server.remove()


def check_events(home: Path) -> None:
    """The frozen app's MQTT client (paho): `facegate events --test` reaches a real broker (the
    one check with a network: it is what the command is for)."""
    broker = Broker(home).start()
    subscriber = Subscriber(broker.port)
    try:
        done = subprocess.run(
            isolated(
                [
                    "facegate",
                    "events",
                    "--db",
                    str(home / "events.db"),
                    "--mqtt-host",
                    "127.0.0.1",
                    "--mqtt-port",
                    str(broker.port),
                    "--test",
                    "--json",
                ],
                home,
                network=True,
            ),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert [t["state"] for t in json.loads(done.stdout)["test"]] == ["ok"], done.stdout
        assert subscriber.wait_for(lambda: subscriber.json_on("facegate/front_door/decision"))
        assert subscriber.json_on("facegate/front_door/decision")[0]["type"] == "manual_unlock"
    finally:
        subscriber.close()
        broker.kill()


def check_service_unit(home: Path) -> None:
    """The shipped user unit passes systemd's check against the installed command, is enabled by
    nobody, and `facegate service install --dry-run` of the frozen app starts the bundle itself."""
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700)
    unit = Path("/usr/lib/systemd/user/facegate.service")
    done = subprocess.run(
        ["systemd-analyze", "--user", "verify", str(unit)],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "ExecStart=/usr/bin/facegate --kiosk" in unit.read_text()
    assert not list(Path("/etc/systemd/user").glob("*/facegate.service"))
    done = subprocess.run(
        isolated(["facegate", "service", "install", "--dry-run"], home), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "ExecStart=/opt/facegate/facegate --kiosk" in done.stdout, done.stdout + done.stderr
