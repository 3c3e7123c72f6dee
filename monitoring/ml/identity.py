"""Identity preservation: does the generated headshot still show the person of the source photo?

Both images go through ``generation.ml.FaceAnalyzer`` (dlib HOG detector, 68 landmarks, dlib's
ResNet 128-D descriptor; the largest face is used) and we take the Euclidean distance of the two
embeddings. Below ``SAME_PERSON_THRESHOLD`` (0.6, dlib's LFW operating point) counts as the same
person.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from generation.ml import SAME_PERSON_THRESHOLD, FaceAnalyzer, embedding_distance
from hfplatform.ml.stats import bootstrap_interval
from hfplatform.ml.values import MetricValue

IDENTITY_EXTRACTOR = (
    "dlib_face_recognition_resnet_model_v1 (128-D) via generation.ml.FaceAnalyzer (HOG detector)"
)


def face_embeddings(images: Sequence[np.ndarray], analyzer: FaceAnalyzer | None = None
                    ) -> list[np.ndarray | None]:
    """The dlib 128-D embedding of the largest face in each HxWx3 uint8 RGB image; ``None`` without a face.

    Embed each image once and compare with ``embedding_pair_distances`` when one image is compared with
    several others (a reference with every candidate, an output with its input and its portrait).
    """
    analyzer = analyzer if analyzer is not None else FaceAnalyzer()
    return [analyzer.analyze(np.asarray(image)).embedding for image in images]


def embedding_pair_distances(sources: Sequence[np.ndarray | None], outputs: Sequence[np.ndarray | None]
                             ) -> list[float | None]:
    """Distance per (source, output) pair of embeddings; ``None`` where either has no face."""
    if len(sources) != len(outputs):
        raise ValueError(f"{len(sources)} sources but {len(outputs)} outputs")
    return [None if a is None or b is None else embedding_distance(a, b)
            for a, b in zip(sources, outputs, strict=True)]


def identity_distances(sources: Sequence[np.ndarray], outputs: Sequence[np.ndarray],
                       analyzer: FaceAnalyzer | None = None) -> list[float | None]:
    """Embedding distance per (source, output) pair of HxWx3 uint8 RGB images.

    ``None`` where no face (hence no embedding) is found in either image of the pair.
    """
    if len(sources) != len(outputs):
        raise ValueError(f"{len(sources)} sources but {len(outputs)} outputs")
    analyzer = analyzer if analyzer is not None else FaceAnalyzer()
    return embedding_pair_distances(face_embeddings(sources, analyzer), face_embeddings(outputs, analyzer))


def mean_identity_distance(distances: Sequence[float | None], *, name: str = "identity_distance"
                           ) -> MetricValue:
    """Mean distance over the pairs where both faces were found (``n`` counts those), with a
    bootstrap 95 % interval; unavailable when no pair had both faces."""
    found = [d for d in distances if d is not None]
    if not found:
        return MetricValue.missing(name, "no face found in any pair", 0, IDENTITY_EXTRACTOR)
    return MetricValue(name=name, value=float(np.mean(found)), n=len(found), extractor=IDENTITY_EXTRACTOR,
                       interval=bootstrap_interval(found) if len(found) > 1 else None)


def verification_rate(distances: Sequence[float | None], threshold: float = SAME_PERSON_THRESHOLD,
                      *, n_boot: int = 1000, seed: int = 0, name: str = "identity_verification_rate"
                      ) -> MetricValue:
    """Share of pairs verified as the same person (distance < ``threshold``), with a bootstrap 95 % interval.

    Every pair counts in the denominator: a pair with ``None`` (no face found in the source or the
    output) counts as NOT verified. Source photos have already passed the face gates, so a missing
    face almost always means the generated image lost the face, which is an identity failure, and
    dropping those pairs would flatter the generator. ``n`` is the number of pairs. No pairs:
    unavailable.
    """
    extractor = f"{IDENTITY_EXTRACTOR}, threshold {threshold}"
    if len(distances) == 0:
        return MetricValue.missing(name, "no pairs to verify", 0, extractor)
    verified = np.array([d is not None and d < threshold for d in distances], dtype=np.float64)
    return MetricValue(name=name, value=float(verified.mean()), n=len(verified), extractor=extractor,
                       interval=bootstrap_interval(verified, n_boot=n_boot, seed=seed))
