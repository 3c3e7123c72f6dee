"""A simulated selfie as the generator sees it: degraded, then aligned again by the face pipeline.

In production a selfie reaches the generator as its aligned crop: the face pipeline finds the
landmarks and warps eyes and mouth to the canonical positions. That undoes most of an off-centre,
tilted or zoomed framing; what is left is the landmark error on a poor photo. A corpus portrait made
casual by ``degrade`` must go through the same alignment, or the generator is asked to re-frame the
face itself, a global warp a small UNet does badly (doubled eyes and mouths) and one production
never asks of it. ``simulated_selfie`` does both steps; the evaluation, the demo and the metric
snapshots use it. No Django.
"""

from __future__ import annotations

import cv2
import numpy as np

from generation.ml.align import align_face
from generation.ml.degrade import degrade
from generation.ml.faces import DlibHogDetector, face_landmarks

DETECT_SIDE = 256  # crops are enlarged to this before detection: HOG's window is 80 px


def realign(casual: np.ndarray, size: int, detector: DlibHogDetector | None = None
            ) -> tuple[np.ndarray, bool]:
    """``casual`` (H×W×3 uint8) aligned by its own landmarks into ``size`` × ``size``.

    Returns ``(image, True)``, or ``(casual resized, False)`` when no face is found: the pipeline
    would have nothing to align by, and the frame is used as it is.
    """
    casual = np.asarray(casual)
    side = max(casual.shape[:2])
    big = casual if side >= DETECT_SIDE else cv2.resize(
        casual, (round(casual.shape[1] * DETECT_SIDE / side), round(casual.shape[0] * DETECT_SIDE / side)),
        interpolation=cv2.INTER_CUBIC)
    boxes = (detector or DlibHogDetector()).detect(big)
    if not boxes:
        return cv2.resize(casual, (size, size), interpolation=cv2.INTER_AREA), False
    box = max(boxes, key=lambda b: (b.right - b.left) * (b.bottom - b.top))
    return align_face(big, face_landmarks(big, box), size), True


def simulated_selfie(clean: np.ndarray, seed: int, size: int, detector: DlibHogDetector | None = None
                     ) -> tuple[np.ndarray, bool]:
    """``degrade(clean, seed)`` aligned again (see ``realign``): what the generator gets for a selfie."""
    return realign(degrade(clean, seed), size, detector)
