"""Presentation attack detection figures in ISO/IEC 30107-3 terms (prints them; never a timed test).

    .venv/bin/python bench/attack_bench.py [--seeds 20] [--frames 120] [--cameras 10] [--first-seed 0] [--first-camera 0]
                                           [--no-new-looks] [--screen-check required [advisory ...]]
                                           [--only texture|replays|attacks|drift|edges|room|talkers] [--replays KIND ...] [--each]
                                           [--room-first N]

The door (live loop + Decider + simulated door, as the window runs them) with a gallery of the
knn_examples people (enrolled from their photos) and Lin-Manuel (enrolled live from the clip,
across poses, as an operator does by pressing E when his face first appears):

- **APCER per attack kind**: the share of attack presentations (core.tools.attacks: a still
  frame, a hand-held print, a curved sheet, a sheet folded down the nose line, a phone screen;
  ``--seeds`` variants each, ``--frames`` frames long, of the shared photos and clip frames) that
  unlock the door. Many never get that far (the picture is not recognised within 0.4), so the
  liveness check alone is also fed every frame of every attack: *liveness APCER*, and of those
  how many passed by talking (the lips' cue).
- **BPCER**: the share of genuine visits that never unlock: Lin-Manuel's shots in the clip, as
  recorded and through ``--cameras`` simulated door cameras (blur, noise, exposure, JPEG), at a
  door that enrolled him through its own camera (another take of it: its own sensor noise), and
  at a door whose gallery came from elsewhere (enrolled on the recording: a site's other door).
  Also counted: visits the liveness check never passed, as the door feeds it (only frames that
  pass the quality gates: a blurred frame or a head turned far is not judged) and, like the
  attacks' *liveness APCER*, the check alone fed every frame of the visit. His 50 px shot is too
  small to judge (the door asks him to come closer) and is counted apart.
- ``--first-seed`` / ``--first-camera``: start the attack seeds / simulated cameras there, to check
  thresholds on variants they were not chosen on.
- **Frames to name** per shot of his (from the shot's first HOG-detectable frame), whether the
  clip's stranger was ever named or let in, and how near his samples other people's faces come
  (the clip's audience and stranger, the shared photos: open-set false accepts).
- **Cost** of the liveness check per frame (68 landmarks + the judgement; the judgement alone).
- **The screen and print check** (core.vision.texture), with the door's ``--screen-check`` (default
  required): per attack kind, how many presentations its texture verdict took for a live face;
  screen replays of the clip and the GRID talkers (core.tools.attacks.replay_attack) beside the
  pictures (``--replays`` picks the kinds: phone, monitor, stand, fill; ``--each`` prints every
  presentation's cues; with several ``--screen-check`` values each replay is played at a door
  with each); BPCER on every genuine video of the shared data (the GRID talkers, enrolled from
  one frame, through the door; the check alone on every other video: the clip, the film, the
  selfie and webcam GIFs); the real attacks (Silent-Face's photographed print and phone, and the
  phone and print of its GIF); the geometric cue (core.vision.surround) on the same; the model's
  cost per face. ``--only texture`` runs this part alone.
- ``--only edges``: the screen's own edges around a face (``enclosure``), a cue measured for the
  calmly held monitors and not used by the door (docs/liveness.md says why), on the screen replays
  of ``--first-seed``/``--seeds`` and every genuine video of the shared data.
- ``--only room``: the door's empty room still in view around a face (core.vision.room), on the
  screen replays of ``--first-seed``/``--seeds`` in front of face-free film frames and every
  genuine video of the shared data; ``--room-first N`` plays the screen replays at the door after
  N frames of that empty room, as a door sees its room before anyone comes. Its genuine side at
  the door (the GRID talkers in front of their wall seen empty, and standing in front of the film's
  rooms with a body under the face) also runs alone, ``--only talkers``.
- ``--only drift``: the ring's drift over a visit (``ring_drift``), a cue measured for the calmly
  held monitors the surroundings miss and not used by the door (docs/liveness.md says why), on
  the screen replays of ``--first-seed``/``--seeds`` and every genuine video of the shared data.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LIN = "Lin-Manuel"
LIN_SHOTS = ((2, 20), (82, 116), (120, 211))  # [first, stop) where HOG finds him (tests/data/README.md)
STRANGER = range(211, 249)  # his track starts as Lin-Manuel's last frames end
FPS = 30.0
PASSED = ("turned", "blinked", "talked")  # how the liveness check's passing reasons start
SCREEN_CHECK = "required"  # the door's screen and print check (--screen-check)
CAMERAS_FOR_TEXTURE = 10  # simulated door cameras the clip goes through for the texture
SHARED = ROOT.parent / "shared" / "data"
FOOTAGE = SHARED / "footage"
#: the Silent-Face GIF's segments (SOURCE.txt): a live woman, then a phone, then a print
GIF_SEGMENTS = {"live": range(0, 33), "phone": range(38, 62), "print": range(67, 88)}
#: GRID's man A is enrolled from his other clip; everyone else from the first frame of their own
GRID_PEOPLE = {"A": "pwij3p", "B": "bbaf2n", "C": "brbk7n", "D": "lbax4n", "E": "lwbsza", "F": "swiz3n", "G": "sbwe5n"}


def enroll_lin(gallery, clip, click: int | None = None, new_looks: bool = True) -> str:
    """Enroll Lin-Manuel through the live loop's pose enrollment; ``click`` None: at the first
    frame of his big shots with one face of 70 px or more (an operator pressing E on him), and
    again at the next such frame if an enrollment fails (the operator trying again). Without
    ``new_looks``, only the poses' own samples are taken (LiveSettings.enroll_max 0)."""
    from core.live.loop import LiveRecognizer, LiveSettings
    from core.live.worker import InlineWorker

    settings = LiveSettings() if new_looks else LiveSettings(enroll_max=0)
    rec = LiveRecognizer(gallery, settings, descriptor_worker=InlineWorker(gallery.describer))
    said, started, failed = "", None, []
    try:
        for i, rgb in enumerate(clip):
            result = rec.process(rgb, i / FPS)
            said = next((e for e in result.events if e.startswith("enrolled")), said)
            if result.enrollment and result.enrollment.done:
                return f"{said} (enrollment started at frame {started}" + (f"; failed before: {failed})" if failed else ")")
            if result.enrollment and result.enrollment.error:
                failed.append(f"from frame {started}: {result.enrollment.error}")
                started = None
            big = len(result.tracks) == 1 and result.tracks[0].box.width >= 70 and i >= LIN_SHOTS[1][0]
            if started is None and (i == click or click is None and big):
                rec.start_enrollment(result.tracks[0].id, LIN)
                started = i
    finally:
        rec.close()
    return said or f"not enrolled: {'; '.join(failed) or 'never started'}"


