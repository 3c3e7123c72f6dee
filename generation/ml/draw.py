"""An overlay of what the pipeline saw, for the UI: boxes, the 68 landmarks, eye and mouth centres."""

from __future__ import annotations

import cv2
import numpy as np

from generation.ml.analysis import FaceAnalysis

BOX = (46, 204, 113)  # analysed face: green
OTHER_BOX = (230, 126, 34)  # other faces: orange
POINT = (52, 152, 219)  # landmarks: blue
CENTRE = (231, 76, 60)  # eye and mouth centres: red


def draw_landmarks(rgb: np.ndarray, analysis: FaceAnalysis) -> np.ndarray:
    """A copy of ``rgb`` with the analysis drawn on it; line widths follow the face's size."""
    out = np.ascontiguousarray(rgb, dtype=np.uint8).copy()
    reference = analysis.box.width if analysis.box is not None else max(out.shape[:2]) / 3
    thick = max(1, round(reference / 100))
    radius = max(1, round(reference / 80))
    for other in analysis.boxes:
        if other != analysis.box:
            corners = (other.left, other.top), (other.right, other.bottom)
            cv2.rectangle(out, *corners, OTHER_BOX, thick, cv2.LINE_AA)
    if analysis.box is not None:
        b = analysis.box
        cv2.rectangle(out, (b.left, b.top), (b.right, b.bottom), BOX, thick, cv2.LINE_AA)
    if analysis.landmarks is not None:
        for x, y in np.round(analysis.landmarks).astype(int):
            cv2.circle(out, (int(x), int(y)), radius, POINT, -1, cv2.LINE_AA)
    for centre in (analysis.eye_left, analysis.eye_right, analysis.mouth_centre):
        if centre is not None:
            x, y = round(centre[0]), round(centre[1])
            arm = 3 * radius + thick
            cv2.line(out, (x - arm, y), (x + arm, y), CENTRE, thick, cv2.LINE_AA)
            cv2.line(out, (x, y - arm), (x, y + arm), CENTRE, thick, cv2.LINE_AA)
    return out
