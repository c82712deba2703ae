"""Helpers for the site tests and benchmark: real descriptors of the test photos, doors (in this
process or in a child process of their own), and TCP proxies between doors and the server (one
that can cut the network, one that speaks TLS with a certificate made for the test)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from tests.support.data import IMAGES, KNN, ROOT

FACES = {
    "obama": [IMAGES / "obama.jpg", IMAGES / "obama2.jpg", IMAGES / "obama3.jpg"],
    "biden": [IMAGES / "biden.jpg"],
    "alex": [IMAGES / "alex-lacamoire.png"],
    "lin": [IMAGES / "lin-manuel-miranda.png"],
    "kit": sorted((KNN / "train" / "kit_harington").iterdir())[:2],
    "rose": sorted((KNN / "train" / "rose_leslie").iterdir())[:2],
}


def describe_faces(describer, photos: dict[str, list[Path]]) -> dict[str, list[np.ndarray]]:
    """The one face of each photo described with the real dlib models."""
    from core.vision.detection import Detector
    from core.vision.images import load_image

    detector = Detector("hog", min_face=40)
    out = {}
    for name, paths in photos.items():
        vecs = []
        for path in paths:
            rgb = load_image(path)
            (box,) = detector.detect(rgb)[:1]
            vecs.append(describer.describe(rgb, box).descriptor)
        out[name] = vecs
    return out


def samples_of(vectors) -> list:
    from core.gallery.store import NewSample

    return [NewSample(np.asarray(v, np.float32), None, "test") for v in vectors]


def jitter(vec: np.ndarray, seed: int, scale: float = 0.01) -> np.ndarray:
    """The same face a little differently (another sample of the same person)."""
    return (np.asarray(vec, np.float32) + np.random.default_rng(seed).normal(0, scale, 128)).astype(np.float32)


# -- a door in a process of its own ---------------------------------------------------------------
DOOR_CHILD = """
import json, sys, threading
import numpy as np
from core.door.decide import DoorDecider
from core.door.policy import DecisionSettings
from core.gallery.api import Gallery
from core.gallery.store import NewSample
from core.records import Box
from core.site.config import SiteConfig
from core.site.gate import OfflineGate
from core.site.local import LocalSite
from core.site.sync import SiteSync

db = sys.argv[1]
g = Gallery(db)
decider = DoorDecider(g, None, DecisionSettings(liveness=False))
decider.gates.append(OfflineGate(g.store))
syncer = SiteSync(g, SiteConfig.load(db))
syncer.start()
frame = np.zeros((120, 120, 3), np.uint8)
track = 0
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    op = cmd["op"]
    if op == "identify":
        m = g.identify_descriptor(np.asarray(cmd["vec"], np.float32))
        out = {"name": m.name, "distance": m.distance}
    elif op == "visit":
        track += 1
        vec = np.asarray(cmd["vec"], np.float32)
        decision = None
        for i in range(3):
            m = g.identify_descriptor(vec)
            decision = decider.update(track, [m] * (i + 1), frame, Box(10, 10, 110, 110), track * 100 + i, vec)
        decider.track_lost(track)
        decider.flush()
        out = {"verdict": decision.verdict, "name": decision.person, "reason": decision.reason}
    elif op == "enroll":
        person, ids = g.enroll_samples(cmd["name"], [NewSample(np.asarray(v, np.float32), None, "child")
                                                     for v in cmd["vecs"]])
        out = {"name": person.name, "samples": len(ids)}
    elif op == "status":
        s = syncer.status()
        local = LocalSite(g.store)
        out = {"online": s.online, "outbox": local.outbox_size(), "cursor": local.cursor(), "error": s.error,
               "events": g.store.read("SELECT count(*) FROM access_events")[0][0]}
    elif op == "quit":
        syncer.stop()
        decider.close()
        g.close()
        print(json.dumps({"bye": True}), flush=True)
        break
    print(json.dumps(out), flush=True)