def play(gallery, frames, faces=None, check: str | None = None) -> dict:
    """The door's view of a video: per track, its first frame, boxes' frames, whether it was named
    Lin-Manuel and when, and whether it unlocked. With ``faces`` (where the attack's picture is on
    each frame), also the liveness check alone on the track that follows that picture, whoever
    the recognizer thinks it is (the backgrounds hold faces of their own); without, the liveness
    check alone on every track (its "alone": the cue that passed, or ""). ``check``: the door's
    screen and print check (default ``--screen-check``'s first)."""
    from core.door.decide import DoorDecider
    from core.door.drivers import SimulatedDoor
    from core.door.policy import DecisionSettings
    from core.live.loop import LiveRecognizer
    from core.live.worker import InlineWorker
    from core.station.wiring import KeptLog
    from core.vision.liveness import LivenessCheck

    settings = DecisionSettings(screen_check=check or SCREEN_CHECK)
    door = SimulatedDoor(0.05, 0.0)
    decider = DoorDecider(gallery, door, settings, access_log=KeptLog(), keep_faces=False, inline_texture=True)
    rec = LiveRecognizer(gallery, descriptor_worker=InlineWorker(gallery.describer), decider=decider)
    alone = LivenessCheck(gallery.describer, settings.liveness_settings())
    per_track: dict[int, LivenessCheck] = {}
    tracks: dict[int, dict] = {}
    passed_alone = None
    try:
        for i, rgb in enumerate(frames):
            result = rec.process(rgb, i / FPS)
            for view in result.tracks:
                t = tracks.setdefault(
                    view.id,
                    {
                        "first": i,
                        "frames": [],
                        "named": None,
                        "unlocked": None,
                        "verdict": "",
                        "cue": "",
                        "lin": [],
                        "alone": "",
                        "texture": "",
                        "surround": "",
                        "steady": False,
                        "granted": "",
                    },
                )
                t["frames"].append(i)
                if view.label == LIN:
                    t["lin"].append(i)
                    if t["named"] is None:
                        t["named"] = i
                d = view.decision
                if d is not None:
                    t["verdict"] = d.verdict
                    if not t["cue"].startswith(PASSED):  # a cut restarts the visit on the same track: keep its cue
                        t["cue"] = d.liveness or t["cue"]
                    if d.door == "unlocking" and t["unlocked"] is None:
                        t["unlocked"] = i
                        t["granted"] = d.liveness or ""  # every cue's word at the grant
                    said = d.liveness or ""
                    t["texture"] = "real" if "a live face" in said else "spoof" if "a screen or" in said else t["texture"]
                    around = "picture" if "inside a still room" in said else "still" if "still around" in said else "no say"
                    t["surround"] = around if "surroundings:" in said else t["surround"]
                    t["steady"] = t["steady"] or "held steady" in said  # judged in a noisy room (core.vision.surround)
                    t["covered"] = t.get("covered") or "room: the view is covered" in said  # core.vision.room
                    t["bodiless"] = t.get("bodiless") or "no body under the face" in said
                    t["framed"] = t.get("framed") or "hidden beside the head" in said
                    t["close"] = t.get("close") or "on both sides, close to it" in said
                if faces is None and not t["alone"] and view.box.width >= settings.liveness_min_face:
                    check = per_track.setdefault(view.id, LivenessCheck(gallery.describer, settings.liveness_settings()))
                    alive = _observe(gallery, check, rgb, view.box, i / FPS)
                    t["alone"] = alive.reason if alive.passed else ""
            judged = [
                v.box
                for v in result.tracks
                if v.box.width >= settings.liveness_min_face and faces is not None and v.box.iou(faces[i]) > 0.3
            ]
            if judged and passed_alone is None:
                r = _observe(gallery, alone, rgb, max(judged, key=lambda b: b.iou(faces[i])), i / FPS)
                if r.passed:
                    passed_alone = r.reason
    finally:
        rec.close()
        decider.close()
        door.close()
    return {"tracks": tracks, "liveness": passed_alone}


def _observe(gallery, check, rgb, box, timestamp: float):
    """Feed ``check`` the 68 landmarks of ``box`` (on any frame: quality gates and verdicts aside)."""
    import numpy as np

    shape = gallery.describer.landmarks(rgb, box, 68)
    return check.observe_points(np.array([(p.x, p.y) for p in shape.parts()], float), timestamp)


def genuine(gallery_for, clip, cameras: range) -> tuple[list, list]:
    """(judged visits, small-face visits): (recording, track info) of each of Lin-Manuel's visits,
    as recorded and through each of ``cameras``; ``gallery_for(camera)`` is the gallery the door
    has when its camera is that one (None: the recording's own)."""
    import numpy as np

    from core.tools.attacks import KINDS, Camera, through_camera

    recordings = [("clip", None, lambda: clip), ("his second shot alone", None, lambda: clip[120:213])]
    for seed in cameras:  # drawn one at a time: held at once, --cameras 10 took 2.5 GB
        blur = f"blur {Camera.draw(np.random.default_rng([len(KINDS), seed]), moving=True).blur:.1f} px"
        recordings.append((f"clip, camera {seed} ({blur})", seed, lambda seed=seed: list(through_camera(clip, seed))))
        recordings.append(
            (f"second shot, camera {seed} ({blur})", seed, lambda seed=seed: list(through_camera(clip[120:213], seed)))
        )
    judged, small = [], []
    for name, seed, frames in recordings:
        offset = 120 if name.startswith(("his second", "second")) else 0
        for t in play(gallery_for(seed), frames())["tracks"].values():
            first = t["first"] + offset
            if not any(a <= first < b for a, b in LIN_SHOTS) or len(t["frames"]) < 5:
                continue
            t["first"] = first
            (small if first < 82 else judged).append((name, t))
    return judged, small


def report(title: str, judged: list, small: list) -> None:
    rejected = [(n, t) for n, t in judged if t["unlocked"] is None]
    not_alive = [(n, t) for n, t in judged if not t["cue"].startswith(PASSED)]
    alone = [(n, t) for n, t in judged if not t["alone"]]
    n = max(1, len(judged))
    print(
        f"\n{title}: BPCER {len(rejected) / n:.1%} ({len(rejected)} of {len(judged)} genuine visits never unlocked); "
        f"the liveness check as the door feeds it (only frames that pass the quality gates) never passed "
        f"{len(not_alive) / n:.1%} ({len(not_alive)}), the check alone, fed every frame of the visit, "
        f"{len(alone) / n:.1%} ({len(alone)}); his 50 px shot: {len(small)} visits, unlocked "
        f"{sum(t['unlocked'] is not None for _, t in small)} (too small to judge: asked to come closer)"
    )
    for name, t in judged:
        print(
            f"  {name}: track from frame {t['first']}: "
            + (
                f"unlocked at frame {t['unlocked']}, {t['cue']}"
                if t["unlocked"] is not None
                else f"never ({t['verdict']}: {t['cue']})"
            )
            + f"; alone: {t['alone'] or 'never passed'}"
        )


def strangers_near(gallery, clip) -> str:
    """How near Lin-Manuel's samples the faces of other people come: the clip's audience and
    stranger (frames 20-81, 211-274) and every shared photo but his own (open-set false accepts)."""
    import numpy as np

    from core.vision.detection import Detector
    from core.vision.images import load_image
    from tests.support.data import IMAGES, KNN

    detector, describer = Detector("yunet", 40), gallery.describer
    pictures = [clip[i] for i in (*range(20, 82), *range(211, len(clip)))]
    pictures += [
        load_image(p)
        for p in sorted((*KNN.rglob("*.jpg"), *IMAGES.glob("*.jpg"), *IMAGES.glob("*.png")))
        if "miranda" not in p.name
    ]
    samples = np.array([s.descriptor for s in gallery.store.samples(LIN)])
    nearest = sorted(
        float(np.linalg.norm(samples - describer.descriptor_from_chip(describer.chip(rgb, f.box)[0]), axis=1).min())
        for rgb in pictures
        for f in detector.find(rgb)
    )
    from core.door.policy import DecisionSettings

    threshold = DecisionSettings().threshold
    return (
        f"other people's faces near his {len(samples)} samples: {len(nearest)} faces, nearest "
        f"{', '.join(f'{d:.3f}' for d in nearest[:3])}; within {threshold}: {sum(d <= threshold for d in nearest)}"
    )


def frames_to_name(gallery, clip) -> list[str]:
    tracks = play(gallery, clip)["tracks"].values()
    out = []
    for a, b in LIN_SHOTS:
        named = [f for t in tracks for f in t["lin"] if a <= f < b]
        seen = [f for t in tracks for f in t["frames"] if a <= f < b]
        first_named = min(named) if named else None
        out.append(
            f"shot {a}-{b - 1}: "
            + (
                "never named"
                if first_named is None
                else f"named {first_named - a} frames after it appears (boxed from frame {min(seen)})"
            )
        )
    stranger = [t for t in tracks if t["first"] in STRANGER]
    out.append(
        "stranger: "
        + ", ".join(
            f"track from frame {t['first']}: named {'never' if t['named'] is None else t['named']}, "
            f"unlocked {'never' if t['unlocked'] is None else t['unlocked']}"
            for t in stranger
        )
    )
    return out


