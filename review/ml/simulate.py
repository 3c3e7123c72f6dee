"""How a simulated reviewer perceives images and answers: plain NumPy, no Django.

A campaign's simulation judges every image by one objective (:mod:`review.ml.objectives`). The
objective's values are put on a common scale per campaign (:class:`Calibration`): *standard units*,
``z = (value − median) / robust spread`` over the campaign's intact headshots, so noise and bias mean
the same for every objective. Each reviewer ``r`` perceives an image as

    perceived = z + bias_r + ε,   ε ~ N(0, noise_r)   (a fresh ε for every look)

and answers from that alone (:class:`SimulatedRater`):

* **rating**: each of the three scales looks again (its own ε) and maps the perceived value to 1–5 by
  the calibration's cut points, the 20/40/60/80 % quantiles of the campaign's headshots, so a
  noiseless, unbiased reviewer uses every step about equally often;
* **pairwise**: the side with the higher perceived value wins; "tie" when the two are within
  ``tie_band`` standard units;
* **blind**: perceived "studio-ness" is the same perceived objective, standardised over the blind
  images (generated and real): "studio" above their median, "ai" below, confidence 1–5 from the
  distance to the median (one step per half standard unit).

A visibly broken image (:func:`review.ml.objectives.visibly_broken`, the gold items' noise) is
perceived at the calibration's ``floor``, one standard unit below the worst headshot, whatever the
objective: people see a broken picture as bad, and so do simulated reviewers (noise and bias still
apply, so a noisy or lenient reviewer can fail a gold item).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Standard-units margin below the worst calibrated image at which a broken image is perceived.
BROKEN_MARGIN = 1.0
#: Pairwise: perceived values closer than this (standard units) are a tie.
TIE_BAND = 0.1
#: Blind test: one confidence step per this many standard units from the median.
CONFIDENCE_STEP = 0.5
STEPS = 5  # the 1–5 scales


@dataclass(frozen=True)
class Calibration:
    """An objective's scale over one campaign's images: centre and spread (standard units) and the
    cut points of the 1–5 scale in standard units."""

    centre: float
    spread: float
    edges: tuple[float, ...]
    floor: float

    @classmethod
    def fit(cls, values: Sequence[float], steps: int = STEPS) -> Calibration:
        """Calibrate on the objective's values over a campaign's images (at least one).

        Centre: the median; spread: the interquartile range / 1.349 (the standard deviation for
        normal data, robust to a few extreme images), else the standard deviation, else 1.
        Cut points: the 1/steps … (steps−1)/steps quantiles of the standardised values."""
        v = np.asarray(values, dtype=np.float64)
        v = v[np.isfinite(v)]
        if v.size == 0:
            raise ValueError("calibration needs at least one finite objective value")
        centre = float(np.median(v))
        q1, q3 = np.percentile(v, [25, 75])
        spread = float((q3 - q1) / 1.349) or float(v.std()) or 1.0
        z = (v - centre) / spread
        edges = tuple(float(e) for e in np.quantile(z, [k / steps for k in range(1, steps)]))
        return cls(centre=centre, spread=spread, edges=edges, floor=float(z.min()) - BROKEN_MARGIN)

    def standard(self, value: float, *, broken: bool = False) -> float:
        """``value`` in standard units; ``floor`` for a visibly broken image."""
        return self.floor if broken else (float(value) - self.centre) / self.spread

    def step(self, perceived: float) -> int:
        """The 1–5 score of a perceived value: 1 + the number of cut points below it."""
        return 1 + int(np.sum(np.asarray(self.edges) < perceived))


@dataclass(frozen=True)
class SimulatedRater:
    """One simulated reviewer: a personal ``bias`` and ``noise`` (both in standard units)."""

    bias: float
    noise: float
    tie_band: float = TIE_BAND

    def perceive(self, z: float, rng: np.random.Generator) -> float:
        """One look at an image whose objective is ``z`` standard units: z + bias + N(0, noise)."""
        return float(z + self.bias + rng.normal(0.0, self.noise))

    def rate(self, z: float, calibration: Calibration, rng: np.random.Generator,
             scales: int = 3) -> tuple[int, ...]:
        """Scores 1–5 for ``scales`` scales, each from its own look."""
        return tuple(calibration.step(self.perceive(z, rng)) for _ in range(scales))

    def choose(self, z_a: float, z_b: float, rng: np.random.Generator) -> str:
        """"a", "b" or "tie" (in the item's terms): the higher perceived value, tie within the band."""
        a, b = self.perceive(z_a, rng), self.perceive(z_b, rng)
        if abs(a - b) < self.tie_band:
            return "tie"
        return "a" if a > b else "b"

    def judge(self, z: float, rng: np.random.Generator) -> tuple[str, int]:
        """Blind test, ``z`` standardised over the blind images: ("studio" | "ai", confidence 1–5)."""
        perceived = self.perceive(z, rng)
        confidence = 1 + min(STEPS - 1, int(abs(perceived) / CONFIDENCE_STEP))
        return ("studio" if perceived > 0 else "ai"), confidence


def panel(count: int, *, noise: float, bias_spread: float, seed: int) -> list[SimulatedRater]:
    """``count`` reviewers: biases drawn from N(0, bias_spread) with ``seed``; noise spread evenly
    from 0.5·noise to 1.5·noise (mean ``noise``; all ``noise`` for one reviewer), so the panel has a
    most and a least accurate member and a reliability estimate can be checked against them."""
    if count < 1:
        raise ValueError("a panel needs at least one reviewer")
    if noise < 0 or bias_spread < 0:
        raise ValueError("noise and bias spread cannot be negative")
    biases = np.random.default_rng(seed).normal(0.0, bias_spread, count)
    factors = np.linspace(0.5, 1.5, count) if count > 1 else np.ones(1)
    return [SimulatedRater(bias=float(b), noise=float(noise * f))
            for b, f in zip(biases, factors, strict=True)]


def rater_rng(seed: int, index: int) -> np.random.Generator:
    """The random stream of reviewer ``index`` (1-based) in a run with ``seed``."""
    return np.random.default_rng([seed, index])
