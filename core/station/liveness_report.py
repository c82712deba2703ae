"""An installer's presentation attack figures from recordings made at their own door, in ISO/IEC
30107-3 terms: every video of GENUINE_DIR (enrolled people walking up, as they will) and of
ATTACK_DIR (photos, phones, prints held up; one subfolder per kind, or the videos themselves as one
kind) replayed through the door exactly as ``facegate replay`` does (core.station.replay: the
gallery's own decision settings, a simulated door), with the screen and print check *required*,
so one pass says what each setting would do:

- **APCER** per attack folder: the share of attack presentations that unlocked the door with the
  check required, and (``motion only``) that showed a blink, a turn or talking while recognised, i.e.
  would have unlocked with the check off or advisory;
- **BPCER**: the share of genuine recordings that never unlocked (with the check required, and with
  the blink, turn or talking alone);
- each cue's pass rate per folder: blinked, turned, talked, texture "a live face", surroundings that
  did not move inside a still room (core.vision.surround: "still" or "no say"), and the room the
  door learned while its view was empty (core.vision.room: "in view", or no room learned; not
  "covered", nor "no body" under the face, nor "framed" (hidden beside the head), nor still "waiting" for enough of it) - only for
  recordings that start with a few seconds of the empty view, as a door sees its room;
- the texture score of each presentation (the median of its last scores, core.vision.texture),
  for a DET-style plot (core.tools.plots.save_det_plot): APCER against BPCER as its threshold moves.

A recording counts as one presentation, however many visits it holds: an attack succeeds if any
of its visits unlocked, a genuine recording fails if none did.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from core.door.policy import DecisionSettings
from core.door.verdict import Verdict
from core.gallery.api import Gallery
from core.live.loop import LiveSettings
from core.station.replay import replay
from core.station.visits import Visit

VIDEO_TYPES = {".mp4", ".avi", ".mov", ".mkv", ".mpg", ".mpeg", ".webm", ".gif", ".m4v"}
_MEDIAN = re.compile(r"screen and print check: [^(]*\(median ([+-]?[0-9.]+)")
#: the way a passing blink, turn or talking is said (core.vision.liveness)
_MOVED = ("blinked", "turned", "talked", "liveness cues all switched off")
#: how core.vision.surround's verdict is said, the one that refuses first
_AROUND = (("moves inside a still room", "picture"), ("still around the face", "still"), ("surroundings: no say", "no say"))
#: how core.vision.room's verdict is said, the one that refuses first ("no body" and "framed" are said after "in view")
_ROOM = (
    ("room: the view is covered", "covered"),
    ("no body under the face", "no body"),
    ("hidden beside the head", "framed"),
    ("room: waiting", "waiting"),
    ("room: none learned yet", "none learned"),  # a door set to need its room (DecisionSettings.room_required)
    ("room: in view", "in view"),
)
#: the door named an allowed person (one whose access mode asks for a PIN or card too)
_NAMED = (Verdict.GRANTED, Verdict.CHECKING_LIVENESS, Verdict.NO_LIVENESS, Verdict.AWAITING_PIN, Verdict.AWAITING_CARD)


@dataclass
class Presentation:
    """One recording: what the door did and what each cue said, over its visits."""

    video: str
    unlocked: bool  # with the screen and print check required
    moved: bool  # a recognised, allowed visit showed a blink, a turn or talking (unlocks with the check off)
    blinked: bool
    turned: bool
    talked: bool
    texture: str  # "real", "spoof", "waiting" (too few faces of 64 px) or "" (no face judged)
    score: float | None  # the texture median of the visit that got furthest
    surroundings: str  # "picture" (moved inside a still room), "still", "no say" or "" (never judged)
    room: str  # "covered", "no body", "framed", "waiting", "none learned", "in view" or "" (no room learned, or never judged)

    @classmethod
    def of(cls, video: str, visits: list[Visit]) -> Presentation:
        named = [v for v in visits if v.person is not None]  # not the strangers behind a held-up phone
        said = [v.liveness for v in named]
        moved = any(v.verdict in _NAMED and v.liveness.startswith(_MOVED) for v in named)
        scores = [float(m.group(1)) for m in (_MEDIAN.search(s) for s in said) if m]
        state = (
            "real"
            if any("a live face" in s for s in said)
            else "spoof"
            if scores
            else "waiting"
            if any("scored so far" in s for s in said)
            else ""
        )
        return cls(
            video,
            any(v.unlocked for v in visits),
            moved,
            any(s.startswith("blinked") for s in said),
            any(s.startswith("turned") for s in said),
            any(s.startswith("talked") for s in said),
            state,
            max(scores) if scores else None,
            next((around for words, around in _AROUND if any(words in s for s in said)), ""),
            next((room for words, room in _ROOM if any(words in s for s in said)), ""),
        )


def _passed(p: Presentation, what: str) -> bool:
    """Whether the cue ``what`` passed on ``p``: the surroundings pass unless they read a picture,
    the room when it was in view (or the door had none to judge by)."""
    if what == "texture":
        return p.texture == "real"
    if what == "surroundings":
        return p.surroundings in ("still", "no say")
    if what == "room":
        return p.room in ("in view", "")
    return bool(getattr(p, what))


@dataclass
class Group:
    """One folder's presentations and their rates (share of presentations, 0..1)."""

    name: str
    genuine: bool
    presentations: list[Presentation] = field(default_factory=list)

    def rate(self, what: str) -> float:
        n = len(self.presentations)
        return sum(_passed(p, what) for p in self.presentations) / n if n else 0.0

    def as_dict(self) -> dict:
        error = "bpcer" if self.genuine else "apcer"
        unlocked, moved = self.rate("unlocked"), self.rate("moved")
        return {
            "name": self.name,
            "genuine": self.genuine,
            "presentations": len(self.presentations),
            error: 1 - unlocked if self.genuine else unlocked,
            f"{error}_motion_only": 1 - moved if self.genuine else moved,
            "pass_rates": {cue: self.rate(cue) for cue in ("blinked", "turned", "talked", "texture", "surroundings", "room")},
            "videos": [asdict(p) for p in self.presentations],
        }

    def line(self) -> str:
        d = self.as_dict()
        error = "BPCER" if self.genuine else "APCER"
        value, motion = d[error.lower()], d[f"{error.lower()}_motion_only"]
        cues = ", ".join(f"{cue} {rate:.0%}" for cue, rate in d["pass_rates"].items())
        return (
            f"{self.name:<24} {len(self.presentations):>3} videos  {error} {value:6.1%} with the check required, "
            f"{motion:6.1%} blink/turn/talk alone; passed: {cues}"
        )


