"""Each studio stage measured on real people: what it fixes, what it must leave alone, and how long it
takes. Plain NumPy/PyTorch; no Django (``monitoring/studio_report.py`` builds the cases from the
database and stores the figures on a generator version).

A ``StudioCase`` is one person: the 256-px aligned crop of their clean portrait with its 68 landmarks,
their measured skin-tone category, optionally the native 128-px crop and generated 64-px headshots.
``studio_figures(cases)`` returns JSON-safe figures, one section per stage; a mean comes as
``{"mean", "interval", "n"}`` (95% percentile bootstrap of the mean, 1000 resamples: too narrow
below ~10-20 people, zero width at n = 1) and a share as ``{"share", "interval", "count", "n"}``
(Wilson 95%). A case that a stage declines (``StageSkipped``, ``StageUnavailable``) or that cannot
be measured (``ValueError``, e.g. too few skin pixels) is listed under its section's ``failed`` with
the reason, and ``n`` counts the cases measured. ``format_table(figures)`` prints the figures for a
terminal or the docs.

super_resolution
    Every method of ``superres.METHODS`` (``realesrgan`` is "unavailable: <reason>" where its
    package or system libraries are missing) upscales the case's 64-px input: the native 128-px crop
    2×2 area-averaged when given, else the 256-px crop 4×4 area-averaged (``input_from_native128``
    counts the first kind). 64 → 128 is scored against the native 128-px crop (only cases that have
    one), 64 → 256 against the 256-px crop, which is itself upsampled from a source whose native
    detail is ~128 px: at 256 the reference is soft and PSNR favours smooth outputs. PSNR in dB, whole
    frame, on BT.601 luma Y (16-235) and on RGB; LPIPS v0.1 alex at the output size (lower is
    closer); seconds per image are wall time after one untimed warm-up call (realesrgan's 128 is
    its one ×4 pass area-averaged, so it costs the 256 pass).
lighting
    Two known side lights on the clean crop, each then estimated (``estimate_light``) and removed
    (``relight``). The degradation the generator is trained against (the ``degrade`` lighting step) has a
    direction in the image plane only (a linear gain gradient, no 3-D azimuth), so the 3-D
    direction error needs a second, shaded light, and that one flatters the estimator.
    ``lambertian``: shading ``0.3 + 0.7·max(0, n·l)`` of the estimator's own ``face_normals``
    ellipsoid (normals clamped at its rim outside it; the rendered shading is exactly the model it
    fits) for a light at a seeded azimuth ±[30°, 60°] and 0° elevation, multiplied into linear RGB
    over the whole frame (it only darkens, so nothing clips: ``relight`` backs off on faces with
    clipped pixels); ``direction_error`` is the 3-D angle (degrees) between the estimated and the
    true light. Unlike the lighting module's own tests, the photo's own low-frequency shading is not
    divided out first, so the studio light the portrait already has enters the estimate and the
    errors are larger than there. ``gradient``: the ``degrade`` lighting step itself (no vignette, exposure
    1, gradient strength seeded in its own [0.3, 0.75]) from a seeded side (angle 0° or 180° ± 20°);
    its ``direction_error`` is the in-plane angle (degrees) between the estimate's (x, y) and the
    gradient's direction. For both, ``side_correct`` is the share whose estimated azimuth points to
    the lit side, and ``asymmetry`` the ``face_asymmetry`` (|left − right| / mean skin luminance of
    the face halves) of the clean, lit and relit crops. ``delta_ita_clean``: ITA° of
    ``relight(clean)`` − ITA° of the clean crop (should be ~0: relighting keeps skin tone).
    ``relight`` does less on turned heads (|yaw| over 10°, nothing over 30°) and overexposed faces,
    by design; those people count in the relit asymmetry as they are.
colour
    A seeded white-balance cast, the ``degrade`` colour_cast step (channel gains ``1 + t − g/2``,
    ``1 + g``, ``1 − t − g/2``) with |temperature t| in [0.08, 0.18] and |tint g| in [0.02, 0.08],
    random signs (the stronger part of the degradation's own ±0.18 / ±0.08), then ``harmonise``.
    Mean CIEDE2000 to the clean crop before and after, over the whole image and over the face
    region (``before_*``, ``after_*``); ``on_clean_*``: what ``harmonise`` changes on the clean crop
    itself (a studio portrait needs little).
background
    ``replace_background`` on the clean crop (default gradient backdrop). ``flatness_before``: the
    standard deviation of luminance (0-255) over the photo's background (the stage's own matte before
    feathering, alpha < 0.05); ``flatness_after``: the same of the output minus the backdrop (0 = the
    backdrop exactly). ``face_core_changed_share``: the share of pixels of the landmark face region
    eroded by ``background.FACE_ERODE`` × the face width (what the stage promises to copy) that
    changed at all: must be 0; ``face_region_changed_share``: the same over the whole landmark
    region, whose rim the matte may soften.
all_stages
    ``stages_apply(stages_check(None))`` (every default stage) on the clean crop 4×4 area-averaged
    to 64 px (what the generator gives; landmarks scaled by 1/4). ΔITA° = ITA° of the staged output
    − ITA° of the 64-px input (same patches, scaled landmarks), per measured skin-tone group: mean
    and max |ΔITA|, n, and the share that keeps its ITA category. Stage records (applied / skipped /
    unavailable and why) and seconds per image. With ``generated`` headshots: identity verification
    against the person's clean portrait (dlib ResNet, Euclidean distance < ``SAME_PERSON_THRESHOLD``)
    of the raw 64-px headshot, of the same bicubic-enlarged to 256 px (how the held-out evaluation
    measures it: dlib's detector misses most 64-px faces) and of the staged 256-px output, with
    Wilson intervals; a headshot (or portrait) where dlib finds no face counts as not verified, and
    ``no_face`` counts them. The generated headshots are a different draw from the generator each
    time a version is measured; the corpus photos are CelebA (non-commercial research use only).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from generation.ml.skin_tone import ita_category, measure_skin_tone
from generation.ml.studio import background, lighting, superres
from generation.ml.studio.base import FaceContext, StageSkipped, StageUnavailable, face_region_mask
from hfplatform.ml.stats import bootstrap_interval, wilson_interval

SECTIONS = ("super_resolution", "lighting", "colour", "background", "all_stages")
AMBIENT = 0.3  # ambient share of the Lambertian side light
AZIMUTH = (30.0, 60.0)  # |azimuth| of the Lambertian side light, degrees
GRADIENT = (0.3, 0.75)  # strength of the degrade gradient light (degrade.DEGRADATIONS' range)
GRADIENT_TILT = 20.0  # the gradient light's angle is 0° or 180° ± this
TEMPERATURE, TINT = (0.08, 0.18), (0.02, 0.08)  # |t| and |g| of the colour cast
UNGROUPED = "unmeasured"

Progress = Callable[[str], None]


@dataclass
class StudioCase:
    """One held-out person. ``clean``: (256, 256, 3) uint8 aligned crop of the clean portrait;
    ``landmarks``: (68, 2) in its pixels; ``group``: measured skin-tone category (None: unmeasured);
    ``native128``: the (128, 128, 3) aligned crop at native resolution; ``generated``: 64-px headshots
    of this person from the generator."""

    name: str
    clean: np.ndarray
    landmarks: np.ndarray
    group: str | None = None
    native128: np.ndarray | None = None
    generated: list[np.ndarray] | None = None


# --- Summaries --------------------------------------------------------------------------------------


def mean_figure(values: Sequence[float], seed: int = 0) -> dict[str, Any]:
    """``{"mean", "interval", "n"}`` of finite ``values`` (mean and interval None when there are none)."""
    data = np.asarray([v for v in values if v is not None and np.isfinite(v)], np.float64)
    if data.size == 0:
        return {"mean": None, "interval": None, "n": 0}
    low, high = bootstrap_interval(data, seed=seed)
    return {"mean": float(data.mean()), "interval": [low, high], "n": int(data.size)}


def share_figure(flags: Sequence[bool]) -> dict[str, Any]:
    """``{"share", "interval", "count", "n"}`` with the Wilson 95% interval (None when n = 0)."""
    count, n = int(sum(bool(f) for f in flags)), len(flags)
    if n == 0:
        return {"share": None, "interval": None, "count": 0, "n": 0}
    return {"share": count / n, "interval": list(wilson_interval(count, n)), "count": count, "n": n}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _shrink(rgb: np.ndarray, side: int) -> np.ndarray:
    return cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA)


def _ita(rgb: np.ndarray, landmarks: np.ndarray) -> float | None:
    return measure_skin_tone(rgb, landmarks)[0]


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """File descriptor 2 to /dev/null for a while: ncnn (realesrgan) prints its progress there."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


