"""Which way a head is turned, from its 68 landmarks: yaw and pitch in degrees.

A generic head (the six points every head-pose tutorial uses: nose tip, chin, outer eye corners,
mouth corners, in mm) is fitted to the landmarks with OpenCV's solvePnP under a pinhole camera
whose focal length is the frame width. Good to a few degrees, which is all that naming a pose
("a little left") needs; it knows nothing of a particular face, so pitch is judged against the
same person's straight pose.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# x right, y down, z away from the camera, origin at the nose tip (image-like axes).
_MODEL = np.array(
    [(0.0, 0.0, 0.0), (0.0, 66.0, 13.0), (-45.0, -34.0, 27.0), (45.0, -34.0, 27.0), (-30.0, 30.0, 25.0), (30.0, 30.0, 25.0)]
)
_POINTS = [30, 8, 36, 45, 48, 54]  # the same six among dlib's 68

POSES = ("straight", "left", "right", "up", "down")


@dataclass(frozen=True)
class HeadPose:
    yaw: float  # degrees; positive: the face turned towards the right of the picture
    pitch: float  # degrees; positive: the chin up

    def name(
        self, straight_pitch: float | None = None, turn: float = 15.0, straight: float = 15.0, nod: float = 10.0
    ) -> str | None:
        """'straight', 'left', 'right', 'up' or 'down' (left/right as seen in the picture), or None
        when between poses. Up and down need the person's straight pitch to compare with."""
        if turn < abs(self.yaw) <= 50:
            return "right" if self.yaw > 0 else "left"
        if abs(self.yaw) > straight or straight_pitch is None:
            return "straight" if straight_pitch is None and abs(self.yaw) <= straight else None
        lift = self.pitch - straight_pitch
        if abs(lift) <= nod / 2:
            return "straight"
        if abs(lift) >= nod:
            return "up" if lift > 0 else "down"
        return None


def head_pose(points: np.ndarray, frame_width: int) -> HeadPose:
    """The head pose for 68 landmarks (x, y) of one face in a frame ``frame_width`` px wide."""
    f = float(frame_width)
    camera = np.array([[f, 0, f / 2], [0, f, f / 2], [0, 0, 1]])
    image = np.asarray(points, dtype=np.float64)[_POINTS]
    _, rvec, _ = cv2.solvePnP(_MODEL, image, camera, None, flags=cv2.SOLVEPNP_ITERATIVE)
    rot, _ = cv2.Rodrigues(rvec)
    yaw = float(np.degrees(np.arcsin(np.clip(-rot[2, 0], -1, 1))))
    pitch = float(np.degrees(np.arctan2(rot[2, 1], rot[2, 2])))
    return HeadPose(-yaw, pitch)