def attacks(gallery, clip, seeds: range, frames: int) -> None:
    from core.tools.attacks import KINDS, attack
    from tests.support.presentations import attack_photos, background

    photos = attack_photos(gallery.describer, clip)
    print(
        f"\n{'attack kind':<8} {'APCER':>12} {'reached liveness':>17} {'liveness APCER':>15} {'of it talked':>12} "
        f"{'texture: live':>14}   "
        f"(of {len(seeds)} presentations, seeds {seeds.start}-{seeds.stop - 1}, {frames} frames each, {len(photos)} "
        f"pictures; screen and print check {SCREEN_CHECK}; screen replays below)"
    )
    for kind in KINDS:
        unlocked, reached, alive, talked, live_texture, bends = 0, 0, 0, 0, 0, []
        for seed in seeds:
            shown, it = attack(kind, photos[seed % len(photos)], background(clip, seed), seed, frames)
            drawn = list(it)
            result = play(gallery, [f.rgb for f in drawn], faces=[f.face for f in drawn])
            tracks = result["tracks"].values()
            if any(t["unlocked"] is not None for t in tracks):
                unlocked += 1
                bends.append(f"seed {seed} ({shown.source}, {shown.bend})")
            reached += any(t["verdict"] in ("Checking liveness", "Granted", "No liveness") for t in tracks)
            live_texture += any(t["texture"] == "real" for t in tracks)
            if result["liveness"]:
                alive += 1
                talked += result["liveness"].startswith("talked")
                bends.append(f"liveness alone passed seed {seed} ({shown.source}, {shown.bend}): {result['liveness']}")
        n = max(1, len(seeds))
        print(
            f"{kind:<8} {unlocked / n:>8.1%} ({unlocked:>2}) {reached:>12}/{len(seeds):<4} {alive / n:>10.1%} ({alive:>2}) "
            f"{talked:>12} {live_texture:>8}/{len(seeds)}",
            flush=True,
        )
        for b in bends:
            print(f"           {b}")


def replays(
    gallery, clip, seeds: range, frames: int, describer, kinds=None, checks=None, each: bool = False, room_first: int = 0
) -> None:
    """Screen replays through the door: the clip's second shot (his gallery) and every GRID talker
    (theirs, each enrolled from one frame of their clip), on each of ``kinds`` of display (default
    every one: a phone and a monitor held by hand, a phone or tablet on a stand, a screen filling
    the view), ``seeds`` each, at a door with each of ``checks`` (default ``--screen-check``'s).
    Per kind and check: how many unlocked, and what the screen and print check's two cues made of
    them; with ``each``, a line per presentation (what was drawn, and per check the door's verdict
    and every cue it logged: the one missing or refusing is why it stayed shut). With
    ``room_first``, each replay is played in front of an empty room (``rooms``) that the door's
    camera saw for that many frames before the display came up (core.vision.room)."""

    from core.tools.attacks import REPLAYS, replay_attack
    from tests.support.presentations import background

    if not seeds:  # --seeds 0: the genuine visits alone
        return
    kinds, checks = kinds or REPLAYS, checks or [SCREEN_CHECK]
    grid, views = sorted((FOOTAGE / "grid-talkers").glob("*.mpg")), rooms() if room_first else []
    print(
        f"\nScreen replays through the door (screen and print check {', '.join(checks)}; seeds {seeds.start}-{seeds.stop - 1}, "
        f"{frames} frames each; the surroundings rule was chosen on the clip's seeds 0-9 and GRID bbaf2n's 0-5, "
        "its seldom-still-room share on clip phone seed 14, its near ring and picture share 0.35 on clip phone seed 8, "
        "its noisy room held steady on clip monitor seed 19, checked on the clip's seeds 0-17; stand and fill were never tuned on):"
    )
    with grid_gallery(describer) as g:
        for source in ("clip", "GRID"):
            for kind in kinds:
                tally = {
                    c: {
                        "unlocked": 0,
                        "recognised": 0,
                        "talked": 0,
                        "live": 0,
                        "picture": 0,
                        "steady": 0,
                        "no say": 0,
                        "covered": 0,
                        "bodiless": 0,
                        "framed": 0,
                        "close": 0,
                    }
                    for c in checks
                }
                notes = []
                for seed in seeds:
                    video = clip[120:211] if source == "clip" else read_video(grid[seed % len(grid)])
                    behind = views[seed % len(views)] if room_first else background(clip, seed)
                    shown, it = replay_attack(kind, video, describer, behind, seed, frames, room_first=room_first)
                    drawn = [f.rgb for f in it]
                    said = []
                    for check in checks:
                        tracks = play(gallery if source == "clip" else g, drawn, check=check)["tracks"].values()
                        named = [t for t in tracks if t["verdict"] in ("Checking liveness", "Granted", "No liveness")]
                        n = tally[check]
                        opened = [t for t in tracks if t["unlocked"] is not None]
                        n["unlocked"] += bool(opened)
                        n["recognised"] += bool(named)
                        n["talked"] += any(t["cue"].startswith("talked") for t in named)
                        n["live"] += any(t["texture"] == "real" for t in named)
                        n["picture"] += any(t["surround"] == "picture" for t in named)
                        n["steady"] += any(t["surround"] == "picture" and t["steady"] for t in named)
                        n["no say"] += bool(named) and all(t["surround"] in ("no say", "") for t in named)
                        n["covered"] += any(t.get("covered") for t in named)
                        n["bodiless"] += any(t.get("bodiless") for t in named)
                        n["framed"] += any(t.get("framed") for t in named)
                        n["close"] += any(t.get("close") for t in named)
                        if opened:
                            notes.append(f"seed {seed} unlocked ({check}): {shown.source}, {shown.bend}")
                        said.append(
                            f"{check}: "
                            + (
                                "; ".join(
                                    (
                                        f"UNLOCKED at frame {t['unlocked']} [{t['granted']}]"
                                        if t["unlocked"] is not None
                                        else f"{t['verdict']} [{t['cue']}]"
                                    )
                                    for t in named
                                )
                                or "not recognised"
                            )
                        )
                    if each:
                        print(f"    {source} {kind} seed {seed} (face {shown.face_px:.0f} px, {shown.bend}): " + " | ".join(said))
                for check in checks:
                    n, count = tally[check], len(seeds)
                    print(
                        f"  {source:<4} {kind:<8} {check:<8} APCER {n['unlocked'] / count:6.1%} ({n['unlocked']} of {count}); "
                        f"recognised {n['recognised']}; of those, the lips talked {n['talked']}, texture took for live {n['live']}, "
                        f"surroundings moved inside a still room {n['picture']} ({n['steady']} with pairs judged in a noisy room "
                        f"held steady), surroundings no say {n['no say']}"
                        + (
                            f", room covered {n['covered']}, no body under the face {n['bodiless']}, hidden beside the head {n['framed']} ({n['close']} by the close figure alone; its {room_first} frames first)"
                            if room_first
                            else ""
                        ),
                        flush=True,
                    )
                for note in notes:
                    print(f"      {note}")


