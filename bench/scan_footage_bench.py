"""Does a scan keep a face for every person in the shared footage? (prints figures; never a test)

    .venv/bin/python bench/scan_footage_bench.py [--footage /work/shared/data/footage] [--every 5]

Scans the film (Tears of Steel), the webcam GIF, the selfie GIF, the Silent-Face demo and the GRID
man's second recording into a fresh gallery, then, for each labelled person (tests/data/labels/),
counts the faces kept inside their shot and region, and how many of those are poor (kept from a
view that failed the quality gates, with the gates named).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LABELS = ROOT / "tests" / "data" / "labels"
VIDEOS = (
    "tears-of-steel-clip/clip_01_tears_of_steel.mp4",
    "mediapipe-coral-webcam/face_detection_demo_coral.gif",
    "mediapipe-group-selfie/face_detection_android_gpu.gif",
    "silent-face-pad/demo.gif",
    "grid-talkers/pwij3p.mpg",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--footage", type=Path, default=Path("/work/shared/data/footage"))
    ap.add_argument("--every", type=int, default=5)
    args = ap.parse_args()

    import cv2

    from core.gallery.api import Gallery
    from core.station.labels import read_labels
    from core.tools.scan import ScanLibrary, ScanSettings

    print(f"facegate scan --every {args.every} (YuNet), then the faces kept per labelled person")
    with tempfile.TemporaryDirectory() as tmp, Gallery(Path(tmp) / "scan.db") as g:
        lib = ScanLibrary(g)
        for rel in VIDEOS:
            video = args.footage / rel
            result = lib.scan(video, ScanSettings(every=args.every))
            cap = cv2.VideoCapture(str(video))
            width, height = cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)
            cap.release()
            faces = lib.faces(result.video_id)
            print(f"{video.name}: {result.faces} faces kept ({result.poor_faces} poor) of {result.seen} views seen")
            for shot in read_labels(LABELS / Path(rel).parent / f"{Path(rel).stem}.csv"):
                if not shot.names:
                    continue
                held = [
                    f
                    for f in faces
                    if shot.holds(f.frame, ((f.box.left + f.box.right) / 2 / width, (f.box.top + f.box.bottom) / 2 / height))
                ]
                poor = [f.poor for f in held if f.poor]
                print(f"  {shot.label():<55} {len(held)} kept" + (f", {len(poor)} poor ({poor[0]})" if poor else ""))


if __name__ == "__main__":
    main()
