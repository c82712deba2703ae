"""From index hits to who a descriptor is: one candidate per person, "not this person" marks
applied, and the best match.

best_match() follows the strict "0.4-style" rule: the nearest person must be within the threshold
(Euclidean, default 0.4) - or within their own stricter threshold, when they have one (look-alikes,
twins) - AND clearly nearer than the second person (by ``min_margin``), or it is no match. A
personal threshold is never looser: the rule takes the smaller of the two. Per-person distances are
the distance to that person's nearest sample.
"""

from __future__ import annotations

import numpy as np

from core.errors import FaceGateError
from core.records import Candidate, Match

DEFAULT_THRESHOLD = 0.4
DEFAULT_MARGIN = 0.05


def per_person(
    ids: np.ndarray,
    distances: np.ndarray,
    owners: dict[int, int],
    names: dict[int, str],
    personal: dict[int, float] | None = None,
) -> list[Candidate]:
    """Collapse sample hits (nearest first) to one Candidate per person, nearest first, each with
    their personal threshold (``personal``: person id -> threshold, for those who have one)."""
    personal = personal or {}
    best: dict[int, Candidate] = {}
    for sid, dist in zip(ids.tolist(), distances.tolist(), strict=True):
        pid = owners.get(sid)
        if pid is None or pid in best:
            continue
        best[pid] = Candidate(pid, names.get(pid, f"#{pid}"), float(dist), sid, personal.get(pid))
    return sorted(best.values(), key=lambda c: c.distance)


def limit_of(candidate: Candidate, threshold: float) -> float:
    """The distance within which ``candidate`` may be named: the threshold, or their own when stricter."""
    return threshold if candidate.threshold is None else min(threshold, candidate.threshold)


def check_personal(value: float, door_threshold: float) -> float:
    """``value`` as a personal threshold, refused unless stricter than the door's (a personal
    threshold exists to keep a look-alike out, never to let anyone in more easily)."""
    if not 0 < value < door_threshold:
        raise FaceGateError(
            f"a personal threshold must be stricter than the door's {door_threshold:g}: between 0 and "
            f"{door_threshold:g}, not {value:g} (nothing was changed)"
        )
    return value


def drop_rejected(candidates: list[Candidate], probe: np.ndarray, negatives: dict[int, np.ndarray]) -> list[Candidate]:
    """Skip each person an operator said this face is not ("not this person").

    A person is skipped when the probe is nearer to one of the faces marked as not them than to
    their own nearest sample: the same wrongly-matched visitor lands next to their marked face,
    while the real person stays nearer to their own samples and is still recognised.
    """
    if not negatives:
        return candidates
    probe = np.asarray(probe, dtype=np.float32)
    kept = []
    for c in candidates:
        marked = negatives.get(c.person_id)
        if marked is not None and float(np.min(np.linalg.norm(marked - probe, axis=1))) < c.distance:
            continue
        kept.append(c)
    return kept


def best_match(candidates: list[Candidate], threshold: float = DEFAULT_THRESHOLD, min_margin: float = DEFAULT_MARGIN) -> Match:
    """The Match the threshold and margin rule gives for per-person candidates (nearest first).

    (Who may pass the door is decided elsewhere, over several matches: core.door.decide.)"""
    if not candidates:
        return Match(None, None, None, None, [], "the gallery is empty")
    first = candidates[0]
    margin = candidates[1].distance - first.distance if len(candidates) > 1 else None
    limit = limit_of(first, threshold)
    if first.distance > limit:
        own = f"{first.name}'s own threshold" if limit < threshold else "the threshold"
        return Match(
            None,
            None,
            first.distance,
            margin,
            candidates,
            f"nearest is {first.name} at {first.distance:.3f}, over {own} {limit:.2f}",
        )
    if margin is not None and margin < min_margin:
        return Match(
            None,
            None,
            first.distance,
            margin,
            candidates,
            f"{first.name} ({first.distance:.3f}) is not clearly nearer than {candidates[1].name} ({candidates[1].distance:.3f})",
        )
    return Match(first.name, first.person_id, first.distance, margin, candidates, f"{first.name} at {first.distance:.3f}")
