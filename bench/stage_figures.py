"""The lighting and colour stages measured on known damage rendered onto corpus photos: the figures
docs/studio.md quotes beside the stages' tests. No Django, no generator.

    .venv/bin/python bench/stage_figures.py                 # the first 240 corpus photos
    .venv/bin/python bench/stage_figures.py --photos 60     # quicker, wider intervals

Photos: the first ``--photos`` corpus photos (CelebA) that the face pipeline accepts, aligned at 256 px
with their landmarks carried into the crop, grouped by their measured ITA° skin-tone category.

lighting
    Near-frontal faces (|yaw| < 6°) get their own low-frequency shading divided out
    (``evaluate.flat_albedo``) and are lit by ambient 0.3 + Lambert on the estimator's face shape
    (``evaluate.lambertian_light``) from three side lights and from the front. Printed: the 3-D
    direction error of ``estimate_light`` (median, 90th percentile, max), the reduction of the left /
    right face asymmetry by ``relight`` on the side-lit faces, and |ΔITA°| of ``relight`` on every clean
    crop per group (relighting must not move skin tone).
colour
    |ΔITA°| of ``harmonise`` on every clean crop per group (the stage's guard is 2.5°), the face's
    median CIEDE2000 change and largest L* change on clean crops, and, for a warm and a cool cast
    (sRGB gains 1.15/1.0/0.85 and 0.87/1.0/1.13), the surround's ΔE between ``harmonise(cast)`` and
    ``harmonise(clean)`` as a share of the cast's own ΔE (1 = the cast untouched, 0 = removed), with
    the same share over the whole frame and over the face.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skimage.color import rgb2lab  # noqa: E402

from generation.ml.skin_tone import ITA_CATEGORIES, measure_skin_tone  # noqa: E402
from generation.ml.studio import colour, lighting  # noqa: E402
from generation.ml.studio.base import FaceContext, face_region_mask  # noqa: E402
from generation.ml.studio.evaluate import flat_albedo, lambertian_light  # noqa: E402

SIZE = 256
SIDE_LIGHTS = ((-60.0, 0.0), (-45.0, 20.0), (50.0, -10.0))  # (azimuth, elevation) degrees
CASTS = {"warm": (1.15, 1.0, 0.85), "cool": (0.87, 1.0, 1.13)}
FRONTAL_YAW = 6.0
GROUPS = [code for code, _, _ in ITA_CATEGORIES]


def accepted_crops(count: int) -> list[dict]:
    """[{name, crop, landmarks, group, yaw}] of the first ``count`` corpus photos the pipeline accepts."""
    from generation.ml import FaceAnalyzer, corpus_photos, corpus_wheel, decode_photo
    from generation.ml.align import aligned_face

    analyzer, out = FaceAnalyzer(compute_embedding=False), []
    for name, data in corpus_photos(corpus_wheel(ROOT / "var" / "cache")):
        result = analyzer.analyze(decode_photo(data))
        if result.landmarks is None or result.rejections:
            continue
        crop, points = aligned_face(decode_photo(data), result.landmarks, SIZE)
        _, group = measure_skin_tone(crop, points)
        if group is None:
            continue
        yaw = (result.pose or {}).get("yaw")
        out.append({"name": name, "crop": crop, "landmarks": points, "group": group, "yaw": yaw})
        if len(out) == count:
            break
    return out


def with_cast(rgb: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    return np.round(np.clip(rgb / 255.0 * np.array(gains), 0.0, 1.0) * 255.0).astype(np.uint8)


def per_group(values: dict[str, list[float]]) -> str:
    parts = [f"{g} {max(values[g]):.2f} (n {len(values[g])})" for g in GROUPS if values.get(g)]
    return "max |ΔITA°| per group: " + ", ".join(parts)


def lighting_figures(photos: list[dict]) -> list[str]:
    frontal = [p for p in photos if p["yaw"] is not None and abs(p["yaw"]) < FRONTAL_YAW]
    errors, front_errors, reductions = [], [], []
    for p in frontal:
        albedo, landmarks = flat_albedo(p["crop"], p["landmarks"]), p["landmarks"]
        for azimuth, elevation in SIDE_LIGHTS:
            direction = lighting.direction_from_angles(azimuth, elevation)
            image = lambertian_light(albedo, landmarks, direction)
            estimate = lighting.estimate_light(image, landmarks)
            errors.append(lighting.light_direction_error(estimate, direction))
            relit = lighting.relight(image, FaceContext(landmarks=landmarks))
            before = lighting.face_asymmetry(image, landmarks)
            reductions.append(1 - lighting.face_asymmetry(relit, landmarks) / before)
        front = np.array([0.0, 0.0, 1.0])
        image = lambertian_light(albedo, landmarks, front)
        front_errors.append(lighting.light_direction_error(lighting.estimate_light(image, landmarks), front))
    shifts: dict[str, list[float]] = {}
    for p in photos:
        out = lighting.relight(p["crop"], FaceContext(landmarks=p["landmarks"]))
        after, _ = measure_skin_tone(out, p["landmarks"])
        before, _ = measure_skin_tone(p["crop"], p["landmarks"])
        shifts.setdefault(p["group"], []).append(abs(after - before))
    e = np.array(errors)
    return [
        f"lighting: {len(frontal)} near-frontal faces (|yaw| < {FRONTAL_YAW:g}°) × {len(SIDE_LIGHTS)} "
        "side lights",
        f"  direction error: median {np.median(e):.1f}°, 90th percentile {np.percentile(e, 90):.1f}°, "
        f"max {e.max():.1f}°; frontal light read within {np.median(front_errors):.1f}° (median)",
        f"  left/right asymmetry removed by relight: median {100 * np.median(reductions):.0f}%, "
        f"10th percentile {100 * np.percentile(reductions, 10):.0f}%",
        f"  relight on {sum(map(len, shifts.values()))} clean crops: {per_group(shifts)}",
    ]


def colour_figures(photos: list[dict]) -> list[str]:
    shifts: dict[str, list[float]] = {}
    face_de, lightness = [], []
    ratios: dict[str, dict[str, list[float]]] = {k: {"surround": [], "frame": [], "face": []} for k in CASTS}
    for p in photos:
        rgb, landmarks = p["crop"], p["landmarks"]
        face = FaceContext(landmarks=landmarks)
        clean = colour.harmonise(rgb, face)
        region = face_region_mask(rgb.shape[:2], landmarks)
        after, _ = measure_skin_tone(clean, landmarks)
        before, _ = measure_skin_tone(rgb, landmarks)
        shifts.setdefault(p["group"], []).append(abs(after - before))
        face_de.append(colour.delta_e2000(clean, rgb, region))
        lightness.append(float(np.abs(rgb2lab(clean)[..., 0] - rgb2lab(rgb)[..., 0])[region].max()))
        masks = {"surround": colour.surround_mask(rgb, landmarks), "frame": None, "face": region}
        for kind, gains in CASTS.items():
            cast = with_cast(rgb, gains)
            fixed = colour.harmonise(cast, face)
            for where, mask in masks.items():
                ratios[kind][where].append(colour.delta_e2000(fixed, clean, mask)
                                           / max(colour.delta_e2000(cast, rgb, mask), 1e-9))
    lines = [f"colour: {len(photos)} clean crops",
             f"  {per_group(shifts)} (guard {colour.ITA_GUARD:g}°)",
             f"  face on clean crops: ΔE2000 median {np.median(face_de):.2f}, "
             f"largest |ΔL*| {max(lightness):.2f}"]
    for kind, by in ratios.items():
        lines.append(f"  {kind} cast {CASTS[kind]}: ΔE left / cast ΔE (median) surround "
                     f"{np.median(by['surround']):.2f}, whole frame {np.median(by['frame']):.2f}, "
                     f"face {np.median(by['face']):.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=240, help="corpus photos the pipeline accepts")
    args = parser.parse_args()
    start = time.perf_counter()
    photos = accepted_crops(args.photos)
    counts = {g: sum(p["group"] == g for p in photos) for g in GROUPS}
    print(f"$ .venv/bin/python bench/stage_figures.py --photos {args.photos}")
    print(f"{len(photos)} accepted corpus photos, 256-px aligned crops; groups: "
          + ", ".join(f"{g} {n}" for g, n in counts.items() if n))
    for line in lighting_figures(photos) + colour_figures(photos):
        print(line, flush=True)
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