# --- Super-resolution -------------------------------------------------------------------------------


def lpips_or_reason(torch_home: Path | None) -> tuple[Any, str | None]:
    """(LpipsMetric, None) or (None, why it is unavailable)."""
    if torch_home is None:
        return None, "unavailable: no torch_home with the LPIPS AlexNet backbone given"
    try:
        from hfplatform.ml.lpips import LpipsMetric
        from hfplatform.ml.weights import WeightsUnavailable

        return LpipsMetric(Path(torch_home), device="cpu"), None
    except (ImportError, WeightsUnavailable) as exc:
        return None, f"unavailable: {exc}"


def super_resolution_figures(cases: Sequence[StudioCase], methods: Sequence[str], torch_home: Path | None,
                             seed: int) -> dict[str, Any]:
    lows = [_shrink(c.native128, 64) if c.native128 is not None else _shrink(c.clean, 64) for c in cases]
    metric, lpips_missing = lpips_or_reason(torch_home)
    out: dict[str, Any] = {
        "input_from_native128": sum(c.native128 is not None for c in cases), "n": len(cases),
        "psnr": "dB, whole frame; psnr_y on BT.601 luma Y (16-235), psnr_rgb on RGB",
        "lpips": lpips_missing or "lpips v0.1 alex at the output size",
        "threads": torch.get_num_threads(), "methods": {},
    }
    for method in methods:
        quiet = _quiet_stderr if method == "realesrgan" else nullcontext
        try:
            with quiet():
                superres.upscale(lows[0], 128, method)  # warm-up: loads the weights or builds the model
        except StageUnavailable as exc:
            out["methods"][method] = f"unavailable: {exc.reason}"
            continue
        results: dict[int, list[tuple[np.ndarray, np.ndarray, float]]] = {128: [], 256: []}
        for case, low in zip(cases, lows, strict=True):
            with quiet():
                big, seconds = _timed(lambda low=low, method=method: superres.upscale(low, 256, method))
            if case.native128 is not None:
                if method == "realesrgan":  # its 128 is the same ×4 pass area-averaged
                    small, extra = _timed(lambda big=big: superres.resize(big, 128))
                    small_seconds = seconds + extra
                else:
                    small, small_seconds = _timed(
                        lambda low=low, method=method: superres.upscale(low, 128, method))
                results[128].append((small, case.native128, small_seconds))
            results[256].append((big, case.clean, seconds))
        out["methods"][method] = {f"to_{side}": _sr_scores(rows, metric, seed)
                                  for side, rows in results.items()}
    return out