def cost(gallery, clip, runs: int = 200) -> None:
    import numpy as np

    from core.vision.detection import Detector
    from core.vision.liveness import LivenessCheck

    frames = clip[120:213]
    detector = Detector("haar+hog", 40)
    boxes = [(rgb, (detector.detect(rgb) or [None])[0]) for rgb in frames]
    boxes = [(rgb, b) for rgb, b in boxes if b is not None]
    whole, judge = [], []
    for _ in range(max(1, runs // len(boxes))):
        check = LivenessCheck(gallery.describer)
        check.settings.turn_frames = 10_000  # never passes: every frame is judged
        for i, (rgb, box) in enumerate(boxes):
            t = time.perf_counter()
            shape = gallery.describer.landmarks(rgb, box, 68)
            pts = np.array([(p.x, p.y) for p in shape.parts()], float)
            t1 = time.perf_counter()
            check.observe_points(pts, i / FPS)
            t2 = time.perf_counter()
            whole.append((t2 - t) * 1000)
            judge.append((t2 - t1) * 1000)
    print(
        f"\ncost per frame of the liveness check (a ~90 px face, {len(whole)} frames): "
        f"{statistics.median(whole):.2f} ms median with the 68 landmarks, {statistics.median(judge):.2f} ms of it the "
        f"judgement (homographies, evidence, blink, lips); 90th percentile {sorted(whole)[int(0.9 * len(whole))]:.2f} ms"
    )


def read_video(path: Path) -> list:
    """Every frame of a video or GIF, RGB."""
    import cv2
    import numpy as np
    from PIL import Image, ImageSequence

    if path.suffix.lower() == ".gif":
        return [np.array(f.convert("RGB")) for f in ImageSequence.Iterator(Image.open(path))]
    from tests.support.data import clip_frames

    return clip_frames(path) if path.suffix.lower() != ".jpg" else [cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)]


def scan_texture(model, frames, keep: range | None = None) -> dict:
    """The largest face of each frame (YuNet, as the door boxes it): its texture score when 64 px
    or more; the surround cue (core.vision.surround) on the same track; what a visit made of the
    first TextureVotes.frames scores (its median), and the share of all 5-score windows that are real."""
    import numpy as np

    from core.vision.detection import Detector
    from core.vision.surround import SurroundMotion
    from core.vision.texture import MIN_FACE, TextureVotes

    detector, surround, scores = Detector("yunet", 30), SurroundMotion(), []
    for i, rgb in enumerate(frames):
        if keep is not None and i not in keep:
            continue
        boxes = detector.detect(rgb)
        if not boxes:
            continue
        box = max(boxes, key=lambda b: b.area)
        surround.observe(rgb, box)
        if box.width >= MIN_FACE:
            scores.append(model.score(rgb, box))
    n = TextureVotes().frames
    windows = [float(np.median(scores[k : k + n])) >= 0 for k in range(len(scores) - n + 1)]
    held = [min(np.median(scores[k - n : k]), np.median(scores[:k])) >= 0 for k in range(n, len(scores) + 1)]
    return {
        "faces": len(scores),
        "real": sum(x >= 0 for x in scores),
        "visit": float(np.median(scores[:n])) if len(scores) >= n else None,
        "windows": float(np.mean(windows)) if windows else None,
        "held": float(np.mean(held)) if held else None,
        "surround": surround.verdict().words(),
    }


def texture_figures(describer, clip) -> None:
    """The screen and print check on real captures: real attacks, every genuine video, GRID at the door, cost."""
    import cv2
    import numpy as np

    from core.gallery.api import Gallery
    from core.vision.detection import Detector
    from core.vision.texture import TextureModel, face_crop

    model = TextureModel()

    def line(name: str, r: dict) -> str:
        visit = "-" if r["visit"] is None else f"{r['visit']:+.1f} ({'real' if r['visit'] >= 0 else 'spoof'})"
        windows = "-" if r["windows"] is None else f"{r['windows']:.0%}"
        held = "-" if r["held"] is None else f"{r['held']:.0%}"
        return (
            f"  {name:<34} faces >= 64 px {r['faces']:>4}, scored real {r['real']:>4}; a visit's median of its first 5: "
            f"{visit:>13}; 5-face windows real {windows:>4}, and the visit's median so far too (the door's verdict) "
            f"{held:>4}; {r['surround']}"
        )

    print("\nReal attacks (photographed), texture score real - spoof:")
    for name in ("image_F1.jpg", "image_F2.jpg", "image_T1.jpg"):
        rgb = read_video(FOOTAGE / "silent-face-pad" / name)[0]
        print(f"  {name}: " + ", ".join(f"{model.score(rgb, b):+.1f}" for b in Detector("yunet", 40).detect(rgb)))
    gif = read_video(FOOTAGE / "silent-face-pad" / "demo.gif")
    for part, frames in GIF_SEGMENTS.items():
        print(line(f"demo.gif {part} (frames {frames.start}-{frames.stop - 1})", scan_texture(model, gif, frames)))
    print("Genuine videos of the shared data (the check alone, every frame's largest face):")
    genuine = [
        SHARED / "faces" / "video" / "short_hamilton_clip.mp4",
        *sorted((FOOTAGE / "grid-talkers").glob("*.mpg")),
        FOOTAGE / "tears-of-steel-clip" / "clip_01_tears_of_steel.mp4",
        FOOTAGE / "mediapipe-group-selfie" / "face_detection_android_gpu.gif",
        FOOTAGE / "mediapipe-coral-webcam" / "face_detection_demo_coral.gif",
    ]
    refused = 0
    for path in genuine:
        r = scan_texture(model, read_video(path))
        refused += r["visit"] is not None and r["visit"] < 0
        print(line(path.name, r))
    print(
        f"  visits the check alone refuses (median of the first 5 faces < 0): {refused} of "
        f"{len(genuine)} videos (those with 5 faces of 64 px)"
    )
    from core.tools.attacks import Camera, through_camera

    soft = 0
    for seed in range(CAMERAS_FOR_TEXTURE):  # the clip's big shots through simulated door cameras: blur, noise, light
        blur = Camera.draw(np.random.default_rng([5, seed]), moving=True).blur
        r = scan_texture(model, list(through_camera(clip[82:211], seed)))
        soft += r["visit"] is not None and r["visit"] < 0
        print(line(f"clip 82-210, camera {seed} (blur {blur:.1f} px)", r))
    print(f"  of which refused: {soft} of {CAMERAS_FOR_TEXTURE}")

    with tempfile.TemporaryDirectory() as tmp, Gallery(Path(tmp) / "grid.db", describer=describer) as g:
        for name, clip_name in GRID_PEOPLE.items():  # from a still, as an operator would from a photo
            still = Path(tmp) / f"{name}.png"
            cv2.imwrite(str(still), cv2.cvtColor(read_video(FOOTAGE / "grid-talkers" / f"{clip_name}.mpg")[0], cv2.COLOR_RGB2BGR))
            g.enroll(name, [str(still)])
        never = []
        for path in sorted((FOOTAGE / "grid-talkers").glob("*.mpg")):
            tracks = play(g, read_video(path))["tracks"].values()
            if not any(t["unlocked"] is not None for t in tracks):
                never.append(f"{path.name}: " + "; ".join(f"{t['verdict']} ({t['cue']})" for t in tracks))
        print(
            f"GRID talkers through the door (7 people enrolled from one frame; screen and print check {SCREEN_CHECK}): "
            f"BPCER {len(never) / 8:.1%} ({len(never)} of 8 never unlocked)"
        )
        for n in never:
            print(f"  {n}")

    rgb = clip[150]
    (box,) = Detector("yunet", 40).detect(rgb)
    crop_ms, model_ms = [], []
    for _ in range(100):
        t0 = time.perf_counter()
        crop = face_crop(rgb, box)
        t1 = time.perf_counter()
        model.scores([crop])
        crop_ms.append((t1 - t0) * 1000)
        model_ms.append((time.perf_counter() - t1) * 1000)
    print(
        f"cost per face: the crop {statistics.median(crop_ms):.2f} ms (the frame thread), the model "
        f"{statistics.median(model_ms):.1f} ms median, 90th percentile {sorted(model_ms)[90]:.1f} ms (its own thread); "
        f"{box.width} px face, cv2.dnn with {cv2.getNumThreads()} threads"
    )


def ring_drift(frames, by: int = 25) -> tuple[float, float, int]:
    """The ring's accumulated drift over a visit (largest YuNet face per frame), for the calm
    monitors the surroundings cue misses (docs/liveness.md): frame pairs ``gap`` apart are chained
    end to start; in each pair whose room holds steady (core.vision.surround's cells: their corners'
    median displacement within ``still_px``, ``room_still`` of them, ``min_cells`` at least) each
    side of the ring (above, left, right) adds its corners' median displacement less the room's to
    its sum. Returns the peak of the second-largest side's sum in px (two sides drifted: a
    hand-held picture) over the visit and by frame ``by`` (the earliest a still room's 20 judged
    pairs let the door open), and the pairs judged. Measured, not used by the door."""
    import cv2
    import numpy as np

    from core.vision.detection import Detector
    from core.vision.surround import GRID, SurroundSettings, _box_mask, _track

    s, detector = SurroundSettings(), Detector("yunet", 30)
    sums, peak, early, judged, before = np.zeros((3, 2)), 0.0, 0.0, 0, None
    for i, rgb in enumerate(frames[:: s.gap]):
        boxes = detector.detect(rgb)
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if before is not None:
            (prev, box), (h, w) = before, grey.shape
            ring_mask = cv2.subtract(_box_mask(grey.shape, box, s.outer), _box_mask(grey.shape, box, s.inner))
            ring_mask[max(0, box.bottom) :] = 0
            where, shifts = _track(prev, grey, ring_mask, 120, 5)
            corners, room = _track(prev, grey, 255 - _box_mask(grey.shape, box, s.far), 300, 6)
            cells: dict[tuple[int, int], list] = {}
            for (x, y), d in zip(corners, room, strict=True):
                cells.setdefault((int(x * GRID[0] / w), int(y * GRID[1] / h)), []).append(d)
            held = np.array([np.median(v, axis=0) for v in cells.values() if len(v) >= 2]).reshape(-1, 2)
            steady = len(held) >= s.min_cells and np.mean(np.linalg.norm(held, axis=1) <= s.still_px) >= s.room_still
            if len(shifts) >= s.min_points and steady:
                judged += 1
                x, y = where[:, 0], where[:, 1]
                sides = (y < box.top, (x < box.left) & (y >= box.top), (x > box.right) & (y >= box.top))
                for k, side in enumerate(sides):
                    if side.sum() >= 3:
                        sums[k] += np.median(shifts[side], axis=0) - np.median(held, axis=0)
                peak = max(peak, float(sorted(np.linalg.norm(sums, axis=1))[1]))
                early = peak if i * s.gap <= by else early
        before = (grey, max(boxes, key=lambda b: b.area)) if boxes else None
    return peak, early, judged


def genuine_videos(clip, grid) -> dict:
    """Every genuine video of the shared data by name: the clip whole and by shot, the film, the
    GRID talkers (``grid``: their files), the webcam and selfie GIFs."""
    return {
        "the clip": clip,
        **{f"the clip {a}-{b - 1}": clip[a:b] for a, b in (*LIN_SHOTS, (STRANGER.start, STRANGER.stop))},
        "the film": read_video(FOOTAGE / "tears-of-steel-clip" / "clip_01_tears_of_steel.mp4"),
        **{f"GRID {p.stem}": read_video(p) for p in grid},
        "webcam GIF": read_video(FOOTAGE / "mediapipe-coral-webcam" / "face_detection_demo_coral.gif"),
        "selfie GIF": read_video(FOOTAGE / "mediapipe-group-selfie" / "face_detection_android_gpu.gif"),
    }


def drift_figures(describer, clip, seeds: range, frames: int, kinds=None) -> None:
    """``ring_drift`` on the screen replays of ``seeds`` and ``kinds`` (as ``replays`` draws them) and on every
    genuine video of the shared data, whole and in parts (the clip's shots, Silent-Face's segments)."""
    from core.tools.attacks import REPLAYS, replay_attack
    from tests.support.presentations import background

    grid = sorted((FOOTAGE / "grid-talkers").glob("*.mpg"))
    print(
        "\nThe ring's drift (px, the second-largest side's) over the visit / by frame 25 (judged pairs), "
        f"replays of seeds {seeds.start}-{seeds.stop - 1}:"
    )
    for source in ("clip", "GRID"):
        for kind in kinds or REPLAYS:
            said = []
            for seed in seeds:
                video = clip[120:211] if source == "clip" else read_video(grid[seed % len(grid)])
                _, it = replay_attack(kind, video, describer, background(clip, seed), seed, frames)
                peak, early, judged = ring_drift([f.rgb for f in it])
                said.append(f"{seed}: {peak:.1f}/{early:.1f} ({judged})")
            print(f"  {source:<4} {kind:<8} " + ", ".join(said), flush=True)
    gif = read_video(FOOTAGE / "silent-face-pad" / "demo.gif")
    genuine = {
        **genuine_videos(clip, grid),
        **{f"Silent-Face GIF {part}": gif[r.start : r.stop] for part, r in GIF_SEGMENTS.items()},
    }
    print("Genuine videos:")
    for name, video in genuine.items():
        peak, early, judged = ring_drift(video)
        print(f"  {name:<24} {peak:5.1f} / {early:4.1f} px ({judged} judged pairs)", flush=True)


def _edge_line(gx, gy, along: tuple, across: tuple, vertical: bool) -> float:
    """The straightest edge across ``along`` (a span the line must cross) at offsets ``across``,
    tilted up to 18 degrees: a line scores its weakest of 8 segments' mean gradient across it, 0
    unless all 8 have the same sign (one unbroken edge); returned over the typical segment's
    (the median of every candidate's, + 0.25 grey levels/px), so a dim scene's edges count."""
    import cv2
    import numpy as np

    angles = np.deg2rad(np.arange(-18, 18.1, 2.0))[:, None, None]
    xs = np.linspace(along[0], along[1], 40, dtype=np.float32)
    cs = np.arange(across[0], across[1], max(1.0, (along[1] - along[0]) / 84), dtype=np.float32)
    if len(cs) < 2:
        return 0.0
    a = np.broadcast_to(xs[None, None, :], (angles.shape[0], len(cs), len(xs)))
    c = cs[None, :, None] + np.tan(angles) * (xs[None, None, :] - (along[0] + along[1]) / 2)
    mx, my = (c, a) if vertical else (a, c)
    sample = [
        cv2.remap(
            g,
            *(np.ascontiguousarray(m.reshape(-1, len(xs)), np.float32) for m in (mx, my)),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=float("nan"),
        ).reshape(a.shape)
        for g in (gx, gy)
    ]
    across_grad = (
        np.cos(angles) * sample[0] - np.sin(angles) * sample[1]
        if vertical
        else np.cos(angles) * sample[1] - np.sin(angles) * sample[0]
    )
    seg = across_grad.reshape(angles.shape[0], len(cs), 8, 5).mean(axis=3)
    best = np.nan_to_num(np.maximum(np.maximum(seg.min(axis=2), 0), np.maximum(-seg.max(axis=2), 0)))
    return float(best.max()) / (float(np.nanmedian(np.abs(seg))) + 0.25)


def enclosure(rgb, box) -> float:
    """How plainly a screen's edges enclose ``box``: the weakest of three unbroken straight edges,
    one below the chin (0.2-2 face heights) running across the face's width and 0.2 widths either
    side of it (across a played person's neck and torso; a real person hides what is behind them),
    one on each side (0.15-1.5 widths beside the box) along its height. Measured, not used."""
    import cv2

    g = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype("float32"), (0, 0), 2.0)
    gx, gy = (cv2.Sobel(g, cv2.CV_32F, dx, 1 - dx, ksize=3) / 8 for dx in (1, 0))
    (h, w), fw, fh = g.shape, box.width, box.height
    return min(
        _edge_line(
            gx, gy, (box.left - 0.2 * fw, box.right + 0.2 * fw), (box.bottom + 0.2 * fh, min(h - 2, box.bottom + 2 * fh)), False
        ),
        _edge_line(
            gx, gy, (box.top - 0.1 * fh, box.bottom + 0.1 * fh), (max(1, box.left - 1.5 * fw), box.left - 0.15 * fw), True
        ),
        _edge_line(
            gx, gy, (box.top - 0.1 * fh, box.bottom + 0.1 * fh), (box.right + 0.15 * fw, min(w - 2, box.right + 1.5 * fw)), True
        ),
    )


