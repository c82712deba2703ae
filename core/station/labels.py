"""Ground truth for a recording: who is where, frame by frame (a label CSV per video).

One row per *shot*: a person (or ``nobody``) on screen from frame ``first`` to ``last``, both
included, optionally inside a region of the picture (fractions of its width and height, so the
labels hold for any resolution), and whether the face is a live person (``live`` no: a photo or
a screen held up, which the door must never let in)::

    # who is where in grid-talkers/pwij3p.mpg
    first,last,person,left,top,right,bottom,live
    0,74,grid_a,,,,,yes

``person`` is the name the person is (or would be) enrolled under, or several names separated by
``|`` when galleries spell them differently (``lin_manuel_miranda|Lin-Manuel``). ``nobody`` says no enrolled
person can be there (a CGI face, a stranger); ``?`` marks a face the labeller could not name
(an out-of-focus audience): reported, never scored. A person not enrolled in the gallery the
recording is judged against is a stranger there: the right outcome is that nobody is named.
Lines starting with ``#`` are comments. Bad rows are refused with their line number.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from core.errors import FaceGateError

NOBODY = "nobody"
UNLABELLED = "?"
COLUMNS = ("first", "last", "person", "left", "top", "right", "bottom", "live")


class LabelError(FaceGateError):
    """A label file that cannot be read as shots."""


@dataclass(frozen=True)
class Shot:
    first: int
    last: int
    person: str
    region: tuple[float, float, float, float] | None = None  # left, top, right, bottom as fractions
    live: bool = True

    @property
    def names(self) -> list[str]:
        """The names this person may be enrolled under."""
        return [] if self.person in (NOBODY, UNLABELLED) else self.person.split("|")

    @property
    def scored(self) -> bool:
        return self.person != UNLABELLED

    def holds(self, frame: int, centre: tuple[float, float]) -> bool:
        """The face whose box centre (fractions of the picture) is ``centre`` in ``frame`` is this shot's."""
        if not self.first <= frame <= self.last:
            return False
        if self.region is None:
            return True
        left, top, right, bottom = self.region
        return left <= centre[0] <= right and top <= centre[1] <= bottom

    def label(self) -> str:
        where = "" if self.region is None else " in (" + ", ".join(f"{v:.2f}" for v in self.region) + ")"
        return f"{self.first}-{self.last} {self.person}{where}{'' if self.live else ' (not live)'}"


def read_labels(path: str | Path) -> list[Shot]:
    """The shots of a label CSV, in file order."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelError(f"{path}: cannot read the labels ({exc})") from exc
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise LabelError(f"{path}: no shots (expected a header {','.join(COLUMNS)} and one row per shot)")
    header = [c.strip() for c in next(csv.reader([numbered[0][1]]))]
    if tuple(header[:3]) != COLUMNS[:3] or any(c not in COLUMNS for c in header):
        raise LabelError(f"{path}:{numbered[0][0]}: the header must be {','.join(COLUMNS)} (the last five optional)")
    shots = []
    for n, line in numbered[1:]:
        row = dict(zip(header, (c.strip() for c in next(csv.reader([line]))), strict=False))
        try:
            shots.append(_shot(row))
        except (ValueError, KeyError) as exc:
            raise LabelError(f"{path}:{n}: {exc}") from exc
    if not shots:
        raise LabelError(f"{path}: a header but no shots")
    return shots


def _shot(row: dict[str, str]) -> Shot:
    first, last, person = int(row["first"]), int(row["last"]), row["person"]
    if first < 0 or last < first:
        raise ValueError(f"frames {first}-{last}: first must be >= 0 and last >= first")
    if not person:
        raise ValueError("no person (a name, 'nobody' or '?')")
    corners = [row.get(c, "") for c in ("left", "top", "right", "bottom")]
    region = None
    if any(corners):
        if not all(corners):
            raise ValueError("a region needs all of left, top, right, bottom (or none)")
        left, top, right, bottom = (float(c) for c in corners)
        if not (0 <= left < right <= 1 and 0 <= top < bottom <= 1):
            raise ValueError(f"region {left},{top},{right},{bottom}: fractions of the picture, left < right, top < bottom")
        region = (left, top, right, bottom)
    live = row.get("live", "") or "yes"
    if live not in ("yes", "no"):
        raise ValueError(f"live is yes or no, not {live!r}")
    return Shot(first, last, person, region, live == "yes")
