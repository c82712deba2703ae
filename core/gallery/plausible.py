"""Whether a face is plausibly a person's: the rule every path that teaches the gallery a camera
face asks before adding it as a sample of someone already enrolled (the review queue: the
Recent faces page and `facegate recent add`).

The distance is from the face to the person's nearest own sample. With one person enrolled every
face is "nearest them by a margin", so nearness to others cannot be the only guard:

- within the match threshold, the door would name them anyway: the face may be added;
- between the threshold and DIFFERENT_PEOPLE it may be them in new conditions (light, angle,
  glasses) or someone else: added only once an operator has looked at both faces and confirmed;
- beyond DIFFERENT_PEOPLE the two faces are different people: refused unless an admin forces it.

DIFFERENT_PEOPLE was measured on the shared data (bench/different_people_bench.py): where pairs
of photos of the same person stop and pairs of different people start.
"""

from __future__ import annotations

from dataclasses import dataclass

DIFFERENT_PEOPLE = 0.6

NEAR = "near"  # within the threshold: may be added
CONFIRM = "confirm"  # over the threshold: an operator must look and confirm
DIFFERENT = "different"  # beyond DIFFERENT_PEOPLE: only an admin may force it


@dataclass(frozen=True)
class Plausibility:
    """How far a face lies from a person's nearest sample, and what adding it therefore needs."""

    distance: float
    threshold: float
    different: float = DIFFERENT_PEOPLE

    @property
    def level(self) -> str:
        if self.distance <= self.threshold:
            return NEAR
        return CONFIRM if self.distance <= self.different else DIFFERENT

    @property
    def how(self) -> str:
        """How a face at this distance got in, for a sample's source: "", ", confirmed" or ", forced by an admin"."""
        return {NEAR: "", CONFIRM: ", confirmed", DIFFERENT: ", forced by an admin"}[self.level]

    def refusal(self, name: str, confirmed: bool = False, forced: bool = False) -> str | None:
        """None when the face may become a sample of ``name`` (given what the operator said),
        else why not, in words an operator can act on."""
        level = self.level
        if level == NEAR or (level == CONFIRM and (confirmed or forced)) or (level == DIFFERENT and forced):
            return None
        if level == CONFIRM:
            return (
                f"it is {self.distance:.3f} from {name}'s nearest sample, farther than the match threshold "
                f"{self.threshold:g}: it may be {name} in new light or pose, or someone else; "
                "look at both faces and confirm"
            )
        return (
            f"it is {self.distance:.3f} from {name}'s nearest sample, beyond {self.different:g}, "
            f"the distance at which two faces are different people: refused unless an admin forces it"
        )


def plausibility(distance: float, threshold: float, different: float = DIFFERENT_PEOPLE) -> Plausibility:
    """The rule for one face and one person (``distance`` to their nearest own sample). A gallery
    whose threshold is looser than ``different`` already names such faces: only the threshold counts."""
    return Plausibility(float(distance), float(threshold), float(max(different, threshold)))
