"""Head pose (yaw, pitch, roll in degrees) from 68 landmarks with ``cv2.solvePnP``.

Six landmarks (nose tip, chin, outer eye corners, mouth corners) are matched to a generic 3-D face
(the widely used template from Mallick, "Head Pose Estimation using OpenCV and Dlib", 2016, in
arbitrary units) under a pinhole camera whose focal length is the image width and whose centre is
the image centre. The template is written in camera axes (x right, y down, z away from the camera),
so a face looking straight into the lens has rotation ≈ identity and pose ≈ (0, 0, 0).

Sign conventions, as seen in the image:

* ``yaw`` > 0: the nose points towards the image's right (the subject turns to their left);
* ``pitch`` > 0: the nose points up (chin raised);
* ``roll`` > 0: the head is tilted clockwise (the eye on the image's right is lower).

A mirror image flips the signs of yaw and roll. The template is generic, so expect a few degrees
of bias on any one face (e.g. a long chin reads as a little pitch); differences are reliable.
"""

from __future__ import annotations

import cv2
import numpy as np

POSE_POINTS = (30, 8, 36, 45, 48, 54)  # nose tip, chin, outer eye corners, mouth corners
TEMPLATE = np.array(
    [
        (0.0, 0.0, 0.0),  # nose tip
        (0.0, 330.0, 65.0),  # chin
        (-225.0, -170.0, 135.0),  # outer corner of the image-left eye
        (225.0, -170.0, 135.0),  # outer corner of the image-right eye
        (-150.0, 150.0, 125.0),  # image-left mouth corner
        (150.0, 150.0, 125.0),  # image-right mouth corner
    ]
)


def camera_matrix(width: int, height: int) -> np.ndarray:
    """Pinhole intrinsics guessed from the image size: focal ≈ width, centre = image centre."""
    f = float(width)
    return np.array([[f, 0.0, width / 2], [0.0, f, height / 2], [0.0, 0.0, 1.0]])


def head_pose(landmarks: np.ndarray, width: int, height: int) -> dict[str, float]:
    """``{"yaw", "pitch", "roll"}`` in degrees for 68 landmarks in an image of this size."""
    image_points = np.asarray(landmarks, dtype=np.float64)[list(POSE_POINTS)]
    camera = camera_matrix(width, height)
    # Start from a frontal face at the distance its eye span implies: keeps the iterative solver
    # away from the mirrored solution that small point sets sometimes fall into.
    eye_span = max(float(np.linalg.norm(image_points[3] - image_points[2])), 1.0)
    depth = camera[0, 0] * (TEMPLATE[3, 0] - TEMPLATE[2, 0]) / eye_span
    centre = image_points[0]
    tvec = np.array([[(centre[0] - camera[0, 2]) * depth / camera[0, 0]],
                     [(centre[1] - camera[1, 2]) * depth / camera[1, 1]], [depth]])
    rvec = np.zeros((3, 1))
    ok, rvec, tvec = cv2.solvePnP(TEMPLATE, image_points, camera, None, rvec, tvec,
                                  useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        raise ValueError("solvePnP found no head pose for these landmarks")
    return euler_angles(cv2.Rodrigues(rvec)[0])


def euler_angles(rotation: np.ndarray) -> dict[str, float]:
    """Yaw, pitch, roll (degrees, conventions above) of a face-to-camera rotation matrix.

    ``rotation = Rz(roll) @ Ry(-yaw) @ Rx(-pitch)`` in camera axes; the minus signs turn the
    right-handed angles about y (down) and x (right) into "nose right" and "nose up".
    """
    r = rotation
    about_y = np.degrees(np.arcsin(np.clip(-r[2, 0], -1.0, 1.0)))
    about_x = np.degrees(np.arctan2(r[2, 1], r[2, 2]))
    about_z = np.degrees(np.arctan2(r[1, 0], r[0, 0]))
    return {"yaw": float(-about_y), "pitch": float(-about_x), "roll": float(about_z)}