@dataclass
class LivenessReport:
    genuine: Group
    attacks: list[Group]

    def as_dict(self) -> dict:
        return {"genuine": self.genuine.as_dict(), "attacks": [g.as_dict() for g in self.attacks]}

    def text(self) -> str:
        head = "ISO/IEC 30107-3 (a recording = one presentation; the screen and print check required):"
        return "\n".join([head, self.genuine.line(), *(g.line() for g in self.attacks)])

    def det(self) -> list[tuple[float, float, float]]:
        """(threshold, APCER, BPCER) of the texture score over every attack and genuine recording
        that was scored: a presentation passes when its score reaches the threshold."""
        bona = [p.score for p in self.genuine.presentations if p.score is not None]
        bad = [p.score for g in self.attacks for p in g.presentations if p.score is not None]
        points = sorted({*bona, *bad})
        return [
            (t, sum(s >= t for s in bad) / len(bad) if bad else 0.0, sum(s < t for s in bona) / len(bona) if bona else 0.0)
            for t in points
        ]


def videos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_TYPES)


def liveness_report(
    genuine_dir: str | Path,
    attack_dir: str | Path,
    gallery: Gallery,
    live: LiveSettings | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> LivenessReport:
    """Replay every recording (see the module docstring); ``progress(i, n, name)`` after each."""
    genuine_dir, attack_dir = Path(genuine_dir), Path(attack_dir)
    for folder in (genuine_dir, attack_dir):
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: no such folder")
    kinds = [d for d in sorted(attack_dir.iterdir()) if d.is_dir() and videos(d)]
    groups = [Group(genuine_dir.name, True)] + [Group(d.name, False) for d in kinds]
    if videos(attack_dir):
        groups.append(Group(attack_dir.name, False))
    folders = [genuine_dir, *kinds] + ([attack_dir] if videos(attack_dir) else [])
    work = [(g, v) for g, folder in zip(groups, folders, strict=True) for v in videos(folder)]
    if not videos(genuine_dir) or len(groups) < 2:
        raise FileNotFoundError(f"no videos in {genuine_dir if not videos(genuine_dir) else attack_dir}")
    decision = replace(DecisionSettings.load_or_default(gallery.store)[0], liveness=True, screen_check="required")
    for i, (group, video) in enumerate(work):
        report = replay(video, gallery, live, decision)
        group.presentations.append(Presentation.of(video.name, report.visits))
        if progress is not None:
            progress(i + 1, len(work), video.name)
    return LivenessReport(groups[0], groups[1:])
