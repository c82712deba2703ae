"""`facegate eval-video`: a labelled recording replayed through the door, scored shot by shot.

The recording goes through ``core.station.replay`` (the window's own wiring, the gallery's door
settings, the video's clock), so the figures are what the door would have done. Each tracked face
is given to the labelled shot that holds it for most of its frames (core.station.labels); a shot
is then

- *right*: its person is enrolled and the door named them (the identifications agreed: granted,
  denied, or waiting for a liveness cue), and nobody else;
- *wrong*: the door named someone who is not there (a stranger or a CGI face named is a false accept);
- *unknown*: nobody named - the right outcome for a stranger, a miss for an enrolled person.

``frames to name`` counts from the first frame a face of the shot was tracked to the door's first
naming. ``unlocked`` says the simulated door was pulsed; a shot labelled not live (a photo, a
screen) that unlocks is an attack let in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.door.policy import DecisionSettings
from core.door.verdict import Verdict
from core.gallery.api import Gallery
from core.live.loop import FrameResult, LiveSettings
from core.station.labels import Shot, read_labels
from core.station.replay import replay

#: Verdicts that mean the door's identifications agreed on a person.
NAMED = (
    Verdict.GRANTED,
    Verdict.DENIED,
    Verdict.DENIED_SCHEDULE,
    Verdict.CHECKING_LIVENESS,
    Verdict.AWAITING_PIN,  # a person whose access mode asks for a PIN or card after the face
    Verdict.AWAITING_CARD,
    Verdict.NO_PIN,
    Verdict.NO_CARD,
    Verdict.LOCKED_OUT,
)
RIGHT, WRONG, UNKNOWN, NOT_SCORED = "right", "wrong", "unknown", "not scored"


@dataclass
class _Track:
    frames: list[tuple[int, tuple[float, float]]] = field(default_factory=list)  # frame, box centre (fractions)
    named: str | None = None
    named_frame: int | None = None
    others: set[str] = field(default_factory=set)  # any later, different name
    labels: set[str] = field(default_factory=set)  # every name the overlay gave it (may come before the door's)
    unlocked: bool = False
    nearest: float | None = None
    reason: str = ""


@dataclass
class ShotResult:
    shot: str  # the label, e.g. "0-74 grid_a"
    person: str
    expected: str | None  # who should be named: the person if enrolled, else nobody
    outcome: str  # right | wrong | unknown | not scored
    named: list[str]  # everyone the door named in this shot
    faces: int  # tracks given to this shot
    frames_to_name: int | None
    unlocked: bool
    live: bool
    nearest: float | None  # the smallest distance of any identification in the shot
    reason: str  # the door's last word on the shot's longest track
    labelled: list[str] = field(default_factory=list)  # everyone the overlay named in this shot

    def line(self) -> str:
        near = "-" if self.nearest is None else f"{self.nearest:.3f}"
        named = ", ".join(self.named) or "nobody"
        when = "" if self.frames_to_name is None else f" after {self.frames_to_name} frames"
        return (
            f"{self.shot:<40} {self.outcome.upper():<10} named {named}{when}; faces {self.faces}, nearest {near}"
            f"{'; UNLOCKED' if self.unlocked else ''}  ({self.reason})"
        )


@dataclass
class VideoEval:
    video: str
    labels: str
    frames: int
    shots: list[ShotResult]
    unlabelled: int  # tracks no labelled shot holds (a face the labels do not mention)

    def totals(self) -> dict:
        scored = [s for s in self.shots if s.outcome != NOT_SCORED]
        enrolled = [s for s in scored if s.expected is not None]
        strangers = [s for s in scored if s.expected is None]
        times = sorted(s.frames_to_name for s in enrolled if s.outcome == RIGHT and s.frames_to_name is not None)
        return {
            "shots": len(scored),
            "enrolled_shots": len(enrolled),
            "named_right": sum(s.outcome == RIGHT for s in enrolled),
            "named_wrong": sum(s.outcome == WRONG for s in scored),
            "unknown": sum(s.outcome == UNKNOWN for s in enrolled),
            "stranger_shots": len(strangers),
            "strangers_named": sum(s.outcome == WRONG for s in strangers),
            "unlocked": sum(s.unlocked for s in scored),
            "attacks_unlocked": sum(s.unlocked and not s.live for s in scored),
            "median_frames_to_name": times[len(times) // 2] if times else None,
            # the window's overlay names a face before the door decides: it must never name anyone else either
            "overlay_wrong": sum(any(n != s.expected for n in s.labelled) for s in scored),
            "unlabelled_faces": self.unlabelled,
        }

    def as_dict(self) -> dict:
        return {
            "video": self.video,
            "labels": self.labels,
            "frames": self.frames,
            "shots": [asdict(s) for s in self.shots],
            "totals": self.totals(),
        }

    def text(self) -> str:
        t = self.totals()
        lines = [s.line() for s in self.shots]
        lines.append(
            f"{self.frames} frames; enrolled people's shots: {t['named_right']} of {t['enrolled_shots']} named right, "
            f"{t['unknown']} unknown; named wrong: {t['named_wrong']} (strangers named: {t['strangers_named']} of "
            f"{t['stranger_shots']}); unlocked {t['unlocked']} (attacks {t['attacks_unlocked']}); median frames to "
            f"name {t['median_frames_to_name'] if t['median_frames_to_name'] is not None else '-'}; "
            f"overlay named wrong: {t['overlay_wrong']}; "
            f"faces outside the labels {t['unlabelled_faces']}"
        )
        return "\n".join(lines)


class ShotScorer:
    """Fed every replayed frame (replay's ``on_frame``); ``score`` gives each shot its outcome."""

    def __init__(self, shots: list[Shot], enrolled: list[str]) -> None:
        """``enrolled``: the gallery's names (a label matches one whatever its case, as the gallery does)."""
        self.shots = shots
        self.enrolled = {name.casefold(): name for name in enrolled}
        self._tracks: dict[int, _Track] = {}

    def observe(self, index: int, result: FrameResult, shape: tuple[int, int]) -> None:
        height, width = shape
        for view in result.tracks:
            t = self._tracks.setdefault(view.id, _Track())
            b = view.box
            t.frames.append((index, ((b.left + b.right) / 2 / width, (b.top + b.bottom) / 2 / height)))
            if view.distance is not None and (t.nearest is None or view.distance < t.nearest):
                t.nearest = float(view.distance)
            if view.name:
                t.labels.add(view.name)
            d = view.decision
            if d is None:
                continue
            t.reason = d.reason
            if d.verdict in NAMED and d.person:
                if t.named is None:
                    t.named, t.named_frame = d.person, index
                elif d.person != t.named:
                    t.others.add(d.person)
            t.unlocked = t.unlocked or d.door == "unlocking"

    def _shot_of(self, track: _Track) -> int | None:
        counts = [sum(shot.holds(f, c) for f, c in track.frames) for shot in self.shots]
        best = max(range(len(counts)), key=lambda i: counts[i]) if counts else None
        return best if best is not None and counts[best] > 0 else None

    def score(self) -> tuple[list[ShotResult], int]:
        given: dict[int, list[_Track]] = {i: [] for i in range(len(self.shots))}
        unlabelled = 0
        for track in self._tracks.values():
            i = self._shot_of(track)
            if i is None:
                unlabelled += 1
            else:
                given[i].append(track)
        return [self._result(shot, given[i]) for i, shot in enumerate(self.shots)], unlabelled

    def _result(self, shot: Shot, tracks: list[_Track]) -> ShotResult:
        expected = next((self.enrolled[n.casefold()] for n in shot.names if n.casefold() in self.enrolled), None)
        named = sorted({n for t in tracks for n in ({t.named} | t.others) if n})
        if not shot.scored:
            outcome = NOT_SCORED
        elif any(n != expected for n in named):
            outcome = WRONG
        elif expected is not None and expected in named:
            outcome = RIGHT
        else:
            outcome = UNKNOWN
        first_seen = min((f for t in tracks for f, _ in t.frames), default=None)
        first_named = min((t.named_frame for t in tracks if t.named_frame is not None and t.named == expected), default=None)
        to_name = None if first_named is None or first_seen is None or outcome != RIGHT else first_named - first_seen
        nearest = min((t.nearest for t in tracks if t.nearest is not None), default=None)
        longest = max(tracks, key=lambda t: len(t.frames), default=None)
        return ShotResult(
            shot.label(),
            shot.person,
            expected,
            outcome,
            named,
            len(tracks),
            to_name,
            any(t.unlocked for t in tracks),
            shot.live,
            None if nearest is None else round(nearest, 4),
            longest.reason if longest else "no face tracked",
            sorted({n for t in tracks for n in t.labels}),
        )


def eval_video(
    video: str | Path,
    labels: str | Path,
    gallery: Gallery,
    live: LiveSettings | None = None,
    decision: DecisionSettings | None = None,
    worker: Any = None,
    threshold: float | None = None,
    log: bool = False,
) -> VideoEval:
    """Replay ``video`` through the door with ``gallery`` and score it against ``labels``; read-only
    unless ``log`` (the access log, the review queue and learning mode then see the visits)."""
    shots = read_labels(labels)
    scorer = ShotScorer(shots, [p.name for p in gallery.people()])
    report = replay(video, gallery, live, decision, log=log, worker=worker, threshold=threshold, on_frame=scorer.observe)
    results, unlabelled = scorer.score()
    return VideoEval(str(video), str(labels), report.frames, results, unlabelled)
