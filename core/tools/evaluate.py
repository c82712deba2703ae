"""How well does recognition work on *your* people? precision@k, open-set FAR, GAR, a threshold to use.

    >>> photos = describe_folder("people/", gallery.describer, gallery.detector)
    >>> report = evaluate(photos, rounds=5, seed=0)
    >>> report.p_at[1], report.recommended, save_plot(report, "far_frr.png")

A folder holds one subfolder per person, or files named ``<person>.<anything>`` (files are
recognised as images by their content, so ``obama.1`` works). Every readable photo is described
once (its largest face); all the rounds then run on the descriptors, so more rounds cost little.

What is measured (all distances Euclidean, per person = distance to that person's nearest image):

- Splits: in each round, ``probes_per_person`` photos of every person with two or more photos
  are drawn as probes (seeded: the same seed gives the same probes); all other photos form the
  gallery. People with a single photo cannot be split; they are listed as not splittable and
  their photo stays in the gallery as a distractor.
- ``no_face``: the share of probes in which no face was found. Such probes count in no rate below.
- ``p_at[k]``: the share of probes (with a face) whose person is among the k nearest people.
- ``genuine_accept_rate(t)``: the share of probes (with a face) whose nearest person is their own
  and within t; the false reject rate is 1 minus it.
- ``false_accept_rate(t)`` (open set): each person in turn is left out of the gallery, and each of
  their photos is matched against everyone else; the share of those attempts whose nearest person
  is within t. This is what a stranger at the door risks.
- ``recommended``: the largest threshold whose FAR is at most ``target_far``.
- In NIST's 1:N terms (FRVT identification): the FAR above is the false positive identification
  rate (FPIR: a stranger searched against a gallery of N-1 people comes back with someone within
  the threshold), 1 - GAR the false negative identification rate (FNIR: the mate is not the
  nearest within the threshold). ``fnir_at_target`` is the FNIR at the recommended threshold, for
  this gallery's size N (FPIR grows with N: a bigger gallery needs its own measurement).

Evaluating the app's own gallery works the same way with leave-one-sample-out: every sample of a
person with two or more samples is a probe once, against all other samples.
"""

from __future__ import annotations

import csv
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import FaceGateError
from core.gallery.store import Store
from core.records import DESCRIPTOR_DIM, Skipped, skipped_json
from core.vision.describe import Describer
from core.vision.detection import Detector
from core.vision.images import load_image
from core.vision.quality import QualitySettings

#: Thresholds reported, 0.20 to 0.80 in steps of 0.01.
THRESHOLDS = tuple(round(0.2 + 0.01 * i, 2) for i in range(61))
DEFAULT_TARGET_FAR = 0.01
RANKS = (1, 2, 5)


class Cancelled(FaceGateError):
    """The user stopped a long job; nothing was changed."""


@dataclass
class EvalImage:
    """One photo of a person; ``descriptor`` is None when no face was found in it."""

    person: str
    source: str
    descriptor: np.ndarray | None = field(default=None, repr=False)


@dataclass
class EvalSet:
    """Described photos, and the files that could not be used with the reason for each."""

    images: list[EvalImage]
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class ThresholdRow:
    threshold: float
    false_accept_rate: float
    genuine_accept_rate: float

    @property
    def false_reject_rate(self) -> float:
        return 1.0 - self.genuine_accept_rate


@dataclass
class EvalReport:
    mode: str  # "split" (a folder, probe/gallery rounds) or "leave-one-out" (an enrolled gallery)
    people: int
    images: int
    not_splittable: list[str]
    probes: int
    no_face: float
    p_at: dict[int, float]
    thresholds: list[ThresholdRow]
    impostor_attempts: int
    recommended: float | None
    target_far: float
    rounds: int
    seed: int | None
    probe_rounds: list[list[str]] = field(default_factory=list)  # the probes' sources, per round
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def caution(self) -> str:
        """A warning when there are too few impostor attempts for the target FAR to mean much."""
        if 0 < self.impostor_attempts < 1 / self.target_far:
            return (
                f"caution: {self.impostor_attempts} impostor attempts cannot measure a FAR of "
                f"{self.target_far:g} (one false accept is {1 / self.impostor_attempts:.1%}); "
                "add photos of more people before trusting the recommendation"
            )
        return ""

    def row(self, threshold: float) -> ThresholdRow:
        return min(self.thresholds, key=lambda r: abs(r.threshold - threshold))

    @property
    def fnir_at_target(self) -> float | None:
        """FNIR at the recommended threshold (where FPIR <= target_far), None without one."""
        return None if self.recommended is None else round(self.row(self.recommended).false_reject_rate, 4)