def big_faces(frames, faces=None, every: int = 3):
    """(frame index, box) of every face of 60 px or more on every ``every``-th frame (YuNet);
    with ``faces`` (one Box a frame, the played face's), only the face over it."""
    from core.vision.detection import Detector

    detector = Detector("yunet", 30)
    for i in range(0, len(frames), every):
        for box in detector.detect(frames[i]):
            if box.width < 60:
                continue
            if faces is not None:
                f, (cx, cy) = faces[i], ((box.left + box.right) / 2, (box.top + box.bottom) / 2)
                if not (f.left - 20 <= cx <= f.right + 20 and f.top - 20 <= cy <= f.bottom + 20):
                    continue
            yield i, box


def edge_scores(frames, faces=None, every: int = 3) -> list[float]:
    """``enclosure`` of each of ``big_faces``."""
    return [enclosure(frames[i], box) for i, box in big_faces(frames, faces, every)]


def edge_figures(describer, clip, seeds: range, frames: int) -> None:
    """``enclosure`` on the screen replays of ``seeds`` (as ``replays`` draws them) and on every
    genuine video of the shared data, and its cost per face."""
    import numpy as np

    from core.tools.attacks import REPLAYS, replay_attack
    from tests.support.presentations import background

    def line(scores: list[float]) -> str:
        if not scores:
            return "no face of 60 px"
        return f"median {np.median(scores):4.1f}, max {max(scores):4.1f}, {np.mean(np.array(scores) >= 2):4.0%} of {len(scores)} at 2+"

    grid = sorted((FOOTAGE / "grid-talkers").glob("*.mpg"))
    print(
        f"\nThe screen's edges around the face (enclosure: weakest unbroken edge over the typical), every 3rd frame, replays of seeds {seeds.start}-{seeds.stop - 1}:"
    )
    for source in ("clip", "GRID"):
        for kind in REPLAYS:
            for seed in seeds:
                video = clip[120:211] if source == "clip" else read_video(grid[seed % len(grid)])
                _, it = replay_attack(kind, video, describer, background(clip, seed), seed, frames)
                drawn = list(it)
                print(
                    f"  {source:<4} {kind:<8} {seed:3d}: " + line(edge_scores([f.rgb for f in drawn], [f.face for f in drawn])),
                    flush=True,
                )
    sf = FOOTAGE / "silent-face-pad"
    genuine = {
        "the clip": clip,
        "the film": read_video(FOOTAGE / "tears-of-steel-clip" / "clip_01_tears_of_steel.mp4"),
        **{f"GRID {p.stem}": read_video(p) for p in grid},
        "webcam GIF": read_video(FOOTAGE / "mediapipe-coral-webcam" / "face_detection_demo_coral.gif"),
        "selfie GIF": read_video(FOOTAGE / "mediapipe-group-selfie" / "face_detection_android_gpu.gif"),
        "Obama's portrait": read_video(FOOTAGE / "obama-portrait-pd" / "obama_official_portrait_2012.jpg"),
        **{f"Silent-Face {n}": read_video(sf / f"image_{n}.jpg") for n in ("F1", "F2", "T1")},
        "Silent-Face GIF phone": read_video(sf / "demo.gif")[GIF_SEGMENTS["phone"].start : GIF_SEGMENTS["phone"].stop],
    }
    print("Genuine videos (every face) and Silent-Face's real captures (F1 print, F2 phone, T1 live, the GIF's phone):")
    for name, video in genuine.items():
        print(f"  {name:<24} " + line(edge_scores(video)), flush=True)
    rgb = clip[150]
    box = max(__import__("core.vision.detection", fromlist=["Detector"]).Detector("yunet", 30).detect(rgb), key=lambda b: b.area)
    took = []
    for _ in range(50):
        start = time.perf_counter()
        enclosure(rgb, box)
        took.append(1000 * (time.perf_counter() - start))
    print(f"cost: {statistics.median(took):.1f} ms a face median ({box.width} px face, 50 runs)")


