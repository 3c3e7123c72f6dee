"""Upload validation: what a selfie must be before the face pipeline sees it.

Checks by content, never by file name: JPEG, PNG or WebP only; a byte limit; a pixel limit read
from the header before decoding (and Pillow's decompression-bomb guard behind it). Accepted images
are turned upright by their EXIF orientation, converted to 8-bit RGB (CMYK, 16-bit, palette and
alpha images included) and re-encoded with no metadata at all, so no EXIF (GPS, device) is stored.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class UploadRejected(Exception):
    """The file cannot be used; ``code`` is one of the pipeline's rejection codes."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class CleanImage:
    rgb: np.ndarray  # H×W×3 uint8, upright
    content: bytes  # re-encoded file, no metadata
    extension: str
    source_format: str
    sha256: str  # of the uploaded bytes (duplicate detection)
    file_size: int

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit (or 32-bit integer) grey: scale by the real range, not by truncation.
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        grey = np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")  # CMYK, YCbCr, L, P, RGB, F


def clean_upload(stream: BinaryIO, *, max_bytes: int, max_pixels: int) -> CleanImage:
    """Validate an uploaded file and return it upright, RGB and without metadata.

    Raises :class:`UploadRejected` with ``not_an_image`` or ``too_large``.
    """
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadRejected("too_large", f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
    if not data:
        raise UploadRejected("not_an_image", "The file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise UploadRejected(
                    "not_an_image",
                    f"{image.format or 'This'} files are not accepted; use JPEG, PNG or WebP.",
                )
            width, height = image.size
            if width * height > max_pixels:
                raise UploadRejected(
                    "too_large",
                    f"The image has {width}×{height} pixels; the limit is "
                    f"{max_pixels / 1e6:.0f} megapixels.",
                )
            image.load()  # truncated or corrupt data fails here
            source_format = image.format
            image = ImageOps.exif_transpose(image)
            rgb_image = _to_rgb(image)
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected("too_large", "The image has too many pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        detail = "The file is not a readable JPEG, PNG or WebP image"
        if isinstance(exc, OSError) and "truncated" in str(exc).lower():
            detail = "The image file is cut off (truncated)"
        raise UploadRejected("not_an_image", detail + ".") from None

    extension = "png" if source_format == "PNG" else "jpg"
    out = io.BytesIO()
    if extension == "png":
        rgb_image.save(out, format="PNG", optimize=True)
    else:
        rgb_image.save(out, format="JPEG", quality=95)
    return CleanImage(
        rgb=np.asarray(rgb_image, dtype=np.uint8).copy(),
        content=out.getvalue(),
        extension=extension,
        source_format=source_format,
        sha256=hashlib.sha256(data).hexdigest(),
        file_size=len(data),
    )
