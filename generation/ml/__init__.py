"""Face analysis for source photos, in plain Python/NumPy (dlib, OpenCV, scikit-image); no Django.

``FaceAnalyzer().analyze(rgb)`` detects faces, finds 68 landmarks, estimates head pose, measures
quality and applies the gates, estimates skin tone (ITA°) and computes a 128-D identity embedding.
See docs/face_pipeline.md.
"""

from generation.ml.align import ALIGN_SIZES, CANONICAL, align_face, alignment_matrix, transform_points
from generation.ml.analysis import FaceAnalysis, FaceAnalyzer
from generation.ml.corpus import (
    CORPUS_LICENCE,
    CORPUS_SOURCE,
    corpus_photo,
    corpus_photos,
    corpus_wheel,
    olivetti_faces,
)
from generation.ml.draw import draw_landmarks
from generation.ml.faces import (
    SAME_PERSON_THRESHOLD,
    Detector,
    DlibCnnDetector,
    DlibHogDetector,
    FaceBox,
    HaarCascadeDetector,
    embedding_distance,
    face_embedding,
    face_landmarks,
)
from generation.ml.pose import head_pose
from generation.ml.quality import REJECTION_CODES, REJECTION_MESSAGES, QualityThresholds
from generation.ml.skin_tone import ITA_CATEGORIES, ita_category, ita_from_lab, measure_skin_tone

__all__ = [
    "ALIGN_SIZES",
    "CANONICAL",
    "CORPUS_LICENCE",
    "CORPUS_SOURCE",
    "ITA_CATEGORIES",
    "REJECTION_CODES",
    "REJECTION_MESSAGES",
    "SAME_PERSON_THRESHOLD",
    "Detector",
    "DlibCnnDetector",
    "DlibHogDetector",
    "FaceAnalysis",
    "FaceAnalyzer",
    "FaceBox",
    "HaarCascadeDetector",
    "QualityThresholds",
    "align_face",
    "alignment_matrix",
    "corpus_photo",
    "corpus_photos",
    "corpus_wheel",
    "draw_landmarks",
    "embedding_distance",
    "face_embedding",
    "face_landmarks",
    "head_pose",
    "ita_category",
    "ita_from_lab",
    "measure_skin_tone",
    "olivetti_faces",
    "transform_points",
]
