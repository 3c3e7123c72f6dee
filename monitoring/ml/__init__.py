"""Image-quality, identity and fairness metrics in plain PyTorch/NumPy (no Django): FID, KID,
identity distance and verification, LPIPS diversity, per-group reports.

Shared pieces (``MetricValue``, bootstrap intervals, LPIPS, weight files) live one layer down in
``hfplatform.ml``. Names are imported lazily, so ``import monitoring.ml`` stays cheap until a metric
that needs torch, clean-fid or dlib is used. See docs/metrics.md.
"""

from hfplatform.ml.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "monitoring.ml.fid": (
        "InceptionFeatures", "ReferenceStats", "fid_from_features", "fid_kid", "fid_kid_features",
        "folder_features", "images_features", "kid_from_features", "kid_resampled", "reference_features",
    ),
    "monitoring.ml.identity": (
        "embedding_pair_distances", "face_embeddings", "identity_distances", "mean_identity_distance",
        "verification_rate",
    ),
    "monitoring.ml.fairness": ("MIN_GROUP_N", "group_report"),
    "monitoring.ml.diversity": ("lpips_diversity",),
})