def learn_room(frames, faces=None):
    """The room as a camera saw it over ``frames`` (core.vision.room's cells): each cell's median,
    learned where no person (``faces``: each frame's face boxes) covered it in any of them. The
    door learns only from face-free frames (RoomWatcher); a genuine recording has none, so its
    fixed camera's room is learned beyond the faces instead."""
    import numpy as np

    from core.vision.room import CELLS, cells_of, person_cells

    learned = np.ones(CELLS[::-1], bool)
    for i, f in enumerate(frames):
        for box in faces[i] if faces else ():
            learned &= ~person_cells(f.shape, box)
    return np.median(np.stack([cells_of(f) for f in frames]), axis=0), learned


def room_seen(room, learned, frames, faces=None, every: int = 3) -> list[float]:
    """For each of ``big_faces``, the share of the ``learned`` room's cells beyond the person that still show
    it (core.vision.room.matching; nan where fewer than 8 such cells are left)."""
    from core.vision.room import cells_of, matching, person_cells

    shares = []
    for i, box in big_faces(frames, faces, every):
        beyond = learned & ~person_cells(frames[i].shape, box)
        shares.append(float(matching(room, cells_of(frames[i]), beyond).mean()) if beyond.sum() >= 8 else float("nan"))
    return shares


def room_under(room, learned, frames, faces=None, every: int = 3) -> list[float]:
    """For each of ``big_faces``, the share of the ``learned`` room's textured cells where the
    person's chest would be that still show it, as RoomWatcher.under judges them (nan where fewer
    than 2 such cells are known)."""
    from core.vision.room import RoomSettings, cells_of, matching, person_cells, textured, under_cells

    s, shares = RoomSettings(), []
    for i, box in big_faces(frames, faces, every):
        where = learned & under_cells(frames[i].shape, box) & textured(room)
        beyond = learned & ~person_cells(frames[i].shape, box)
        judged = where.sum() >= s.min_under and beyond.sum() >= s.min_cells
        now = cells_of(frames[i])
        shares.append(float(matching(room, now, where, beyond, s.under_alike, s.under_within).mean()) if judged else float("nan"))
    return shares


def room_beside(room, learned, frames, faces=None, every: int = 3) -> tuple[list[float], list[float]]:
    """For each of ``big_faces``, as RoomWatcher.beside judges them: the share of the ``learned``
    room's textured blocks beside the head (its worse side) that still show it (nan where neither
    side has enough of them), and the share close beside it on the better side (nan unless both
    sides have enough)."""
    from core.vision.room import beside_share, cells_of

    worse, close = [], []
    for i, box in big_faces(frames, faces, every):
        share = beside_share(room, cells_of(frames[i]), frames[i].shape, box, known=learned)
        for shares, value in ((worse, share and share.worse), (close, share and share.close)):
            shares.append(float("nan") if value is None else value)
    return worse, close


