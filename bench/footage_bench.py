"""Every shared recording replayed through the door against a gallery of every shared person,
each enrolled from ONE photo: named right / wrong / unknown per shot, strangers named, unlocks
(prints figures; never a test).

    .venv/bin/python bench/footage_bench.py [--footage /work/shared/data/footage] [--within N]
                                            [--part tune|held-out|all] [--db PATH] [--leave-out] [--json]
                                            [--frame-probe]

The gallery (26 people, one photo each): the knn_examples people (their first train photo),
Lin-Manuel (lin-manuel-miranda.png), Obama's 2012 official portrait (as ``obama``, replacing the
knn photo: another source than every probe of him), the GRID talkers (one frame of a clip: frame
37 of the GRID man's first clip, frame 0 of the others'), the Silent-Face woman (image_T1.jpg) and
the eight Microsoft Face people (their first portrait). Everyone else in the footage is a
stranger: the MediaPipe webcam and selfie people, the Tears of Steel actors, the clip's audience.

The recordings and their labels (tests/data/labels/, who is where frame by frame): the clip,
the eight GRID clips, Tears of Steel, the two MediaPipe GIFs and the Silent-Face demo (a live
woman, then a phone screen and a print, which must never unlock). ``--part``: the rule was
chosen on ``tune`` (the clip, Tears of Steel, the webcam GIF, GRID id2/bbaf2n/lbax4n/swiz3n) and
is reported on ``held-out`` (the rest).

``--leave-out``: open-set false accepts. Each recording is replayed once per enrolled person in it,
against the gallery without that person (a copy): everyone in it is then a stranger, and any name
the door gives is a false accept (the person's nearest other people are the likeliest to be named).

``--views``: the face widths each photo is also enrolled at (as bench/one_photo_bench.py).

``--frame-probe``: each frame's descriptor identified alone, not the track's template
(core.live.tracking.Template): the rule before the template.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.one_photo_bench import FOOTAGE, MS, VIEWS_HELP, video_frames, views_arg  # noqa: E402

LABELS = ROOT / "tests" / "data" / "labels"
FACES = Path("/work/shared/data/faces")
TUNE = {
    "short_hamilton_clip",
    "clip_01_tears_of_steel",
    "face_detection_demo_coral",
    "id2_vcd_swwp2s",
    "bbaf2n",
    "lbax4n",
    "swiz3n",
}
GRID_PHOTO = {
    "grid_a": ("id2_vcd_swwp2s", 37),
    "grid_b": ("bbaf2n", 0),
    "grid_c": ("brbk7n", 0),
    "grid_d": ("lbax4n", 0),
    "grid_e": ("lwbsza", 0),
    "grid_f": ("swiz3n", 0),
    "grid_g": ("sbwe5n", 0),
}


def recordings(footage: Path) -> list[tuple[Path, Path]]:
    """(video, labels) for every labelled recording."""
    out = [(FACES / "video" / "short_hamilton_clip.mp4", LABELS / "short_hamilton_clip.csv")]
    for labels in sorted(LABELS.glob("*/*.csv")):
        (video,) = [p for p in (footage / labels.parent.name).iterdir() if p.stem == labels.stem]
        out.append((video, labels))
    return out


def enroll_everyone(db: Path, footage: Path, describer, views: tuple[int, ...] | None = None) -> None:
    from core.gallery.api import Gallery
    from core.gallery.photo_views import VIEW_WIDTHS

    photos: dict[str, object] = {}
    for person in sorted((FACES / "knn_examples" / "train").iterdir()):
        photos[person.name] = sorted(person.iterdir())[0]
    photos["obama"] = footage / "obama-portrait-pd" / "obama_official_portrait_2012.jpg"
    photos["lin_manuel_miranda"] = FACES / "images" / "lin-manuel-miranda.png"
    for name, (clip, frame) in GRID_PHOTO.items():
        photos[name] = video_frames(footage / "grid-talkers" / f"{clip}.mpg")[frame]
    photos["pad_woman"] = footage / "silent-face-pad" / "image_T1.jpg"
    for name, stem in {**MS, "family3_lady": "Family3-Lady", "family3_man": "Family3-Man"}.items():
        photos[name] = footage / "ms-face-stills" / f"{stem}1.jpg"
    with Gallery(db, describer=describer) as g:
        for name, photo in photos.items():
            g.enroll(name, [photo], views=VIEW_WIDTHS if views is None else views)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--footage", type=Path, default=FOOTAGE)
    ap.add_argument("--within", type=int, default=None, help="the consensus window (3: the old rule, 3 in a row)")
    ap.add_argument("--part", choices=("tune", "held-out", "all"), default="all")
    ap.add_argument("--db", type=Path, default=None, help="reuse this gallery (made if missing)")
    ap.add_argument("--leave-out", action="store_true", help="each recording without its enrolled people: false accepts")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--frame-probe", action="store_true", help="identify each frame alone, not the track's template")
    ap.add_argument("--views", type=views_arg, default=None, help=VIEWS_HELP)
    args = ap.parse_args()

    from core.door.policy import DecisionSettings
    from core.gallery.api import Gallery
    from core.live.loop import LiveSettings
    from core.live.worker import InlineWorker
    from core.station.eval_video import eval_video
    from core.station.labels import read_labels
    from core.vision.describe import Describer
    from tests.support.data import copy_gallery

    describer = Describer()
    db = args.db or Path(tempfile.mkdtemp(prefix="footage_")) / "everyone.db"
    if not db.exists():
        enroll_everyone(db, args.footage, describer, args.views)
    decision = DecisionSettings() if args.within is None else DecisionSettings(within=args.within)
    live = LiveSettings(track_template=not args.frame_probe)
    results, sums = [], {}

    def add(r, part: str, title: str) -> None:
        results.append(r.as_dict() | {"part": part, "title": title})
        for k, v in r.totals().items():
            if isinstance(v, int) and k != "median_frames_to_name":
                sums[k] = sums.get(k, 0) + v
        if not args.json:
            print(f"== {title} [{part}]\n{r.text()}\n")

    for video, labels in recordings(args.footage):
        part = "tune" if video.stem in TUNE else "held-out"
        if args.part not in ("all", part):
            continue
        if not args.leave_out:
            with Gallery(db, describer=describer, readonly=True) as g:
                add(eval_video(video, labels, g, live=live, decision=decision, worker=InlineWorker(describer)), part, video.name)
            continue
        with Gallery(db, describer=describer, readonly=True) as g:
            enrolled = {p.name.casefold(): p.name for p in g.people()}
        present = sorted({enrolled[n.casefold()] for shot in read_labels(labels) for n in shot.names if n.casefold() in enrolled})
        for name in present:
            with tempfile.TemporaryDirectory() as tmp:
                g = copy_gallery(db, Path(tmp), describer)
                try:
                    g.remove(name)
                    add(
                        eval_video(video, labels, g, live=live, decision=decision, worker=InlineWorker(describer)),
                        part,
                        f"{video.name} without {name}",
                    )
                finally:
                    g.close()
    print(
        json.dumps({"recordings": results, "totals": sums})
        if args.json
        else f"ALL ({args.part}, within {decision.within}): {sums}"
    )


if __name__ == "__main__":
    main()
