"""Would weighting the door's identifications by face quality change what it decides? The shared
recordings replayed through the door twice: with the rule as shipped (3 of the last 5 agree) and
with quality-weighted votes (prints figures; never a test).

    .venv/bin/python bench/quality_weight_bench.py [--footage /work/shared/data/footage] [--only one-photo|footage]

The weighted rule is fixed before any run, from the quality gates' own numbers
(core.vision.quality), so nothing here is tuned on the recordings it is scored on: each
identification's face gets a quality q in [0, 1], the mean of its size (60 px, the gate, to
120 px), its sharpness (25, the gate, to 100) and how frontal it is (45 degrees, the gate, to 0);
a good face (q >= 0.75) counts as two votes, a poor one (q < 0.25) as none, the rest as one, and
the shipped rule then runs on those votes (a good face counted twice fills two of the last five).

Measured without changing the product: the live loop is subclassed here to note the quality of
the face behind each identification (measured again from the same chip the loop described), and
the door's GrantPolicy is swapped for the weighted one for the second run. Recordings: the
one-photo recording of bench/one_photo_bench.py (its 14 one-photo people and 2 strangers) and
every shared recording of bench/footage_bench.py against its 26-person one-photo gallery.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.footage_bench import enroll_everyone, recordings  # noqa: E402
from bench.one_photo_bench import FOOTAGE, enrollment, segments, write  # noqa: E402
from core.door import decide  # noqa: E402
from core.door.policy import Decision, GrantPolicy, StandingOf  # noqa: E402
from core.live.loop import LiveRecognizer  # noqa: E402
from core.records import Match, Quality  # noqa: E402
from core.station import station  # noqa: E402
from core.vision.liveness import LivenessResult  # noqa: E402
from core.vision.quality import measure  # noqa: E402

#: id(match) -> the quality of the face it identified (set by the recording loop below)
QUALITY: dict[int, Quality] = {}


def score(q: Quality) -> float:
    """0 (at every gate's edge) to 1 (big, sharp, frontal)."""
    size = np.clip((q.size - 60) / 60, 0, 1)
    sharp = np.clip((q.sharpness - 25) / 75, 0, 1)
    frontal = np.clip(1 - abs(q.yaw) / 45, 0, 1)
    return float((size + sharp + frontal) / 3)


def votes(q: Quality | None) -> int:
    if q is None:
        return 1
    s = score(q)
    return 2 if s >= 0.75 else 0 if s < 0.25 else 1


class WeightedPolicy(GrantPolicy):
    """The shipped rule on quality-weighted votes: a good face's identification twice, a poor one's not at all."""

    def decide(self, track: int, matches: Sequence[Match], alive: LivenessResult | None, standing: StandingOf) -> Decision:
        weighted = [m for m in matches for _ in range(votes(QUALITY.get(id(m))))]
        return super().decide(track, weighted or list(matches[-1:]), alive, standing)


class QualityNoting(LiveRecognizer):
    """The live loop, noting the quality of the face behind each identification."""

    _pending: dict[tuple[int, int], Quality]

    def _submit(self, rgb: np.ndarray, track, frame: int) -> None:  # type: ignore[no-untyped-def]
        super()._submit(rgb, track, frame)
        if track.submitted_frame == frame:
            box = track.box.clipped(rgb.shape)
            chip, points = self.gallery.describer.chip(rgb, box)
            self.__dict__.setdefault("_pending", {})[(track.id, frame)] = measure(chip, box, track.detection, points)

    def _collect(self, frame: int) -> None:
        last = {t.id: (t.matches[-1] if t.matches else None) for t in self.tracker.tracks.values()}
        super()._collect(frame)
        for t in self.tracker.tracks.values():
            if t.matches and t.matches[-1] is not last.get(t.id):
                q = self.__dict__.get("_pending", {}).get((t.id, t.described_frame or -1))
                if q is not None:
                    QUALITY[id(t.matches[-1])] = q


def run(videos: list[tuple[Path, Path]], db: Path, describer, weighted: bool) -> dict[str, list[str]]:
    """Each shot's outcome, per recording: 'right', 'wrong' or 'unknown' (+ frames to name)."""
    from core.gallery.api import Gallery
    from core.live.worker import InlineWorker
    from core.station.eval_video import eval_video

    station.LiveRecognizer = QualityNoting  # type: ignore[misc]
    decide.GrantPolicy = WeightedPolicy if weighted else GrantPolicy  # type: ignore[misc]
    out: dict[str, list[str]] = {}
    for video, labels in videos:
        with Gallery(db, describer=describer, readonly=True) as g:
            result = eval_video(video, labels, g, worker=InlineWorker(describer))
        out[video.name] = [
            f"{r.shot} {r.outcome}" + (f" after {r.frames_to_name}" if r.frames_to_name is not None else "") for r in result.shots
        ]
        QUALITY.clear()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--footage", type=Path, default=FOOTAGE)
    ap.add_argument("--only", choices=("one-photo", "footage"), default=None)
    args = ap.parse_args()

    from core.gallery.api import Gallery
    from core.vision.describe import Describer

    describer = Describer()
    tmp = Path(tempfile.mkdtemp(prefix="quality_weight_"))
    sets: list[tuple[str, list[tuple[Path, Path]], Path]] = []
    if args.only in (None, "one-photo"):
        video, labels = write(segments(args.footage, describer), tmp)
        db = tmp / "one_photo.db"
        with Gallery(db, describer=describer) as g:
            for name, photo in enrollment(args.footage).items():
                g.enroll(name, [photo])
        sets.append(("one-photo recording", [(video, labels)], db))
    if args.only in (None, "footage"):
        db = tmp / "everyone.db"
        enroll_everyone(db, args.footage, describer)
        sets.append(("shared recordings", recordings(args.footage), db))
    for title, videos, db in sets:
        shipped, weighted = run(videos, db, describer, False), run(videos, db, describer, True)
        changed = 0
        print(f"== {title}")
        for name in shipped:
            for a, b in zip(shipped[name], weighted[name], strict=True):
                if a != b:
                    changed += 1
                    print(f"  {name}: shipped {a!r} -> weighted {b!r}")
        print(f"  shots: {sum(len(v) for v in shipped.values())}; changed by weighting: {changed}")
        for label, res in (("shipped", shipped), ("weighted", weighted)):
            counts = {k: sum(f" {k}" in s for v in res.values() for s in v) for k in ("right", "wrong", "unknown")}
            print(f"  {label}: {counts}")


if __name__ == "__main__":
    main()
