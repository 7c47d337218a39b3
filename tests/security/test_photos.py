import io

import pytest
from PIL import Image

from citygrid.security.photos import NotAnImage, has_location, public_copy

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(size=(40, 20), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    image.putpixel((0, 0), (0, 0, 255))
    exif = Image.Exif()
    exif[0x010F] = "Huawei"  # Make
    exif[0x0132] = "2026:11:27 08:00:00"  # DateTime
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (30.0, 39.0, 36.0)
    gps[3] = "E"
    gps[4] = (104.0, 3.0, 36.0)
    if orientation:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_the_public_copy_has_no_position_and_the_original_keeps_it():
    original = jpeg_with_gps()
    copy = public_copy(original)
    assert has_location(original)
    assert not has_location(copy)
    with Image.open(io.BytesIO(copy)) as image:
        assert image.format == "JPEG"
        assert image.size == (40, 20)
        assert not image.getexif()
        assert "exif" not in image.info


def test_orientation_is_applied_to_the_pixels():
    copy = public_copy(jpeg_with_gps(size=(40, 20), orientation=6))  # rotate 90° clockwise
    with Image.open(io.BytesIO(copy)) as image:
        assert image.size == (20, 40)
        assert ORIENTATION not in image.getexif()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_other_formats_keep_their_format(fmt):
    out = io.BytesIO()
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD)[1] = "N"
    Image.new("RGB", (16, 16), (1, 2, 3)).save(out, fmt, exif=exif.tobytes())
    copy = public_copy(out.getvalue())
    with Image.open(io.BytesIO(copy)) as image:
        assert image.format == fmt
        assert not image.getexif().get_ifd(GPS_IFD)


def test_not_an_image_is_refused():
    with pytest.raises(NotAnImage):
        public_copy(b"GIF89a not really")
