"""Image-quality and identity metrics in plain PyTorch/NumPy (no Django): FID, KID, LPIPS, identity.

Names are imported lazily (PEP 562), so ``import monitoring.ml`` and the weights CLI stay cheap
until a metric that needs torch, clean-fid or dlib is used. See docs/metrics.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "monitoring.ml.weights": (
        "WeightsUnavailable", "ensure_weights", "inception_path", "lpips_backbone_path", "load_numpy_pickle",
    ),
    "monitoring.ml.values": ("MetricValue",),
    "monitoring.ml.fid": (
        "InceptionFeatures", "ReferenceStats", "fid_from_features", "fid_kid", "folder_features",
        "images_features", "kid_from_features", "reference_features",
    ),
    "monitoring.ml.lpips_metric": ("LpipsMetric",),
    "monitoring.ml.identity": (
        "embedding_pair_distances", "face_embeddings", "identity_distances", "mean_identity_distance",
        "verification_rate",
    ),
    "monitoring.ml.stats": ("bootstrap_interval",),
    "monitoring.ml.fairness": ("MIN_GROUP_N", "group_report"),
    "monitoring.ml.diversity": ("lpips_diversity",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "MIN_GROUP_N",
    "InceptionFeatures",
    "LpipsMetric",
    "MetricValue",
    "ReferenceStats",
    "WeightsUnavailable",
    "bootstrap_interval",
    "embedding_pair_distances",
    "ensure_weights",
    "face_embeddings",
    "fid_from_features",
    "fid_kid",
    "folder_features",
    "group_report",
    "identity_distances",
    "images_features",
    "inception_path",
    "kid_from_features",
    "load_numpy_pickle",
    "lpips_backbone_path",
    "lpips_diversity",
    "mean_identity_distance",
    "reference_features",
    "verification_rate",
]

if TYPE_CHECKING:
    from monitoring.ml.diversity import lpips_diversity
    from monitoring.ml.fairness import MIN_GROUP_N, group_report
    from monitoring.ml.fid import (
        InceptionFeatures,
        ReferenceStats,
        fid_from_features,
        fid_kid,
        folder_features,
        images_features,
        kid_from_features,
        reference_features,
    )
    from monitoring.ml.identity import (
        embedding_pair_distances,
        face_embeddings,
        identity_distances,
        mean_identity_distance,
        verification_rate,
    )
    from monitoring.ml.lpips_metric import LpipsMetric
    from monitoring.ml.stats import bootstrap_interval
    from monitoring.ml.values import MetricValue
    from monitoring.ml.weights import (
        WeightsUnavailable,
        ensure_weights,
        inception_path,
        load_numpy_pickle,
        lpips_backbone_path,
    )


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
