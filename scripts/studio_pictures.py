"""Before/after pictures of the studio stages for docs/studio.md, on people the shipped generator
holds out. No Django.

    .venv/bin/python scripts/studio_pictures.py --out docs/images/studio-before-after.jpg

One row per person: the simulated selfie the generator gets (64 px), the generator's output (64 px),
the same through the default studio stages (256 px), then with the background stage too, and the
person's clean portrait. Small images
are shown enlarged with nearest-neighbour, so their pixels stay visible.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "studio-before-after.jpg")
    parser.add_argument("--people", type=int, default=4)
    parser.add_argument("--generator", type=Path, default=ROOT / "generation" / "checkpoints" / "headshot-v3")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from generation.ml import FaceAnalyzer, corpus_photo, corpus_wheel, decode_photo
    from generation.ml.align import align_face, aligned_face
    from generation.ml.generator import load_generator, sample, to_tensor, to_uint8
    from generation.ml.selfie import simulated_selfie
    from generation.ml.studio.base import FaceContext
    from generation.ml.studio.pipeline import DEFAULT_STAGES, stages_apply, stages_check

    wheel = corpus_wheel(ROOT / "var" / "cache")
    names = json.loads((args.generator / "dataset.json").read_text())["heldout_refs"]
    analyzer = FaceAnalyzer(compute_embedding=False)
    unet, _, sched, _ = load_generator(args.generator)
    rows = []
    for i, name in enumerate(names):
        rgb = decode_photo(corpus_photo(wheel, name))
        analysis = analyzer.analyze(rgb)
        if analysis.landmarks is None:
            continue
        landmarks = np.asarray(analysis.landmarks, np.float64)
        clean = align_face(rgb, landmarks, 256)
        casual, _ = simulated_selfie(align_face(rgb, landmarks, 128), seed=args.seed + i, size=64)
        raw = to_uint8(sample(unet, sched, to_tensor(casual[None]), steps=25, seeds=[args.seed + i]))[0]
        face = FaceContext(landmarks=aligned_face(rgb, landmarks, 64)[1])
        final, _ = stages_apply(raw, face, stages_check(None))
        backdrop, more = stages_apply(raw, face, stages_check([*DEFAULT_STAGES, "background"]))
        print(f"{name}: " + ", ".join(f"{r['name']} {r['status']}" for r in more))
        big = [Image.fromarray(casual).resize((256, 256), Image.NEAREST),
               Image.fromarray(raw).resize((256, 256), Image.NEAREST), Image.fromarray(final),
               Image.fromarray(backdrop), Image.fromarray(clean)]
        rows.append(np.hstack([np.asarray(b) for b in big]))
        if len(rows) == args.people:
            break
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.vstack(rows)).save(args.out, quality=90)
    print(f"wrote {args.out}: columns selfie (64 px) | generated (64 px) | default stages (256 px) | "
          "with the background stage | clean portrait")


if __name__ == "__main__":
    main()