def _sr_scores(rows: list[tuple[np.ndarray, np.ndarray, float]], metric: Any, seed: int
               ) -> dict[str, Any] | None:
    if not rows:
        return None
    outs, refs, seconds = zip(*rows, strict=True)
    pairs = list(zip(outs, refs, strict=True))
    lpips = (None if metric is None
             else mean_figure(metric.lpips_images(list(outs), list(refs)).astype(np.float64).tolist(), seed))
    return {"psnr_y": mean_figure([superres.psnr(o, r, luma=True) for o, r in pairs], seed),
            "psnr_rgb": mean_figure([superres.psnr(o, r) for o, r in pairs], seed),
            "lpips": lpips, "seconds": mean_figure(seconds, seed)}


# --- Lighting ---------------------------------------------------------------------------------------


def lambertian_light(rgb: np.ndarray, landmarks: np.ndarray, direction: Sequence[float],
                     ambient: float = AMBIENT) -> np.ndarray:
    """``rgb`` lit by ``ambient`` + Lambert from the unit ``direction`` (x right, y up, z towards the
    camera), shaded with the estimator's own face ellipsoid (see the module doc), multiplied into
    linear RGB over the whole frame: it flatters ``estimate_light``. The shading peaks at 1 where the
    light meets the face square on, so it only darkens."""
    normals, _ = lighting.face_normals(rgb.shape[:2], landmarks)
    shading = ambient + (1 - ambient) * np.maximum(normals @ np.asarray(direction, np.float64), 0.0)
    return lighting.linear_to_srgb(lighting.srgb_to_linear(rgb) * shading[..., None])


def lambertian_side_light(rgb: np.ndarray, landmarks: np.ndarray, azimuth: float) -> np.ndarray:
    """``lambertian_light`` from ``azimuth`` (degrees, + = from the image's right, 0° elevation)."""
    return lambertian_light(rgb, landmarks, lighting.direction_from_angles(azimuth))


