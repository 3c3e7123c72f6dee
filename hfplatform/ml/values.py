"""The one shape every metric reports: ``MetricValue``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass
class MetricValue:
    """One reported number. ``value`` is None exactly when ``unavailable`` says why."""

    name: str
    value: float | None
    n: int
    extractor: str
    unavailable: str | None = None
    interval: tuple[float, float] | None = None

    @property
    def available(self) -> bool:
        return self.unavailable is None and self.value is not None

    def to_json(self) -> dict[str, Any]:
        def number(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        interval = None if self.interval is None else [number(self.interval[0]), number(self.interval[1])]
        return {"name": self.name, "value": number(self.value), "n": int(self.n), "extractor": self.extractor,
                "unavailable": self.unavailable, "interval": interval}

    @classmethod
    def missing(cls, name: str, reason: str, n: int = 0, extractor: str = "") -> MetricValue:
        return cls(name=name, value=None, n=n, extractor=extractor, unavailable=f"unavailable: {reason}")
