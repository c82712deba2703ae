"""People enrolled from ONE photo each, then a labelled recording of them (and of strangers)
replayed through the door: named right / wrong / unknown per shot (prints figures; never a test).

    .venv/bin/python bench/one_photo_bench.py [--footage /work/shared/data/footage] [--out DIR]
                                              [--within N] [--part tune|held-out|all] [--json]
                                              [--learning] [--no-liveness] [--frame-probe]

The gallery (one photo each, as a site importing staff photos does):

- the GRID man (grid_a): a frame of his first clip (id2_vcd_swwp2s, frame 37); his *other*
  recording (pwij3p, another day, another sentence) is the probe: a true second capture.
- the six other GRID talkers (grid_b..g): frame 0 of their only clip, whose frames 25-74 are the
  probe: the same session, one second later (the data holds no second clip of them).
- the Silent-Face woman: her phone photo image_T1.jpg; the probe is the live part of demo.gif
  (another capture of the same session, at 150x322).
- the Microsoft Face sample families: Family1 Dad/Mom/Son/Daughter and Family2 Lady/Man from
  their first portrait; the probes are their *other* portraits and the two group photos (another
  shoot), shown to the camera as stills (labelled not live: they must never unlock).
- strangers, in no gallery: Family3's two people (portraits as stills).

The recording (640x360, 25 fps, black between segments so every visit ends) and its labels are
written to ``--out`` (default: a temporary folder), then ``facegate eval-video``'s scoring runs on
it. ``--part tune`` / ``held-out`` replays only the segments a rule was chosen on / kept aside
(GRID b, d, f, the families' second portraits and group photo 1 for tuning; the rest held out).

``--learning``: what learning mode adds to a one-photo enrollment. The recording is replayed twice
on a writable copy of the gallery with learning mode on and the access log kept: the first pass
is what a door sees on day one (and learns from its grants), the second the same people coming
back. The same faces come back, so the second pass is the most learning could add here, an upper
bound. ``--no-liveness``: the door's liveness check off (learning learns only from granted visits,
and a grant needs a liveness cue). ``--frame-probe``: each frame's descriptor identified alone,
not the track's template (core.live.tracking.Template): the rule before the template.
``--views 50,70,100`` / ``--views none``: the face widths each photo is also enrolled at
(core.gallery.photo_views; none: the photo's own sample alone, the enrollment before the views).
``--past-gates``: then, for every shot of an enrolled person the door did not name, how far its
face would be from their one photo if described past the quality gates (size, sharpness, yaw of
each face; every third frame): whether a rule over frames could name it at all.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FOOTAGE = Path("/work/shared/data/footage")
W, H, FPS, GAP = 640, 360, 25.0, 8
HELD_OUT_EVERY = 2  # segments alternate: tune, held out, tune, ...


@dataclass
class Segment:
    name: str
    frames: list[np.ndarray]  # RGB, already W x H
    shots: list[tuple[str, tuple[float, float, float, float] | None]]  # person, region (fractions) per face
    live: bool
    part: str  # tune | held-out


def fit(rgb: np.ndarray) -> tuple[np.ndarray, float, int, int]:
    """``rgb`` scaled into W x H (letterboxed): the frame, the scale and the offsets."""
    h, w = rgb.shape[:2]
    s = min(W / w, H / h)
    small = cv2.resize(rgb, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)
    out = np.zeros((H, W, 3), np.uint8)
    x, y = (W - small.shape[1]) // 2, (H - small.shape[0]) // 2
    out[y : y + small.shape[0], x : x + small.shape[1]] = small
    return out, s, x, y


def video_frames(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def still(path: Path, n: int = 30) -> list[np.ndarray]:
    from core.vision.images import load_image

    return [fit(load_image(path))[0]] * n


def regions(path: Path, names: list[str], describer) -> list[tuple[str, tuple[float, float, float, float] | None]]:
    """The faces of a group photo, left to right, as regions of the fitted frame, named ``names``."""
    from core.vision.detection import Detector
    from core.vision.images import load_image

    rgb = load_image(path)
    boxes = sorted(Detector("yunet", 20).find(rgb), key=lambda d: d.box.left)
    if len(boxes) != len(names):
        raise SystemExit(f"{path.name}: {len(boxes)} faces found, {len(names)} names given")
    _, s, x, y = fit(rgb)
    out = []
    for d, name in zip(boxes, names, strict=True):
        b = d.box.padded(int(d.box.width * 0.1), int(d.box.height * 0.1))  # face centres never in two regions
        out.append(
            (
                name,
                (
                    max(0.0, (b.left * s + x) / W),
                    max(0.0, (b.top * s + y) / H),
                    min(1.0, (b.right * s + x) / W),
                    min(1.0, (b.bottom * s + y) / H),
                ),
            )
        )
    return out


GRID = {"grid_b": "bbaf2n", "grid_c": "brbk7n", "grid_d": "lbax4n", "grid_e": "lwbsza", "grid_f": "swiz3n", "grid_g": "sbwe5n"}
MS = {
    "family1_dad": "Family1-Dad",
    "family1_mom": "Family1-Mom",
    "family1_son": "Family1-Son",
    "family1_daughter": "Family1-Daughter",
    "family2_lady": "Family2-Lady",
    "family2_man": "Family2-Man",
}


def enrollment(footage: Path) -> dict[str, np.ndarray | Path]:
    """Who is enrolled, from which one picture."""
    photos: dict[str, np.ndarray | Path] = {"grid_a": video_frames(footage / "grid-talkers" / "id2_vcd_swwp2s.mpg")[37]}
    for name, clip in GRID.items():
        photos[name] = video_frames(footage / "grid-talkers" / f"{clip}.mpg")[0]
    photos["pad_woman"] = footage / "silent-face-pad" / "image_T1.jpg"
    for name, stem in MS.items():
        photos[name] = footage / "ms-face-stills" / f"{stem}1.jpg"
    return photos


def segments(footage: Path, describer) -> list[Segment]:
    grid = footage / "grid-talkers"
    ms = footage / "ms-face-stills"
    out = [Segment("grid_a other clip", [fit(f)[0] for f in video_frames(grid / "pwij3p.mpg")], [("grid_a", None)], True, "")]
    for name, clip in GRID.items():
        out.append(
            Segment(f"{name} 1 s later", [fit(f)[0] for f in video_frames(grid / f"{clip}.mpg")[25:]], [(name, None)], True, "")
        )
    out.append(
        Segment(
            "pad_woman live",
            [fit(f)[0] for f in video_frames(footage / "silent-face-pad" / "demo.gif")[:33]],
            [("pad_woman", None)],
            True,
            "",
        )
    )
    for name, stem in MS.items():
        second = ms / f"{stem}2.jpg"
        out.append(Segment(f"{name} second portrait", still(second), [(name, None)], False, ""))
    out.append(
        Segment(
            "family1 group photo",
            still(ms / "identification1.jpg"),
            regions(ms / "identification1.jpg", ["family1_son", "family1_dad", "family1_mom", "family1_daughter"], describer),
            False,
            "",
        )
    )
    out.append(
        Segment(
            "family2 group photo",
            still(ms / "test-image-person-group.jpg"),
            regions(ms / "test-image-person-group.jpg", ["family2_man", "family2_lady"], describer),
            False,
            "",
        )
    )
    for stem in ("Family3-Lady1", "Family3-Man1"):
        out.append(
            Segment(
                f"stranger {stem}", still(ms / f"{stem}.jpg"), [("family3_" + stem.split("-")[1][:-1].lower(), None)], False, ""
            )
        )
    for i, seg in enumerate(out):
        seg.part = "tune" if i % HELD_OUT_EVERY == 0 else "held-out"
    return out


VIEWS_HELP = "face widths each photo is also enrolled at, e.g. 50,70,100 (default: enroll-folder's; none: the photo alone)"


def views_arg(text: str) -> tuple[int, ...]:
    """``--views``: "50,70,100" or "none"."""
    return () if text == "none" else tuple(int(v) for v in text.split(","))


def write(segs: list[Segment], folder: Path) -> tuple[Path, Path]:
    """The recording and its label CSV."""
    from core.tools.attacks import write_video

    frames: list[np.ndarray] = []
    rows = ["first,last,person,left,top,right,bottom,live"]
    black = np.zeros((H, W, 3), np.uint8)
    for seg in segs:
        frames += [black] * GAP
        first, last = len(frames), len(frames) + len(seg.frames) - 1
        frames += seg.frames
        for person, region in seg.shots:
            corners = ",".join(f"{v:.3f}" for v in region) if region else ",,,"
            rows.append(f"{first},{last},{person},{corners},{'yes' if seg.live else 'no'}")
    frames += [black] * GAP
    video = write_video(frames, folder / "one_photo.mp4", fps=FPS)
    labels = folder / "one_photo.csv"
    labels.write_text("# who is where in one_photo.mp4 (bench/one_photo_bench.py)\n" + "\n".join(rows) + "\n")
    return video, labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--footage", type=Path, default=FOOTAGE)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--part", choices=("tune", "held-out", "all"), default="all")
    ap.add_argument(
        "--within",
        type=int,
        default=None,
        help="the door's consensus window (default: DecisionSettings'; 3 = the old rule, 3 in a row)",
    )
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--learning", action="store_true", help="replay twice with learning mode on: what it adds")
    ap.add_argument("--no-liveness", action="store_true", help="the door's liveness check off")
    ap.add_argument("--frame-probe", action="store_true", help="identify each frame alone, not the track's template")
    ap.add_argument("--past-gates", action="store_true", help="the missed shots' distances, described past the gates")
    ap.add_argument("--views", type=views_arg, default=None, help=VIEWS_HELP)
    args = ap.parse_args()

    from core.door.policy import DecisionSettings
    from core.gallery.api import Gallery
    from core.gallery.photo_views import VIEW_WIDTHS
    from core.live.loop import LiveSettings
    from core.live.worker import InlineWorker
    from core.station.eval_video import eval_video
    from core.vision.describe import Describer

    live = LiveSettings(track_template=not args.frame_probe)
    describer = Describer()
    out = args.out or Path(tempfile.mkdtemp(prefix="one_photo_"))
    out.mkdir(parents=True, exist_ok=True)
    segs = [s for s in segments(args.footage, describer) if args.part in ("all", s.part)]
    video, labels = write(segs, out)
    db = out / "one_photo.db"
    if not db.exists():
        with Gallery(db, describer=describer) as g:
            for name, photo in enrollment(args.footage).items():
                g.enroll(name, [photo], views=VIEW_WIDTHS if args.views is None else args.views)
    decision = DecisionSettings(liveness=not args.no_liveness)
    if args.within is not None:
        decision.within = args.within
    if args.learning:
        learn(video, labels, db, describer, decision)
        return
    with Gallery(db, describer=describer, readonly=True) as g:
        result = eval_video(video, labels, g, live=live, decision=decision, worker=InlineWorker(describer))
    print(json.dumps(result.as_dict()) if args.json else result.text())
    print(f"\n(recording and labels in {out}; segments: {', '.join(s.name + ' [' + s.part + ']' for s in segs)})")
    if args.past_gates:
        missed = [r for r in result.shots if r.expected and r.outcome != "right"]
        past_gates(video, missed, db, describer)


def past_gates(video: Path, missed: list, db: Path, describer) -> None:  # type: ignore[no-untyped-def]
    """Each missed shot's face, in the recording as the door read it, described whatever the gates
    say: its distance to its one photo."""
    from core.gallery.api import Gallery
    from core.live.loop import LiveSettings
    from core.vision.detection import Detector
    from core.vision.quality import measure

    detector = Detector("yunet", LiveSettings.min_face)  # boxes as the live loop finds them
    frames = video_frames(video)
    print("\nmissed shots described past the quality gates (every third frame of the recording):")
    with Gallery(db, describer=describer, readonly=True) as g:
        for shot in missed:
            first, last = (int(v) for v in shot.shot.split()[0].split("-"))
            region = None  # a shot sharing the picture names its region, e.g. "in (0.28, 0.29, 0.39, 0.46)"
            if " in (" in shot.shot:
                region = tuple(float(v) for v in shot.shot.split(" in (")[1].split(")")[0].split(","))
            rows = []
            for rgb in frames[first : last + 1 : 3]:
                faces = detector.find(rgb)
                if region is not None:
                    faces = [
                        f
                        for f in faces
                        if region[0] <= f.box.center[0] / W <= region[2] and region[1] <= f.box.center[1] / H <= region[3]
                    ]
                if not faces:
                    continue
                face = max(faces, key=lambda f: f.box.width)
                chip, points = describer.chip(rgb, face.box)
                q = measure(chip, face.box, face, points)
                match = g.identify_descriptor(describer.descriptor_from_chip(chip), 0.4, 0.05)
                own = next((c.distance for c in match.candidates if c.name == shot.expected), None)
                if own is not None:
                    rows.append((own, q.size, q.sharpness, q.yaw))
            if not rows:
                print(f"   {shot.shot}: no face found")
                continue
            d = np.array(rows)
            print(
                f"   {shot.shot}: {len(d)} frames, from their one photo {d[:, 0].min():.3f}-{d[:, 0].max():.3f} "
                f"(median {np.median(d[:, 0]):.3f}); {d[:, 1].min():.0f}-{d[:, 1].max():.0f} px, sharpness "
                f"{np.median(d[:, 2]):.0f}, yaw {np.median(d[:, 3]):.0f} (medians)"
            )


def learn(video: Path, labels: Path, db: Path, describer, decision) -> None:  # type: ignore[no-untyped-def]
    """Two passes with learning mode on (a copy of the gallery): day one, then the same people again."""
    import shutil

    from core.door.review import ReviewSettings
    from core.gallery.api import Gallery
    from core.live.worker import InlineWorker
    from core.station.eval_video import eval_video

    copy = db.with_name("learning.db")
    for suffix in ("", "-wal", "-shm", ".hnsw", ".hnsw.stamp.json"):
        if db.with_name(db.name + suffix).exists():
            shutil.copy(db.with_name(db.name + suffix), copy.with_name(copy.name + suffix))
    with Gallery(copy, describer=describer) as g:
        ReviewSettings(learning=True).save(g.store)
        for day in (1, 2):
            result = eval_video(video, labels, g, decision=decision, worker=InlineWorker(describer), log=True)
            learned = g.store.read(
                "SELECT p.name, count(*) FROM samples s JOIN people p ON p.id = s.person_id WHERE s.source LIKE 'learned%' GROUP BY p.name"
            )
            print(f"== pass {day} (learning on, liveness {'on' if decision.liveness else 'off'})")
            print(result.text().splitlines()[-1])
            print(
                f"   samples learned so far: {sum(n for _, n in learned)} ({', '.join(f'{p} {n}' for p, n in learned) or 'none'})"
            )
            missed = [r.line() for r in result.shots if r.expected and r.outcome != "right"]
            print("   missed: " + ("\n           ".join(missed) if missed else "none"))


if __name__ == "__main__":
    main()