def flat_albedo(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The face with its own low-frequency shading divided out, so that a rendered light is the only
    light on it: linear luminance over a skin-masked Gaussian (sigma 0.05 × jaw width) brought to the
    skin's mean, feathered into the rest of the frame."""
    linear = lighting.srgb_to_linear(rgb)
    y = linear @ lighting.LUMA
    skin = lighting.skin_mask(rgb, landmarks).astype(np.float64)
    sigma = 0.05 * lighting.jaw_width(landmarks)
    low = cv2.GaussianBlur(y * skin, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(skin, (0, 0), sigma), 1e-6)
    face = face_region_mask(rgb.shape[:2], landmarks).astype(np.float64)
    weight = cv2.GaussianBlur(face, (0, 0), sigma)
    gain = np.where(weight > 0.01, y[skin > 0].mean() / np.maximum(low, 1e-3), 1.0)
    return lighting.linear_to_srgb(linear * np.exp(weight * np.log(np.clip(gain, 0.25, 4.0)))[..., None])


def gradient_side_light(rgb: np.ndarray, angle: float, gradient: float) -> np.ndarray:
    """``rgb`` under the ``degrade`` lighting step: a linear gain gradient, brighter towards ``angle``
    (degrees in the image: 0 = right, 90 = down), no vignette, exposure 1."""
    from generation.ml.degrade import degrade_step

    return degrade_step(rgb, "lighting", {"gradient": gradient, "angle": angle, "vignette": 0.0,
                                          "exposure": 1.0})


def _in_plane_error(direction: Sequence[float], angle: float) -> float:
    """Degrees between the estimate's (x, y up) and the image-plane direction ``angle`` (y down)."""
    true = np.array([np.cos(np.radians(angle)), -np.sin(np.radians(angle))])
    return lighting.light_direction_error(np.array([direction[0], direction[1], 0.0]), np.append(true, 0.0))


def _lighting_case(case: StudioCase, rng: np.random.Generator) -> dict[str, Any]:
    """One person's lighting values: per light kind its error, side, asymmetries, relight seconds."""
    side = rng.choice([-1.0, 1.0])
    azimuth = side * rng.uniform(*AZIMUTH)
    angle = (0.0 if rng.random() < 0.5 else 180.0) + rng.uniform(-GRADIENT_TILT, GRADIENT_TILT)
    strength = rng.uniform(*GRADIENT)
    face = FaceContext(landmarks=case.landmarks)
    clean_asymmetry = lighting.face_asymmetry(case.clean, case.landmarks)
    out: dict[str, Any] = {}
    for kind, lit in (("lambertian", lambertian_side_light(case.clean, case.landmarks, azimuth)),
                      ("gradient", gradient_side_light(case.clean, angle, strength))):
        estimate = lighting.estimate_light(lit, case.landmarks)
        if kind == "lambertian":
            error = lighting.light_direction_error(estimate, lighting.direction_from_angles(azimuth))
            lit_right = azimuth > 0
        else:
            error = _in_plane_error(estimate.direction, angle)
            lit_right = np.cos(np.radians(angle)) > 0
        relit, took = _timed(lambda lit=lit: lighting.relight(lit, face))
        out[kind] = {"error": error, "side": bool((estimate.azimuth > 0) == lit_right), "seconds": took,
                     "clean": clean_asymmetry, "lit": lighting.face_asymmetry(lit, case.landmarks),
                     "relit": lighting.face_asymmetry(relit, case.landmarks)}
    before = _ita(case.clean, case.landmarks)
    after = _ita(lighting.relight(case.clean, face), case.landmarks)
    out["delta_ita"] = None if before is None or after is None else after - before
    return out


def _each_case(cases: Sequence[StudioCase], measure: Callable[[int, StudioCase], dict[str, Any]]
               ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """``measure(i, case)`` of every case; a case a stage declines or cannot measure (``ValueError``,
    ``StageSkipped``, ``StageUnavailable``) is listed with its reason instead of stopping the rest."""
    done, failed = [], []
    for i, case in enumerate(cases):
        try:
            done.append(measure(i, case))
        except (ValueError, StageSkipped, StageUnavailable) as exc:
            failed.append({"case": case.name, "reason": getattr(exc, "reason", str(exc))})
    return done, failed


def lighting_figures(cases: Sequence[StudioCase], seed: int) -> dict[str, Any]:
    done, failed = _each_case(
        cases, lambda i, case: _lighting_case(case, np.random.default_rng([seed, i, 1])))
    out: dict[str, Any] = {"n": len(done), "failed": failed}
    for kind in ("lambertian", "gradient"):
        v = [d[kind] for d in done]
        out[kind] = {"direction_error": mean_figure([x["error"] for x in v], seed),
                     "side_correct": share_figure([x["side"] for x in v]),
                     "asymmetry": {k: mean_figure([x[k] for x in v], seed)
                                   for k in ("clean", "lit", "relit")}}
    out["lambertian"]["light"] = (f"Lambertian, ambient {AMBIENT}, |azimuth| {AZIMUTH[0]:g}-{AZIMUTH[1]:g}°, "
                                  "elevation 0°, on the estimator's own face_normals (flatters it)")
    out["gradient"]["light"] = (f"degrade lighting step, gradient {GRADIENT[0]}-{GRADIENT[1]} at 0°/180° "
                                f"± {GRADIENT_TILT:g}° (in-plane direction only)")
    delta_ita = [d["delta_ita"] for d in done if d["delta_ita"] is not None]
    out["delta_ita_clean"] = mean_figure(delta_ita, seed)
    out["abs_delta_ita_clean_max"] = max((abs(d) for d in delta_ita), default=None)
    out["seconds"] = mean_figure([d[k]["seconds"] for d in done for k in ("lambertian", "gradient")], seed)
    return out


# --- Colour -----------------------------------------------------------------------------------------


def colour_cast(rgb: np.ndarray, temperature: float, tint: float) -> np.ndarray:
    """``rgb`` under the ``degrade`` white-balance step (+ temperature warm, + tint green)."""
    from generation.ml.degrade import degrade_step

    return degrade_step(rgb, "colour_cast", {"temperature": temperature, "tint": tint})


def colour_figures(cases: Sequence[StudioCase], seed: int) -> dict[str, Any]:
    try:
        from generation.ml.studio.colour import delta_e2000, harmonise
    except ImportError as exc:
        return {"unavailable": f"unavailable: the colour stage cannot be imported: {exc}", "n": 0}

    def measure(i: int, case: StudioCase) -> dict[str, Any]:
        rng = np.random.default_rng([seed, i, 2])
        temperature = rng.choice([-1.0, 1.0]) * rng.uniform(*TEMPERATURE)
        tint = rng.choice([-1.0, 1.0]) * rng.uniform(*TINT)
        face = FaceContext(landmarks=case.landmarks)
        mask = face_region_mask(case.clean.shape[:2], case.landmarks)
        cast = colour_cast(case.clean, temperature, tint)
        fixed, took = _timed(lambda: harmonise(cast, face))
        out: dict[str, Any] = {"seconds": took}
        for key, image in (("before", cast), ("after", fixed), ("on_clean", harmonise(case.clean, face))):
            out[f"{key}_image"] = float(delta_e2000(image, case.clean))
            out[f"{key}_face"] = float(delta_e2000(image, case.clean, mask))
        return out

    done, failed = _each_case(cases, measure)
    keys = ("before_image", "after_image", "before_face", "after_face", "on_clean_image", "on_clean_face")
    return {"n": len(done), "failed": failed,
            "cast": f"degrade colour_cast step, |temperature| {TEMPERATURE[0]}-{TEMPERATURE[1]}, "
                    f"|tint| {TINT[0]}-{TINT[1]}, random signs",
            "delta_e": {k: mean_figure([d[k] for d in done], seed) for k in keys},
            "seconds": mean_figure([d["seconds"] for d in done], seed)}


# --- Background -------------------------------------------------------------------------------------


def _background_case(case: StudioCase) -> dict[str, Any]:
    face = FaceContext(landmarks=case.landmarks)
    shape = case.clean.shape[:2]
    out, took = _timed(lambda: background.replace_background(case.clean, face))
    alpha = background.background_mask(case.clean, face)
    changed = (out != case.clean).any(axis=2)
    full = face_region_mask(shape, case.landmarks)
    width = float(np.linalg.norm(case.landmarks[16] - case.landmarks[0]))
    radius = max(1, round(background.FACE_ERODE * width))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    core = cv2.erode(full.astype(np.uint8), kernel).astype(bool)
    return {"before": background.background_flatness(case.clean, alpha),
            "after": background.background_flatness(out, alpha, background.backdrop("gradient", shape)),
            "core": float(changed[core].mean()), "region": float(changed[full].mean()), "seconds": took}


def background_figures(cases: Sequence[StudioCase], seed: int) -> dict[str, Any]:
    done, failed = _each_case(cases, lambda i, case: _background_case(case))
    return {"n": len(done), "failed": failed, "backdrop": "gradient",
            "flatness_before": mean_figure([d["before"] for d in done], seed),
            "flatness_after": mean_figure([d["after"] for d in done], seed),
            "face_core_changed_share": mean_figure([d["core"] for d in done], seed),
            "face_core_changed_max": max((d["core"] for d in done), default=None),
            "face_region_changed_share": mean_figure([d["region"] for d in done], seed),
            "seconds": mean_figure([d["seconds"] for d in done], seed)}


# --- All default stages -----------------------------------------------------------------------------


def all_stages_figures(cases: Sequence[StudioCase], seed: int, analyzer: Any = None,
                       stages: Sequence[str] | None = None) -> dict[str, Any]:
    """The ``stages`` (default: the pipeline's default set) on every case's clean portrait shrunk to
    64 px (the skin-tone shift by group) and on its generated headshots (identity before and after)."""
    from generation.ml.studio.pipeline import stages_apply, stages_check

    stages = stages_check(None if stages is None else list(stages))
    groups: dict[str, dict[str, list]] = {}
    records: dict[str, dict[str, Any]] = {}
    seconds: list[float] = []

    def staged(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        face = FaceContext(landmarks=landmarks * image.shape[0] / 256)
        (out, record), took = _timed(lambda: stages_apply(image, face, stages))
        seconds.append(took)
        for r in record:
            entry = records.setdefault(r["name"],
                                       {"applied": 0, "skipped": 0, "unavailable": 0, "reasons": []})
            entry[r["status"]] += 1
            if r["reason"] and r["reason"] not in entry["reasons"]:
                entry["reasons"].append(r["reason"])
        return out, landmarks * out.shape[0] / 256

    identity: dict[str, list[float | None]] = {"raw_64": [], "raw_256_bicubic": [], "staged": []}
    portraits_without_face = 0
    for case in cases:
        small = _shrink(case.clean, 64)
        out, points = staged(small, case.landmarks)
        before, after = _ita(small, case.landmarks / 4), _ita(out, points)
        if before is not None and after is not None:
            g = groups.setdefault(case.group or UNGROUPED, {"delta": [], "kept": []})
            g["delta"].append(after - before)
            g["kept"].append(ita_category(after) == ita_category(before))
        if case.generated:
            analyzer = analyzer or _face_analyzer()
            portrait = analyzer.analyze(case.clean).embedding
            portraits_without_face += portrait is None
            for image in case.generated:
                enlarged = cv2.resize(image, (256, 256), interpolation=cv2.INTER_CUBIC)
                for key, shown in (("raw_64", image), ("raw_256_bicubic", enlarged),
                                   ("staged", staged(image, case.landmarks)[0])):
                    identity[key].append(_distance(analyzer, portrait, shown))
    out_groups = {}
    for name, g in sorted(groups.items()):
        delta = np.abs(np.asarray(g["delta"]))
        out_groups[name] = {"abs_delta_ita": mean_figure(delta.tolist(), seed),
                            "max_abs_delta_ita": float(delta.max()),
                            "category_kept": share_figure(g["kept"]), "n": int(delta.size)}
    every = np.abs([d for g in groups.values() for d in g["delta"]])
    return {"n": len(cases), "stages": [s["name"] for s in stages],
            "input": "clean crop area-averaged to 64 px",
            "groups": out_groups, "abs_delta_ita": mean_figure(every.tolist(), seed),
            "category_kept": share_figure([k for g in groups.values() for k in g["kept"]]),
            "records": records, "seconds": mean_figure(seconds, seed),
            "identity": _identity_figures(identity, portraits_without_face)}


def _face_analyzer() -> Any:
    from generation.ml.analysis import FaceAnalyzer

    return FaceAnalyzer()


def _distance(analyzer: Any, portrait: np.ndarray | None, image: np.ndarray) -> float | None:
    from generation.ml.faces import embedding_distance

    embedding = analyzer.analyze(np.ascontiguousarray(image)).embedding
    return None if portrait is None or embedding is None else embedding_distance(portrait, embedding)


def _identity_figures(distances: dict[str, list[float | None]], portraits_without_face: int
                      ) -> dict[str, Any] | None:
    from generation.ml.faces import SAME_PERSON_THRESHOLD

    if not distances["staged"]:
        return None
    out: dict[str, Any] = {"threshold": SAME_PERSON_THRESHOLD,
                           "portraits_without_face": portraits_without_face}
    for key, values in distances.items():
        out[key] = {"verified": share_figure([d is not None and d < SAME_PERSON_THRESHOLD for d in values]),
                    "distance": mean_figure([d for d in values if d is not None]),
                    "no_face": sum(d is None for d in values), "n": len(values)}
    return out


# --- Entry points -----------------------------------------------------------------------------------


def studio_figures(cases: Sequence[StudioCase], *, seed: int = 0, stages: Sequence[str] | None = None,
                   methods: Sequence[str] = superres.METHODS, torch_home: Path | None = None,
                   analyzer: Any = None, progress: Progress | None = None) -> dict[str, Any]:
    """The figures of the module doc for ``cases``. ``stages``: the sections to measure (names from
    ``SECTIONS``; None: all); ``methods``: the super-resolution methods; ``torch_home``: holds the LPIPS
    AlexNet backbone (None: LPIPS unavailable); ``analyzer``: a ``FaceAnalyzer`` with embeddings (for
    identity; made when needed); ``progress``: called with a line after each section."""
    chosen = list(SECTIONS if stages is None else stages)
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown sections {sorted(unknown)}; the sections are: {', '.join(SECTIONS)}")
    if not cases:
        raise ValueError("studio_figures needs at least one case")
    for case in cases:
        if case.clean.shape != (256, 256, 3) or np.asarray(case.landmarks).shape != (68, 2):
            raise ValueError(f"{case.name}: need a (256, 256, 3) crop and (68, 2) landmarks")
    say = progress or (lambda message: None)
    started = time.perf_counter()
    figures: dict[str, Any] = {"cases": len(cases), "names": [c.name for c in cases], "seed": seed,
                               "torch_threads": torch.get_num_threads()}
    run = {"super_resolution": lambda: super_resolution_figures(cases, methods, torch_home, seed),
           "lighting": lambda: lighting_figures(cases, seed),
           "colour": lambda: colour_figures(cases, seed),
           "background": lambda: background_figures(cases, seed),
           "all_stages": lambda: all_stages_figures(cases, seed, analyzer)}
    for name in SECTIONS:
        if name in chosen:
            figures[name], took = _timed(run[name])
            say(f"{name} measured on {len(cases)} people in {took:.0f} s")
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


# --- Tables -----------------------------------------------------------------------------------------


def mean_text(figure: dict[str, Any] | None, digits: int = 2, scale: float = 1.0, unit: str = "") -> str:
    """A ``mean_figure`` as "mean [low, high]" ("—" when there is none)."""
    if not figure or figure.get("mean") is None:
        return "—"
    low, high = figure["interval"]
    return f"{figure['mean'] * scale:.{digits}f}{unit} [{low * scale:.{digits}f}, {high * scale:.{digits}f}]"


def share_text(figure: dict[str, Any] | None) -> str:
    """A ``share_figure`` as "share [low, high] (count/n)" ("—" when there is none)."""
    if not figure or figure.get("share") is None:
        return "—"
    low, high = figure["interval"]
    return f"{figure['share']:.0%} [{low:.0%}, {high:.0%}] ({figure['count']}/{figure['n']})"


def _rows(header: Sequence[str], rows: list[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return [indent + "  ".join(f"{cell!s:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, *rows]]


def _super_resolution_table(f: dict[str, Any]) -> list[str]:
    lines = [f"Super-resolution: 64-px input of {f['n']} people ({f['input_from_native128']} from the native "
             "128-px crop); PSNR dB, whole frame, on luma Y and RGB; LPIPS alex, lower is closer; "
             f"ms/image after a warm-up, torch {f['threads']} thread(s)"]
    rows = []
    for method, result in f["methods"].items():
        if isinstance(result, str):
            rows.append([method, "—", result, "", "", "", ""])
            continue
        for side in (128, 256):
            s = result.get(f"to_{side}")
            if s is None:
                continue
            lpips = mean_text(s["lpips"], 4) if s["lpips"] else f["lpips"]
            rows.append([method, f"64→{side}", mean_text(s["psnr_y"]), mean_text(s["psnr_rgb"]), lpips,
                         mean_text(s["seconds"], 1, 1000), str(s["psnr_y"]["n"])])
    lines += _rows(["method", "size", "PSNR-Y dB", "PSNR-RGB dB", "LPIPS", "ms/image", "n"], rows)
    lines.append("  64→128 against the native 128-px crop; 64→256 against the 256-px crop (itself upsampled)")
    return lines


def _lighting_table(f: dict[str, Any]) -> list[str]:
    lines = [f"Lighting: known side light on {f['n']} clean crops, then estimate_light and relight "
             f"(relight {mean_text(f['seconds'], 2)} s/image)"]
    rows = [[kind, mean_text(f[kind]["direction_error"], 1, unit="°"), share_text(f[kind]["side_correct"]),
             *(mean_text(f[kind]["asymmetry"][k], 3) for k in ("clean", "lit", "relit"))]
            for kind in ("lambertian", "gradient")]
    lines += _rows(["light", "direction error", "side right", "asym clean", "asym lit", "asym relit"], rows)
    lines += [f"  {kind}: {f[kind]['light']}" for kind in ("lambertian", "gradient")]
    lines.append("  direction error: 3-D angle (lambertian), in-plane angle (gradient); asymmetry: "
                 "|left − right| / mean skin luminance")
    lines.append(f"  relight on the clean crop: ΔITA {mean_text(f['delta_ita_clean'], 2, unit='°')}, "
                 "max |ΔITA| "
                 + ("—" if f["abs_delta_ita_clean_max"] is None else f"{f['abs_delta_ita_clean_max']:.2f}°"))
    return lines


def _colour_table(f: dict[str, Any]) -> list[str]:
    if "unavailable" in f:
        return ["Colour: " + f["unavailable"]]
    d = f["delta_e"]
    lines = [f"Colour: {f['cast']} on {f['n']} clean crops, then harmonise "
             f"({mean_text(f['seconds'], 2)} s/image); mean CIEDE2000 to the clean crop"]
    rows = [[region, *(mean_text(d[f"{key}_{part}"]) for key in ("before", "after", "on_clean"))]
            for region, part in (("whole image", "image"), ("face region", "face"))]
    return lines + _rows(["region", "ΔE cast", "ΔE harmonised", "ΔE harmonise on clean"], rows)


def _background_table(f: dict[str, Any]) -> list[str]:
    worst = "—" if f["face_core_changed_max"] is None else f"{f['face_core_changed_max']:.4f}"
    return [f"Background: replace_background ({f['backdrop']}) on {f['n']} clean crops, "
            f"{mean_text(f['seconds'], 2)} s/image",
            f"  flatness (luminance SD over the background): photo {mean_text(f['flatness_before'])}, "
            f"output − backdrop {mean_text(f['flatness_after'])}",
            f"  face pixels changed: core {mean_text(f['face_core_changed_share'], 4)} (max "
            f"{worst}; must be 0), whole landmark region "
            f"{mean_text(f['face_region_changed_share'], 4)}"]


def _all_stages_table(f: dict[str, Any]) -> list[str]:
    lines = [f"All default stages ({', '.join(f['stages'])}) on {f['n']} clean crops at 64 px "
             f"({mean_text(f['seconds'], 2)} s/image)"]
    for name, r in f["records"].items():
        reasons = f" ({'; '.join(r['reasons'])})" if r["reasons"] else ""
        lines.append(f"  {name}: applied {r['applied']}, skipped {r['skipped']}, "
                     f"unavailable {r['unavailable']}{reasons}")
    rows = [[name, mean_text(g["abs_delta_ita"], 2, unit="°"), f"{g['max_abs_delta_ita']:.2f}°",
             share_text(g["category_kept"]), str(g["n"])] for name, g in f["groups"].items()]
    rows.append(["all", mean_text(f["abs_delta_ita"], 2, unit="°"), "", share_text(f["category_kept"]),
                 str(f["abs_delta_ita"]["n"])])
    lines += _rows(["skin tone", "|ΔITA| output vs input", "max |ΔITA|", "ITA category kept", "n"], rows)
    identity = f.get("identity")
    if identity:
        lines.append(f"  identity against the clean portrait (dlib, distance < {identity['threshold']}; "
                     f"no face = not verified; portraits without a face: "
                     f"{identity['portraits_without_face']})")
        rows = [[key, share_text(identity[key]["verified"]), mean_text(identity[key]["distance"], 3),
                 str(identity[key]["no_face"]), str(identity[key]["n"])]
                for key in ("raw_64", "raw_256_bicubic", "staged")]
        header = ["generated headshot", "verified", "distance (faces found)", "no face", "n"]
        lines += _rows(header, rows, "    ")
    return lines


def format_table(figures: dict[str, Any]) -> str:
    """The figures as readable tables, one section per stage measured."""
    lines = [f"Studio stages on {figures['cases']} held-out people (seed {figures['seed']}, "
             f"{figures['seconds']:.0f} s); mean [95% bootstrap interval], shares [Wilson 95%]"]
    tables = {"super_resolution": _super_resolution_table, "lighting": _lighting_table,
              "colour": _colour_table, "background": _background_table, "all_stages": _all_stages_table}
    for name, table in tables.items():
        if name in figures:
            lines += ["", *table(figures[name])]
            failed = figures[name].get("failed") or []
            if failed:
                lines.append(f"  not measured ({len(failed)}): "
                             + "; ".join(f"{f['case']}: {f['reason']}" for f in failed))
    return "\n".join(lines)