# -- reading a folder of people -----------------------------------------------------------------
def collect(folder: str | Path) -> list[tuple[str, Path]]:
    """(person, file) for every candidate file: subfolders name people, loose files are ``<person>.<rest>``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FaceGateError(f"{folder}: is not a folder (one subfolder per person, or files named person.jpg)")
    out = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            out += [(entry.name, f) for f in sorted(entry.iterdir()) if f.is_file() and not f.name.startswith(".")]
        elif entry.is_file():
            out.append((entry.name.split(".", 1)[0], entry))
    if not out:
        raise FaceGateError(f"{folder}: holds no photos (one subfolder per person, or files named person.jpg)")
    return out


def describe_folder(
    folder: str | Path,
    describer: Describer,
    detector: Detector,
    on_progress: Callable[[int, int, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    quality: QualitySettings | None = None,
) -> EvalSet:
    """Describe the largest face of every photo in ``folder`` (none when it fails the quality gates,
    as at the door: it counts as a photo with no face); unreadable files are skipped with the reason."""
    files = collect(folder)
    started = time.perf_counter()
    images, skipped = [], []
    for i, (person, path) in enumerate(files):
        if should_stop is not None and should_stop():
            raise Cancelled("evaluation cancelled; nothing was changed")
        try:
            rgb = load_image(path)
        except FaceGateError as exc:
            skipped.append((str(path), getattr(exc, "reason", str(exc))))
        else:
            found = detector.find(rgb)
            largest = max(found, key=lambda d: d.box.area) if found else None
            face = (
                describer.describe(rgb, largest, quality or QualitySettings()) if largest else None
            )  # failing the gates: no descriptor
            images.append(EvalImage(person, str(path), face.descriptor if face else None))
        if on_progress is not None:
            on_progress(i + 1, len(files), str(path))
    return EvalSet(images, skipped, time.perf_counter() - started)


def gallery_set(store: Store) -> EvalSet:
    """An enrolled gallery's samples as an EvalSet (every sample has its descriptor)."""
    names = {p.id: p.name for p in store.people()}
    return EvalSet([EvalImage(names[s.person_id], s.source or f"sample {s.id}", s.descriptor) for s in store.samples()])


# -- scoring --------------------------------------------------------------------------------------
def evaluate(
    photos: EvalSet,
    rounds: int = 5,
    seed: int = 0,
    probes_per_person: int = 1,
    target_far: float = DEFAULT_TARGET_FAR,
    thresholds: tuple[float, ...] = THRESHOLDS,
) -> EvalReport:
    """Score a described folder over ``rounds`` seeded probe/gallery splits (see the module doc)."""
    if rounds < 1 or probes_per_person < 1:
        raise FaceGateError("rounds and probes per person must be at least 1")
    by_person = _by_person(photos.images)
    rng = random.Random(seed)
    splits = []
    for _ in range(rounds):
        probes = []
        for idx in by_person.values():
            if len(idx) >= 2:
                probes += sorted(rng.sample(idx, min(probes_per_person, len(idx) - 1)))
        splits.append(probes)
    return _score(photos, splits, "split", rounds, seed, target_far, thresholds)


