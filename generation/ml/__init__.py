"""Face analysis for source photos, in plain Python/NumPy (dlib, OpenCV, scikit-image); no Django.

``FaceAnalyzer().analyze(rgb)`` detects faces, finds 68 landmarks, estimates head pose, measures
quality and applies the gates, estimates skin tone (ITA°) and computes a 128-D identity embedding.
See docs/face_pipeline.md.

The generator (``generation.ml.generator``, ``train``, ``selfie``, ``ship``) is imported by module;
``generation.ml.options`` holds the choices it understands without importing torch. Names here are
imported lazily, so ``import generation.ml.options`` loads neither dlib nor OpenCV.
"""

from hfplatform.ml.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "generation.ml.align": ("ALIGN_SIZES", "CANONICAL", "align_face", "alignment_matrix", "transform_points"),
    "generation.ml.analysis": ("FaceAnalysis", "FaceAnalyzer"),
    "generation.ml.corpus": ("CORPUS_LICENCE", "CORPUS_SOURCE", "corpus_photo", "corpus_photos",
                             "corpus_wheel", "decode_photo", "olivetti_faces"),
    "generation.ml.draw": ("draw_landmarks",),
    "generation.ml.faces": ("SAME_PERSON_THRESHOLD", "CascadeDetector", "Detector", "DlibCnnDetector",
                            "DlibHogDetector", "FaceBox", "HaarCascadeDetector", "embedding_distance",
                            "face_embedding", "face_landmarks", "make_detector"),
    "generation.ml.pose": ("head_pose",),
    "generation.ml.quality": ("REJECTION_CODES", "REJECTION_MESSAGES", "QualityThresholds"),
    "generation.ml.skin_tone": ("ITA_CATEGORIES", "ita_category", "ita_from_lab", "measure_skin_tone"),
})
