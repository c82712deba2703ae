"""The door decisions' figures (prints them; never a timed test).

    .venv/bin/python bench/door_bench.py [--runs 5]

1. The clip, with Lin-Manuel enrolled from his own frames (live enrollment, as at a door): the
   frame at which he is granted, how long after his face appears, why, and how many pulses the
   door got; when the unknown person is logged.
2. Liveness cues: the nose parallax and bump and the deepest eye closing, for Lin-Manuel in the
   clip, for the unknown person, and for a video of one still photo (bench/attack_bench.py
   measures them on generated attacks).
3. Costs on the frame thread: DoorDecider.update for a candidate face (with the 68-point landmarks)
   and for a settled one; an access-log entry (snapshot + descriptor + SQLite commit).
4. The door: unlock() to the relay's ON bytes through the guard process on a pseudo-terminal,
   and SIGKILL of the app during a pulse to the relay's OFF bytes. Medians of --runs.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tty
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "core" / "door"))  # test_decide: the clip helpers the tests use
CLIP = ROOT / "tests" / "data" / "video" / "short_hamilton_clip.mp4"
PHOTO = ROOT / "tests" / "data" / "images" / "obama.jpg"


def enrolled_gallery(tmp: Path):
    from test_decide import enroll_from_clip

    from core.gallery.api import Gallery

    g = Gallery(tmp / "door.db")
    enroll_from_clip(g)
    return g


def clip_decisions(g) -> None:
    from test_decide import frames

    from core.door.decide import DoorDecider
    from core.door.drivers import SimulatedDoor
    from core.door.verdict import Verdict
    from core.live.loop import LiveRecognizer
    from core.live.worker import InlineWorker

    door = SimulatedDoor(pulse_seconds=0.2, cooldown_seconds=0.5)
    decider = DoorDecider(g, door)
    rec = LiveRecognizer(g, descriptor_worker=InlineWorker(g.describer), decider=decider)
    granted = unknown = None
    for i, ts, rgb in frames(CLIP):
        for view in rec.process(rgb, ts).tracks:
            d = view.decision
            if d is None:  # a face that failed the quality gates is not judged
                continue
            if d.verdict == Verdict.GRANTED and granted is None:
                granted = (i, d)
            if d.verdict == Verdict.UNKNOWN and view.box.right < 160 and i >= 211 and unknown is None:
                unknown = i
    rec.close()
    time.sleep(0.5)
    door.close()
    i, d = granted
    print(
        f"clip: Lin-Manuel granted at frame {i} ({(i - 82) / 29.97:.2f} s after his face appears at frame 82); "
        f"door pulses: {door.pulses}"
    )
    print(f"      reason: {d.reason}")
    print(f"      the unknown person logged Unknown at frame {unknown} (appears at 211)")


def cue_spread(label: str, video, describer, stop=None) -> None:
    """What the liveness check makes of the largest face of a video (60 px or more): its best
    nose parallax and bump against the first frame, its noise, the deepest two-frame eye
    closing, and whether (and why) it passed."""
    import numpy as np
    from test_decide import frames

    from core.vision.detection import Detector
    from core.vision.liveness import LivenessCheck, LivenessSettings, rectified, rectified_ears, turn_evidence

    detector = Detector("haar+hog", 40)
    need = LivenessSettings()
    check = LivenessCheck(describer, need)
    points, result = [], None
    for _, ts, rgb in frames(video, stop=stop):
        boxes = [b for b in detector.detect(rgb) if b.width >= need.min_face]
        if boxes:
            box = max(boxes, key=lambda b: b.area)
            shape = describer.landmarks(rgb, box, 68)
            points.append(np.array([(p.x, p.y) for p in shape.parts()], float))
            result = check.observe_points(points[-1], ts)
    if len(points) < 3:
        print(f"{label}: no face of {need.min_face} px or more")
        return
    from core.vision.liveness import halves

    sides = halves(points[0])
    turns = [t for t in (turn_evidence(points[0], a, b, sides) for a, b in zip(points, points[1:], strict=False)) if t]
    ears = np.array([rectified_ears(rectified(points[0], p)) for p in points])
    rel = (ears / np.percentile(ears, 80, axis=0)).max(axis=1)
    print(
        f"{label}: {len(points)} faces; best nose parallax {max(t.parallax for t in turns):.2f} (needs {need.parallax}), "
        f"best bump {max(t.bump for t in turns):.2f} (needs {need.bump}), noise {np.median([t.noise for t in turns]):.3f}; "
        f"deepest two-frame eye closing {np.maximum(rel[:-1], rel[1:]).min():.2f} of open (a blink is under "
        f"{need.blink_ratio}); {'PASSED: ' if result.passed else 'not passed: '}{result.reason}"
    )


def photo_video(path: Path) -> Path:
    from test_decide import _still_photo_video

    return _still_photo_video(path, PHOTO, seconds=4.0, blank=0)


def costs(g, runs: int) -> None:
    from test_decide import frames

    from core.door.decide import DoorDecider
    from core.door.policy import DecisionSettings
    from core.vision.detection import Detector

    rgb = next(r for i, _, r in frames(CLIP, start=100, stop=101))
    box = Detector("haar+hog", 40).detect(rgb)[0]
    face = g.describer.describe(rgb, box)
    match = g.identify_descriptor(face.descriptor)
    candidate, settled = [], []
    for run in range(runs * 20):
        decider = DoorDecider(g, None, DecisionSettings(agree=50, within=50))  # never agrees: a candidate every frame
        t = time.perf_counter()
        decider.update(1, [match], rgb, box, run)
        candidate.append((time.perf_counter() - t) * 1000)
        done = DoorDecider(g, None, DecisionSettings(liveness=False))
        for k in range(3):
            done.update(2, [match] * (k + 1), rgb, box, k)  # granted and final
        t = time.perf_counter()
        done.update(2, [match] * 4, rgb, box, 4)
        settled.append((time.perf_counter() - t) * 1000)
        done.close()
    logging, written = [], []
    for run in range(runs * 4):
        decider = DoorDecider(g, None, DecisionSettings(liveness=False))
        for k in range(2):
            decider.update(run, [match] * (k + 1), rgb, box, k)
        t = time.perf_counter()
        decider.update(run, [match] * 3, rgb, box, 3)  # granted: logged with the face
        logging.append((time.perf_counter() - t) * 1000)
        decider.flush()
        written.append((time.perf_counter() - t) * 1000)
        decider.close()
    print(
        f"frame thread: DoorDecider.update for a candidate face {statistics.median(candidate):.2f} ms "
        f"(68 landmarks included), for a settled face {statistics.median(settled):.3f} ms, for the frame "
        f"that logs a decision {statistics.median(logging):.2f} ms; the writer thread's access-log entry "
        f"(snapshot, descriptor, commit) {statistics.median(written):.1f} ms - medians of {len(candidate)}/{len(logging)}"
    )


def door_latency(runs: int) -> None:
    from core.door import make_door
    from core.door.base import LCUS_OFF, LCUS_ON, DoorSettings, hex_bytes

    on, off = hex_bytes(LCUS_ON), hex_bytes(LCUS_OFF)

    def wait_bytes(master: int, want: bytes, timeout: float = 10.0) -> float:
        got, deadline = b"", time.monotonic() + timeout
        while not got.endswith(want) and time.monotonic() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                got += os.read(master, 1024)
        return time.perf_counter()

    unlock, killed, starts = [], [], []
    for _ in range(runs):
        master, slave = os.openpty()
        tty.setraw(slave)
        port = os.ttyname(slave)
        t = time.perf_counter()
        door = make_door(DoorSettings(driver="serial", serial_port=port, pulse_seconds=0.2))
        starts.append((wait_bytes(master, off) - t) * 1000)
        t = time.perf_counter()
        door.unlock()
        unlock.append((wait_bytes(master, on) - t) * 1000)
        wait_bytes(master, off)
        door.close()
        app = subprocess.Popen(
            [
                sys.executable,
                "-c",
                (
                    "import time\nfrom core.door import DoorSettings, make_door\n"
                    f"d = make_door(DoorSettings(driver='serial', serial_port={port!r}, pulse_seconds=60))\n"
                    "d.unlock()\nwhile d.status().state != 'open': time.sleep(0.005)\nprint('open', flush=True)\n"
                    "time.sleep(120)\n"
                ),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        app.stdout.readline()
        time.sleep(0.2)
        os.read(master, 4096)
        t = time.perf_counter()
        app.send_signal(signal.SIGKILL)
        killed.append((wait_bytes(master, off) - t) * 1000)
        app.wait()
        os.close(master)
        os.close(slave)
    print(
        f"door (serial relay through the guard, pty): guard start to OFF {statistics.median(starts):.0f} ms, "
        f"unlock() to ON {statistics.median(unlock):.1f} ms, SIGKILL of the app to OFF "
        f"{statistics.median(killed):.1f} ms - medians of {runs}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        g = enrolled_gallery(tmp)
        clip_decisions(g)
        cue_spread("liveness, Lin-Manuel (clip frames 82-210)", CLIP, g.describer, stop=211)
        cue_spread("liveness, the unknown person (frames 211-248)", _only(CLIP, 211, 249, tmp), g.describer)
        cue_spread("liveness, one still photo for 4 s", photo_video(tmp / "photo.mp4"), g.describer)
        costs(g, args.runs)
        g.close()
    door_latency(args.runs)


def _only(video: Path, start: int, stop: int, tmp: Path) -> Path:
    """The frames [start, stop) of a video as a video of their own."""
    import cv2
    from test_decide import frames

    out = tmp / f"part-{start}.mp4"
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 29.97, (640, 360))
    for _, _, rgb in frames(video, start, stop):
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return out


if __name__ == "__main__":
    main()