def evaluate_gallery(
    store: Store, target_far: float = DEFAULT_TARGET_FAR, thresholds: tuple[float, ...] = THRESHOLDS
) -> EvalReport:
    """Leave-one-sample-out over an enrolled gallery: each sample in turn probes all the others."""
    photos = gallery_set(store)
    by_person = _by_person(photos.images)
    splits = [[i] for idx in by_person.values() if len(idx) >= 2 for i in idx]
    return _score(photos, splits, "leave-one-out", len(splits), None, target_far, thresholds)


def _by_person(images: list[EvalImage]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, img in enumerate(images):
        out.setdefault(img.person, []).append(i)
    return out


def _score(
    photos: EvalSet,
    splits: list[list[int]],
    mode: str,
    rounds: int,
    seed: int | None,
    target_far: float,
    thresholds: tuple[float, ...],
) -> EvalReport:
    images = photos.images
    if not any(splits):
        single = sorted({img.person for img in images})
        skipped = "; ".join(f"{f}: {r}" for f, r in photos.skipped[:5])
        raise FaceGateError(
            "nothing to evaluate: no person has two usable photos"
            + (f" (a single photo: {', '.join(single[:10])})" if single else "")
            + (f"; skipped {len(photos.skipped)} file(s): {skipped}" if photos.skipped else "")
        )
    names = sorted({img.person for img in images})
    label = np.array([names.index(img.person) for img in images], np.int64)
    has_face = np.array([img.descriptor is not None for img in images], bool)
    mat = (
        np.stack(
            [img.descriptor if img.descriptor is not None else np.zeros(DESCRIPTOR_DIM, np.float32) for img in images]
        ).astype(np.float32)
        if images
        else np.empty((0, DESCRIPTOR_DIM), np.float32)
    )
    by_person = _by_person(images)

    ranks, nearest_ok, nearest_d, no_face = [], [], [], 0
    for probes in splits:
        in_gallery = has_face.copy()
        in_gallery[probes] = False
        for p in probes:
            if not has_face[p]:
                no_face += 1
                continue
            per_person = _nearest_per_person(mat, label, in_gallery, p, len(names))
            order = np.argsort(per_person, kind="stable")
            own = label[p]
            ranks.append(int(np.nonzero(order == own)[0][0]) + 1 if np.isfinite(per_person[own]) else len(names) + 1)
            nearest_ok.append(order[0] == own and np.isfinite(per_person[own]))
            nearest_d.append(float(per_person[order[0]]))
    probes_total = sum(len(s) for s in splits)
    described = len(ranks)
    ranks_a, ok_a, d_a = np.array(ranks), np.array(nearest_ok, bool), np.array(nearest_d)

    impostor = []  # each person left out: their photos against everyone else
    for i in np.nonzero(has_face)[0]:
        others = has_face & (label != label[i])
        if others.any():
            impostor.append(float(np.min(np.linalg.norm(mat[others] - mat[i], axis=1))))
    imp_a = np.array(impostor)

    rows = [
        ThresholdRow(
            t, float(np.mean(imp_a <= t)) if len(imp_a) else 0.0, float(np.mean(ok_a & (d_a <= t))) if described else 0.0
        )
        for t in thresholds
    ]
    ok_rows = [r.threshold for r in rows if len(imp_a) and r.false_accept_rate <= target_far]
    return EvalReport(
        mode=mode,
        people=len(names),
        images=len(images),
        not_splittable=sorted(n for n, idx in by_person.items() if len(idx) < 2),
        probes=probes_total,
        no_face=no_face / probes_total if probes_total else 0.0,
        p_at={k: float(np.mean(ranks_a <= k)) if described else 0.0 for k in RANKS},
        thresholds=rows,
        impostor_attempts=len(impostor),
        recommended=max(ok_rows) if ok_rows else None,
        target_far=target_far,
        rounds=rounds,
        seed=seed,
        probe_rounds=[[images[p].source for p in s] for s in splits] if mode == "split" else [],
        skipped=list(photos.skipped),
    )


def _nearest_per_person(mat: np.ndarray, label: np.ndarray, in_gallery: np.ndarray, probe: int, people: int) -> np.ndarray:
    """Distance from the probe to each person's nearest gallery image (inf for people with none)."""
    best = np.full(people, np.inf)
    if in_gallery.any():
        dist = np.linalg.norm(mat[in_gallery] - mat[probe], axis=1)
        np.minimum.at(best, label[in_gallery], dist)
    return best


# -- output -----------------------------------------------------------------------------------------
def report_json(report: EvalReport) -> dict:
    """The report as one JSON-able object (``facegate eval --json``)."""
    return {
        "mode": report.mode,
        "people": report.people,
        "images": report.images,
        "probes": report.probes,
        "rounds": report.rounds,
        "seed": report.seed,
        **{f"p_at_{k}": round(v, 4) for k, v in report.p_at.items()},
        "no_face": round(report.no_face, 4),
        "not_splittable": report.not_splittable,
        "impostor_attempts": report.impostor_attempts,
        "target_far": report.target_far,
        "recommended_threshold": report.recommended,
        "gallery_size": report.people,
        "fpir_target": report.target_far,
        "fnir_at_target": report.fnir_at_target,
        "caution": report.caution or None,
        "thresholds": [
            {
                "threshold": r.threshold,
                "false_accept_rate": round(r.false_accept_rate, 4),
                "genuine_accept_rate": round(r.genuine_accept_rate, 4),
                "false_reject_rate": round(r.false_reject_rate, 4),
            }
            for r in report.thresholds
        ],
        "skipped": skipped_json(report.skipped),
    }


TABLE_COLUMNS = ("threshold", "false_accept_rate", "genuine_accept_rate", "false_reject_rate")


def save_table(report: EvalReport, path: str | Path) -> Path:
    """The threshold table as CSV (TABLE_COLUMNS, one row per threshold); the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(TABLE_COLUMNS)
        for r in report.thresholds:
            writer.writerow(
                [f"{r.threshold:.2f}", f"{r.false_accept_rate:.4f}", f"{r.genuine_accept_rate:.4f}", f"{r.false_reject_rate:.4f}"]
            )
    return path


def report_summary(report: EvalReport) -> list[str]:
    """The headline lines of a report (what was measured, p@k, who cannot be split, the advice)."""
    lines = [
        f"{report.people} people, {report.images} photos, {report.probes} probes "
        f"({report.mode}, {report.rounds} round(s){'' if report.seed is None else f', seed {report.seed}'})",
        "precision@k: "
        + "  ".join(f"p@{k} {v:.3f}" for k, v in report.p_at.items())
        + f"   no face found in {report.no_face:.1%} of probes",
    ]
    if report.not_splittable:
        lines.append("not splittable (a single photo): " + ", ".join(report.not_splittable))
    lines.append(
        f"recommended threshold for FAR <= {report.target_far:g}: "
        + (f"{report.recommended:.2f}" if report.recommended is not None else "none (too few people to measure false accepts)")
    )
    if report.recommended is not None:
        at = report.row(report.recommended)
        lines.append(
            f"1:N (N = {report.people} people, each searched against the other {report.people - 1}): "
            f"FNIR {at.false_reject_rate:.3f} at FPIR {at.false_accept_rate:.4f} (target <= {report.target_far:g}), "
            f"threshold {report.recommended:.2f}"
        )
    if report.caution:
        lines.append(report.caution)
    return lines


def report_text(report: EvalReport, step: float = 0.05) -> str:
    """The summary, the threshold table (every ``step``) and the skipped files, for people to read."""
    lines = report_summary(report)
    lines.append(f"{'threshold':>9}  {'FAR':>6}  {'GAR':>6}  {'FRR':>6}   ({report.impostor_attempts} impostor attempts)")
    every = max(1, round(step / 0.01))
    for i, r in enumerate(report.thresholds):
        if i % every == 0:
            lines.append(
                f"{r.threshold:>9.2f}  {r.false_accept_rate:>6.3f}  {r.genuine_accept_rate:>6.3f}  {r.false_reject_rate:>6.3f}"
            )
    lines += [f"skipped {f}: {r}" for f, r in report.skipped]
    return "\n".join(lines)
