"""Public copies of photos: the picture without its metadata (MLPS 2.0 个人信息保护).

Photos a reporter's phone takes carry EXIF: the GPS position (often the reporter's home), the
device, the time. The original stays untouched as evidence (its SHA-256 is in the case
history); pages for the public show `public_copy(original)`, which keeps only the pixels,
turned upright by the EXIF orientation, re-encoded in the same format.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

JPEG_QUALITY = 90
SAVE_FORMATS = {"JPEG", "PNG", "WEBP"}


class NotAnImage(ValueError):
    """The bytes are not a readable JPEG, PNG or WebP image."""


def public_copy(photo_bytes: bytes) -> bytes:
    """The photo re-encoded without EXIF, XMP, ICC-embedded comments or GPS, with the EXIF
    orientation applied to the pixels (so it still shows upright)."""
    try:
        with Image.open(io.BytesIO(photo_bytes)) as image:
            fmt = (image.format or "").upper()
            if fmt not in SAVE_FORMATS:
                raise NotAnImage(f"{fmt or 'unknown'} images are not handled")
            upright = ImageOps.exif_transpose(image)
            pixels = Image.new(upright.mode, upright.size)
            pixels.frombytes(upright.tobytes())  # a fresh image: no info, no exif carried over
            if upright.mode == "P" and upright.getpalette():
                pixels.putpalette(upright.getpalette() or [])
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise NotAnImage(str(exc)) from None
    out = io.BytesIO()
    if fmt == "JPEG":
        if pixels.mode not in ("RGB", "L", "CMYK"):
            pixels = pixels.convert("RGB")
        pixels.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif fmt == "WEBP":
        pixels.save(out, "WEBP", quality=JPEG_QUALITY)
    else:
        pixels.save(out, "PNG", optimize=True)
    return out.getvalue()


def has_location(photo_bytes: bytes) -> bool:
    """Whether the photo's EXIF holds a GPS block (for tests and checks)."""
    with Image.open(io.BytesIO(photo_bytes)) as image:
        gps = image.getexif().get_ifd(0x8825)
        return bool(gps)