def standing_beside(grid, views) -> None:
    """The room beside the head of each GRID talker standing in front of each of ``views``
    (tests.support.presentations.standing, through a door camera; the room learned from the 20
    frames of it first): the genuine side of RoomWatcher.beside."""
    import numpy as np

    medians, closes = [], []
    for path, r, seen in standing_visits(grid, views, 20):
        room, learned = learn_room(seen[:20])
        shares, close = ([s for s in figure if not np.isnan(s)] for figure in room_beside(room, learned, seen[20:]))
        medians.append(float(np.median(shares)) if shares else float("nan"))
        closes.append(float(np.median(close)) if close else float("nan"))
        print(
            f"  {path.stem:<16} standing in room {r}: beside the head "
            + _shares_line(shares)
            + "; close beside it "
            + _shares_line(close),
            flush=True,
        )
    for what, figures in (("beside the head", medians), ("close beside it", closes)):
        judged = [m for m in figures if not np.isnan(m)]
        print(
            f"GRID talkers standing in front of the {len(views)} rooms: the room {what}, median per visit "
            f"{min(judged):.2f}-{max(judged):.2f} over {len(judged)} of {len(figures)} visits judged",
            flush=True,
        )


def standing_visits(grid, views, empty_frames: int):
    """(talker's file, room index, frames) of each GRID talker standing in front of each of
    ``views`` (tests.support.presentations.standing) through a door camera (the talker's index as
    its seed), after ``empty_frames`` frames of the room alone."""
    from core.tools.attacks import through_camera
    from core.vision.detection import Detector
    from tests.support.presentations import standing

    detector = Detector("yunet", 40)
    for seed, path in enumerate(grid):
        video = read_video(path)
        face = max(detector.detect(video[0]), key=lambda b: b.area)
        for r, view in enumerate(views):
            back, shots = standing(video, face, view)
            yield path, r, list(through_camera([back] * empty_frames + shots, seed))


def _shares_line(shares: list[float]) -> str:
    import numpy as np

    if not shares:
        return "no say"
    return f"median {np.median(shares):4.2f}, least {min(shares):4.2f}, {np.mean(np.array(shares) < 0.5):4.0%} under 0.5 of {len(shares)} faces"


def rooms():
    """Views with no face in them to stand for a door's empty room: frames of the film (a street
    behind a machine) where YuNet finds no face."""
    film = read_video(FOOTAGE / "tears-of-steel-clip" / "clip_01_tears_of_steel.mp4")
    return [film[i] for i in (0, 10, 20, 190, 200, 210)]


@contextlib.contextmanager
def grid_gallery(describer):
    """A gallery of the 7 GRID people, each enrolled from their recording's first frame (one photo
    each, as a site that imports staff photos), in a temporary folder."""
    import cv2

    from core.gallery.api import Gallery

    with tempfile.TemporaryDirectory() as tmp, Gallery(Path(tmp) / "grid.db", describer=describer) as g:
        for name, clip_name in GRID_PEOPLE.items():
            still = Path(tmp) / f"{name}.png"
            cv2.imwrite(str(still), cv2.cvtColor(read_video(FOOTAGE / "grid-talkers" / f"{clip_name}.mpg")[0], cv2.COLOR_RGB2BGR))
            g.enroll(name, [str(still)])
        yield g


def talkers_before_their_wall(describer, grid) -> None:
    """The GRID talkers through the door with the check required, each after 75 frames of their
    wall seen empty (the talker painted out of their first frame: tests.support.presentations.emptied),
    the 7 people enrolled from one frame as ``texture_figures`` does: BPCER, and each visit's room."""

    from core.tools.attacks import through_camera
    from core.vision.detection import Detector
    from tests.support.presentations import emptied

    detector, never, said = Detector("yunet", 40), [], []
    with grid_gallery(describer) as g:
        for seed, path in enumerate(grid):
            video = read_video(path)
            face = max(detector.detect(video[0]), key=lambda b: b.area)
            empty = list(through_camera([emptied(video[0], face)] * 75, seed))
            tracks = play(g, [*empty, *video], check="required")["tracks"].values()
            if not any(t["unlocked"] is not None for t in tracks):
                never.append(path.stem)
            rooms_said = {
                c.split("; room: ")[1].split(" (")[0]
                for t in tracks
                for c in (t["cue"], t.get("granted") or "")
                if "; room: " in c
            }
            said.append(f"{path.stem} {'/'.join(sorted(rooms_said)) or 'room not judged'}")
    print(
        f"GRID talkers through the door after 75 frames of their wall seen empty (check required): BPCER "
        f"{len(never) / len(grid):.1%} ({len(never)} of {len(grid)} never unlocked{': ' + ', '.join(never) if never else ''}); "
        f"the room: {'; '.join(said)}",
        flush=True,
    )


def talkers_standing(describer, grid) -> None:
    """The GRID talkers standing in front of each of ``rooms`` (tests.support.presentations.standing:
    their recording set into the room, the shirt carried on to the bottom of the view, as a door
    camera sees a body under the face), through the door after 75 frames of that room empty, each
    enrolled from their first frame: how many opened with the screen and print check off and with
    it required (the cues' BPCER among those the door names), and how many visits the room under
    the face refused (core.vision.room, "no body")."""

    views = rooms()
    opened: dict[str, list[str]] = {"off": [], "required": []}
    refused, bodiless, framed, spoof = [], 0, 0, 0
    with grid_gallery(describer) as g:
        for path, r, seen in standing_visits(grid, views, 75):
            visit = f"{path.stem} in room {r}"
            for check in opened:
                tracks = play(g, seen, check=check)["tracks"].values()
                if any(t["unlocked"] is not None for t in tracks):
                    opened[check].append(visit)
                elif check == "required" and visit in opened["off"]:
                    refused.append(visit)
                    spoof += any(t["texture"] == "spoof" for t in tracks)
                bodiless += check == "required" and any(t.get("bodiless") for t in tracks)
                framed += check == "required" and any(t.get("framed") for t in tracks)
    visits = len(grid) * len(views)
    print(
        f"GRID talkers standing in front of the {len(views)} rooms (75 frames of the room first; {visits} visits): "
        f"opened with the check off {len(opened['off'])}, with it required {len(opened['required'])}; "
        f"BPCER of the check among the visits the door opens without it {len(refused) / max(1, len(opened['off'])):.1%} "
        f"({', '.join(refused) or 'none refused'}; the texture read {spoof} of them as a screen or print); said no body under "
        f"the face in {bodiless}, hidden beside the head in {framed}",
        flush=True,
    )


