"""The ThumbHash encoder against the reference implementation's output for the same pixels."""

import pytest
from PIL import Image, ImageDraw

from uploads.thumbhash import rgba_to_thumbhash


def drawn(width: int, height: int, alpha: bool) -> bytes:
    """Two shapes on a colour, with see-through ones when `alpha`: every channel has something to encode."""
    im = Image.new("RGBA" if alpha else "RGB", (width, height), (200, 30, 60, 255) if alpha else (200, 30, 60))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, width // 2, height // 3), fill=(10, 200, 90, 120) if alpha else (10, 200, 90))
    draw.ellipse((width // 3, height // 3, width, height), fill=(250, 250, 20, 0) if alpha else (250, 250, 20))
    return im.convert("RGBA").tobytes()


# From the reference encoder (npm `thumbhash` 0.1.1, rgbaToThumbHash) given the same pixels.
@pytest.mark.parametrize(
    ("width", "height", "alpha", "expected"),
    [
        (100, 75, False, "5f5b064596308a69b069779378a776784090533a60"),
        (60, 100, True, "98e9820b0a285cffb88b57a300340a40de650da53b4689"),
        (100, 100, False, "5f5b064716308a69b06977a378a776867779060439a50306"),
        (1, 1, False, "2b0f56cf0108f708888788708f7088f80888808008000000"),
        (37, 9, True, "58b982098e275c86fd6898a302372a70dd670d955a7779"),
    ],
)
def test_the_hash_is_the_reference_encoders_byte_for_byte(width, height, alpha, expected):
    assert rgba_to_thumbhash(width, height, drawn(width, height, alpha)).hex() == expected


@pytest.mark.parametrize(("width", "height"), [(101, 10), (0, 5), (10, 0)])
def test_pictures_outside_100_by_100_are_refused(width, height):
    with pytest.raises(ValueError, match="do not fit"):
        rgba_to_thumbhash(width, height, bytes(width * height * 4))