"""


class DoorProcess:
    """A door's gallery, sync thread and decider in a child process, driven by JSON lines."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DOOR_CHILD, str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self._read(60).get("ready")

    def _read(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"door {self.db.name} did not answer in {timeout} s"
        line = self.proc.stdout.readline()
        assert line, f"door {self.db.name} died (exit {self.proc.poll()})"
        return json.loads(line)

    def ask(self, op: str, timeout: float = 30, **kw) -> dict:
        kw = {k: np.asarray(v).tolist() if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        if "vecs" in kw:
            kw["vecs"] = [np.asarray(v).tolist() for v in kw["vecs"]]
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        return self._read(timeout)

    def wait_for(self, op: str, check, timeout: float = 10, **kw) -> tuple[dict, float]:
        """Ask until ``check(answer)``; the answer and the seconds it took."""
        started = time.monotonic()
        while True:
            answer = self.ask(op, **kw)
            if check(answer):
                return answer, time.monotonic() - started
            assert time.monotonic() - started < timeout, f"{self.db.name}: still {answer} after {timeout} s"
            time.sleep(0.05)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.ask("quit", timeout=20)
            finally:
                self.proc.stdin.close()
                self.proc.wait(20)


# -- proxies ------------------------------------------------------------------------------------
class CuttableProxy:
    """127.0.0.1:port -> the server; cut() drops every connection and refuses new ones (a dead
    network), hang() drops them too but takes new ones and never answers (a server gone quiet
    behind a live address: a client waits for its connect timeout), restore() lets them through
    again."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._stopped = threading.Event()
        self._hanging = False
        self._held: list[socket.socket] = []
        self.restore()

    def url(self, dbname: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def hang(self) -> None:
        self._hanging = True
        self._drop_pairs()

    def restore(self) -> None:
        self._hanging = False
        self._drop_held()
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (close alone does not)
            listener.close()
        self._drop_pairs()
        self._drop_held()

    def _drop_pairs(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def _drop_held(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for s in held:
            s.close()

    def close(self) -> None:
        self._stopped.set()
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._hanging:
                with self._lock:
                    self._held.append(client)  # open, and silent
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=_pump, args=(client, server), daemon=True).start()
            threading.Thread(target=_pump, args=(server, client), daemon=True).start()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


class TlsProxy(threading.Thread):
    """PostgreSQL's TLS in front of a server built without it (pgserver's): answers the client's
    SSLRequest with 'S', does the TLS handshake with ``cert``/``key``, then relays plain bytes."""

    def __init__(self, target_port: int, cert: Path, key: Path) -> None:
        super().__init__(daemon=True)
        self.target = ("127.0.0.1", target_port)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.start()

    def run(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            request = client.recv(8)
            if len(request) != 8 or int.from_bytes(request[4:], "big") != 80877103:
                client.close()
                return
            client.sendall(b"S")
            tls = self.context.wrap_socket(client, server_side=True)
            server = socket.create_connection(self.target)
            threading.Thread(target=_pump, args=(server, tls), daemon=True).start()
            _pump(tls, server)
        except (OSError, ssl.SSLError):
            client.close()

    def close(self) -> None:
        self.listener.close()


def make_ca_and_cert(folder: Path, host: str) -> tuple[Path, Path, Path]:
    """A self-signed CA and a server certificate it signed for ``host`` (openssl): (ca, cert, key)."""
    folder.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=FaceGate test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    )
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={host}", "-keyout", "server.key", "-out", "server.csr")
    (folder / "ext.cnf").write_text(f"subjectAltName=DNS:{host}\n")
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    )
    return folder / "ca.pem", folder / "server.pem", folder / "server.key"


# -- doors in this process ------------------------------------------------------------------------
def grant_attempt(gallery, vec, clock=None, passage=None) -> tuple[str, str]:
    """What a door with this gallery decides when the face ``vec`` stands before it for three
    frames (its real decider, with the site's offline gate, liveness off; ``clock``: the door's
    local time, now by default; ``passage``: its anti-passback, core.site.passback): (verdict, reason)."""
    from core.door.decide import DoorDecider
    from core.door.policy import DecisionSettings
    from core.records import Box
    from core.site.gate import OfflineGate

    decider = DoorDecider(gallery, None, DecisionSettings(liveness=False), **({"clock": clock} if clock else {}))
    decider.gates.append(OfflineGate(gallery.store))
    decider.passage = passage
    frame = np.zeros((120, 120, 3), np.uint8)
    decision = None
    for i in range(3):
        m = gallery.identify_descriptor(vec)
        decision = decider.update(1, [m] * (i + 1), frame, Box(10, 10, 110, 110), float(i), vec)
    decider.close()
    assert decision is not None
    return decision.verdict, decision.reason


def admin_url(url: str) -> str:
    """The same site, as its admin login."""
    return url.replace("postgres@", "facegate_admin@", 1)


def password_file(folder: Path, password: str, name: str = "admin.pw") -> Path:
    path = folder / name
    path.touch(0o600)
    path.write_text(password + "\n")
    return path


def start_site(folder: Path, url: str, superuser_pw: Path, describer, door: str = "front"):
    """A new site at ``url`` with a gallery in ``folder`` as its first door: (gallery, config)."""
    from core.gallery.api import Gallery
    from core.site.admin import init_site
    from core.site.config import read_password_file

    folder.mkdir(parents=True, exist_ok=True)
    g = Gallery(folder / "gallery.db", describer=describer)
    joined = init_site(g.store.path, g.store, url, read_password_file(superuser_pw), door, keep_admin=True)
    return g, joined.config


def join_door(
    folder: Path,
    url: str,
    first_config,
    describer,
    door: str,
    admin: bool = False,
    open_for: str | None = "everyone",
    enrolls_into: str | None = None,
):
    """Another door joining with the admin login of the first door's PC, and (as an admin would
    say next) the group ``open_for`` may open it, its enrollments join ``enrolls_into`` (None:
    its own group): (gallery, config)."""
    from core.gallery.api import Gallery
    from core.site.admin import SiteAdmin, join_site

    folder.mkdir(parents=True, exist_ok=True)
    g = Gallery(folder / "gallery.db", describer=describer)
    joined = join_site(g.store.path, g.store, admin_url(url), first_config.admin_login.password, door, keep_admin=admin)
    with SiteAdmin.from_config(first_config) as site:
        if open_for is not None:
            site.open_door(open_for, door)
        if enrolls_into is not None:
            site.set_enroll_group(door, enrolls_into)
    return g, joined.config


def approve_all(config) -> int:
    """The admin approves every open proposal (what doors enrolled reaches the other doors)."""
    from core.site.admin import SiteAdmin

    with SiteAdmin.from_config(config) as site:
        return len([site.approve(p.id) for p in site.proposals()])
