"""The studio stage pipeline: which stages exist, which run by default, checking a request, and
running the chosen stages on one image with a record of each.

Stages run in one fixed order, whatever order a request lists them in: resolution first (every later
stage works on the full-size image), then lighting, colour and background (the backdrop is chosen
last, so neither relighting nor colour transfer tints it). A request is a list of stage names or of
``{"name": ..., "params": {...}}``; missing parameters take the stage's defaults.

Each applied stage leaves a record ``{"name", "version", "params", "status", "reason", "seconds"}``
with ``status`` one of ``applied``, ``skipped`` (this image lacks what the stage needs: the reason
says what) or ``unavailable`` (a package or system library is missing: the reason says which). The
image passes on unchanged in the last two cases; nothing is dropped silently.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

import numpy as np

from generation.ml.studio.base import FaceContext, Param, Stage, StageSkipped, StageUnavailable, as_rgb_uint8

STAGE_MODULES: dict[str, str] = {
    "super_resolution": "generation.ml.studio.superres",
    "lighting": "generation.ml.studio.lighting",
    "colour": "generation.ml.studio.colour",
    "background": "generation.ml.studio.background",
}
STAGE_ORDER: tuple[str, ...] = tuple(STAGE_MODULES)
#: Background replacement is not among the defaults: on generated faces it cuts hair away too often
#: (docs/studio.md); a job asks for it by name.
DEFAULT_STAGES: tuple[str, ...] = ("super_resolution", "lighting", "colour")


def stage_get(name: str) -> Stage:
    """The stage called ``name`` (its module is imported on first use)."""
    if name not in STAGE_MODULES:
        raise ValueError(f"unknown stage {name!r}; the stages are: {', '.join(STAGE_ORDER)}")
    return importlib.import_module(STAGE_MODULES[name]).STAGE


def _check_param(stage: str, key: str, spec: Param, value: Any) -> Any:
    where = f"{stage}.{key}"
    if spec.choices is not None:
        if value not in spec.choices:
            raise ValueError(f"{where} must be one of {', '.join(spec.choices)}, not {value!r}")
        return value
    if isinstance(spec.default, str):
        if not isinstance(value, str):
            raise ValueError(f"{where} must be text, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise ValueError(f"{where} must be a number, not {value!r}")
    if isinstance(spec.default, int) and value != int(value):
        raise ValueError(f"{where} must be a whole number, not {value!r}")
    low = -np.inf if spec.minimum is None else spec.minimum
    high = np.inf if spec.maximum is None else spec.maximum
    if not low <= value <= high:
        raise ValueError(f"{where} must be between {low:g} and {high:g}, not {value!r}")
    return int(value) if isinstance(spec.default, int) else float(value)


def stages_check(requested: list[str | dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A request made canonical: ``[{"name", "params"}]`` in pipeline order with every parameter
    filled in. ``None`` is the default set, ``[]`` no stages. ``ValueError`` says what is wrong."""
    if requested is None:
        requested = list(DEFAULT_STAGES)
    if not isinstance(requested, list):
        raise ValueError("stages must be a list of stage names or {name, params} objects")
    chosen: dict[str, dict[str, Any]] = {}
    for item in requested:
        if isinstance(item, str):
            name, params = item, {}
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            name, params = item["name"], item.get("params") or {}
            if not isinstance(params, dict) or set(item) - {"name", "params"}:
                raise ValueError(f"stage {name!r}: give only name and a params object")
        else:
            raise ValueError(f"each stage is a name or a {{name, params}} object, not {item!r}")
        stage = stage_get(name)
        if name in chosen:
            raise ValueError(f"stage {name!r} is listed twice")
        unknown = set(params) - set(stage.params)
        if unknown:
            known = ", ".join(stage.params) or "none"
            raise ValueError(f"stage {name!r} has no parameter {', '.join(sorted(unknown))}; its parameters: "
                             f"{known}")
        chosen[name] = {key: _check_param(name, key, spec, params.get(key, spec.default))
                        for key, spec in stage.params.items()}
        if stage.check is not None:
            try:
                stage.check(chosen[name])
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
    return [{"name": name, "params": chosen[name]} for name in STAGE_ORDER if name in chosen]


def stages_apply(rgb: np.ndarray, face: FaceContext, stages: list[dict[str, Any]]
                 ) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Run checked ``stages`` (from :func:`stages_check`) on ``rgb``; the final image and one record
    per stage. ``face`` is rescaled whenever a stage changes the image size."""
    image = as_rgb_uint8(rgb)
    records = []
    for item in stages:
        stage = stage_get(item["name"])
        record = {"name": stage.name, "version": stage.version, "params": dict(item["params"]),
                  "status": "applied", "reason": ""}
        started = time.perf_counter()
        try:
            out = as_rgb_uint8(stage.apply(image, face, **item["params"]))
        except (StageSkipped, StageUnavailable) as exc:
            record["status"] = "skipped" if isinstance(exc, StageSkipped) else "unavailable"
            record["reason"] = exc.reason
        else:
            if out.shape[:2] != image.shape[:2]:
                face = face.scaled(out.shape[1] / image.shape[1], out.shape[0] / image.shape[0])
            image = out
        record["seconds"] = round(time.perf_counter() - started, 4)
        records.append(record)
    return image, records


def stages_summary(records: list[dict[str, Any]]) -> str:
    """One line for people: "super_resolution, lighting applied; background unavailable (...)"."""
    applied = [r["name"] for r in records if r["status"] == "applied"]
    others = [f"{r['name']} {r['status']} ({r['reason']})" for r in records if r["status"] != "applied"]
    parts = [f"{', '.join(applied)} applied"] if applied else []
    return "; ".join(parts + others) or "no stages"