def room_figures(describer, clip, seeds: range, frames: int, kinds=None) -> None:
    """Is the door's empty room still in view around a face (core.vision.room)? On the screen
    replays of ``seeds`` and ``kinds`` in front of a room (``rooms``), the room learned from the
    20 frames of it the same camera gave first; on every genuine video of the shared data, the
    room learned from its own first 15 frames beyond the faces in them (a fixed camera's room;
    under a moving camera none agrees with itself)."""
    import numpy as np

    from core.tools.attacks import REPLAYS, replay_attack
    from core.vision.detection import Detector

    def line(shares: list[float], where: str = "beyond them") -> str:
        judged = [s for s in shares if not np.isnan(s)]
        if not judged:
            return f"no room {where} ({len(shares)} faces)"
        return (
            f"median {np.median(judged):4.2f}, least {min(judged):4.2f}, most {max(judged):4.2f}, "
            f"{np.mean(np.array(judged) < 0.5):4.0%} under 0.5 of {len(judged)} faces ({len(shares) - len(judged)} with no room {where})"
        )

    grid, views = sorted((FOOTAGE / "grid-talkers").glob("*.mpg")), rooms()
    print(
        f"\nThe door's room still in view beyond the person (share of its cells), every 3rd frame, seeds {seeds.start}-{seeds.stop - 1}:"
    )
    for source in ("clip", "GRID"):
        for kind in kinds or REPLAYS:
            for seed in seeds:
                video = clip[120:211] if source == "clip" else read_video(grid[seed % len(grid)])
                _, it = replay_attack(kind, video, describer, views[seed % len(views)], seed, frames, room_first=20)
                drawn = list(it)
                room, learned = learn_room([f.rgb for f in drawn[:20]])
                played = drawn[20:]
                rgbs, faces = [f.rgb for f in played], [f.face for f in played]
                beside, close = room_beside(room, learned, rgbs, faces)
                print(
                    f"  {source:<4} {kind:<8} {seed:3d}: "
                    + line(room_seen(room, learned, rgbs, faces))
                    + "; under the face: "
                    + line(room_under(room, learned, rgbs, faces), "with texture there")
                    + "; beside the head: "
                    + line(beside, "with texture there")
                    + "; close beside it: "
                    + line(close, "on both sides"),
                    flush=True,
                )
    standing_beside(grid, views)
    talkers_before_their_wall(describer, grid)
    talkers_standing(describer, grid)
    print("Genuine videos (the room from their first 15 frames, beyond the faces in them):")
    detector = Detector("yunet", 30)
    for name, video in genuine_videos(clip, grid).items():
        if len(video) < 30:
            print(f"  {name:<24} too short")
            continue
        first = video[:15]
        room, learned = learn_room(first, [detector.detect(f) for f in first])
        beside, close = room_beside(room, learned, video[15:])
        print(
            f"  {name:<24} {int(learned.sum()):3d} cells learned; "
            + line(room_seen(room, learned, video[15:]))
            + "; under the face: "
            + line(room_under(room, learned, video[15:]), "with texture there")
            + "; beside the head: "
            + line(beside, "with texture there")
            + "; close beside it: "
            + line(close, "on both sides"),
            flush=True,
        )
    room_cost(clip)


def room_cost(clip, runs: int = 200) -> None:
    """What the room costs the frame thread: a face judged against a known room, and a
    face-free frame's snapshot (taken every 0.2 s, with the median and agreement of the last 10)."""
    from core.records import Box
    from core.vision.room import RoomVotes, RoomWatcher

    watcher, seen, watched = RoomWatcher(), [], []
    for i in range(runs):
        start = time.perf_counter()
        watcher.watch(clip[60], [], i * watcher.settings.every)
        watched.append(1000 * (time.perf_counter() - start))
    assert watcher.room is not None  # learned from those snapshots of one still view
    votes = RoomVotes(watcher.settings)
    for _ in range(runs):
        start = time.perf_counter()
        votes.add(watcher, clip[150], Box(250, 80, 370, 160))  # beyond the person, under the face and beside the head
        seen.append(1000 * (time.perf_counter() - start))
    print(
        f"cost: a face against the room (beyond the person, under the face and beside the head) {statistics.median(seen):.2f} ms, a face-free snapshot "
        f"{statistics.median(watched):.2f} ms every {watcher.settings.every} s (medians of {runs})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="attack presentations per kind")
    parser.add_argument("--frames", type=int, default=120, help="frames per attack presentation (30 fps)")
    parser.add_argument("--cameras", type=int, default=10, help="simulated cameras the genuine visits go through")
    parser.add_argument("--first-seed", type=int, default=0, help="the first attack seed")
    parser.add_argument("--first-camera", type=int, default=0, help="the first simulated camera's seed")
    parser.add_argument(
        "--no-new-looks",
        action="store_true",
        help="enroll him with the poses' own samples only (the enrollment before new looks)",
    )
    parser.add_argument(
        "--screen-check",
        nargs="+",
        default=["required"],
        choices=("off", "advisory", "required"),
        help="the door's screen and print check (default required); the screen replays run at a door with each given",
    )
    parser.add_argument(
        "--replays", nargs="+", default=None, metavar="KIND", help="the screen replay kinds to run (default every one)"
    )
    parser.add_argument("--each", action="store_true", help="a line per screen replay: what was drawn, every cue the door logged")
    parser.add_argument(
        "--room-first",
        type=int,
        default=0,
        metavar="N",
        help="screen replays in front of an empty room the door's camera saw for N frames first (core.vision.room)",
    )
    parser.add_argument(
        "--only",
        choices=("texture", "replays", "attacks", "drift", "edges", "room", "talkers"),
        default=None,
        help="texture: only the screen and print check's figures on real captures; replays: only screen replays at the "
        "door; attacks: only the generated pictures at the door; drift: only the ring's drift over the visit; edges: "
        "only the screen's edges around the face; room: only the learned room still in view (all three measured, not used: "
        "docs/liveness.md)",
    )
    args = parser.parse_args()
    global SCREEN_CHECK
    SCREEN_CHECK = args.screen_check[0]
    from core.tools.attacks import REPLAYS

    if unknown := set(args.replays or ()) - set(REPLAYS):
        parser.error(f"unknown replay kind {', '.join(sorted(unknown))}; choose from {', '.join(REPLAYS)}")
    from core.gallery.api import Gallery
    from core.tools.attacks import through_camera
    from core.vision.describe import Describer
    from tests.support.data import KNN, clip_frames, copy_gallery

    describer = Describer()
    clip = clip_frames()
    if args.only == "texture":
        texture_figures(describer, clip)
        return 0
    if args.only == "drift":
        drift_figures(describer, clip, range(args.first_seed, args.first_seed + args.seeds), args.frames, args.replays)
        return 0
    if args.only == "edges":
        edge_figures(describer, clip, range(args.first_seed, args.first_seed + args.seeds), args.frames)
        return 0
    if args.only == "talkers":  # the genuine side of the room cues alone
        grid = sorted((FOOTAGE / "grid-talkers").glob("*.mpg"))
        talkers_before_their_wall(describer, grid)
        talkers_standing(describer, grid)
        return 0
    if args.only == "room":
        room_figures(describer, clip, range(args.first_seed, args.first_seed + args.seeds), args.frames, args.replays)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        with Gallery(Path(tmp) / "base.db", describer=describer) as base:
            for person in sorted((KNN / "train").iterdir()):
                base.enroll(person.name, sorted(str(f) for f in person.iterdir()))
        gallery = copy_gallery(Path(tmp) / "base.db", Path(tmp), describer, "bench.db")
        print(enroll_lin(gallery, clip, new_looks=not args.no_new_looks))
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        if args.only in ("replays", "attacks"):
            if args.only == "replays":
                replays(gallery, clip, seeds, args.frames, describer, args.replays, args.screen_check, args.each, args.room_first)
            else:
                attacks(gallery, clip, seeds, args.frames)
            gallery.close()
            return 0
        doors: dict[int, Gallery] = {}

        def own(camera: int | None) -> Gallery:
            """The gallery of a door whose camera is ``camera``: Lin-Manuel enrolled through it."""
            if camera is None:
                return gallery
            if camera not in doors:
                for g in doors.values():
                    g.close()
                doors.clear()
                doors[camera] = copy_gallery(Path(tmp) / "base.db", Path(tmp), describer, f"camera{camera}.db")
                print(f"  camera {camera}: {enroll_lin(doors[camera], list(through_camera(clip, camera, take=1)))}")
            return doors[camera]

        for line in frames_to_name(gallery, clip):
            print("  " + line)
        print("  " + strangers_near(gallery, clip))
        cameras = range(args.first_camera, args.first_camera + args.cameras)
        report("Enrolled through the door's own camera (another take of it)", *genuine(lambda c: own(c), clip, cameras))
        report("Enrolled at another door (as recorded), visits through these cameras", *genuine(lambda c: gallery, clip, cameras))
        attacks(gallery, clip, range(args.first_seed, args.first_seed + args.seeds), args.frames)
        replays(gallery, clip, seeds, args.frames, describer, args.replays, args.screen_check, args.each)
        cost(gallery, clip)
        texture_figures(describer, clip)
        for g in (gallery, *doors.values()):
            g.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
