import io

import pytest
from PIL import Image, ImageFilter

from uploads import webp

OPTIONS = {"quality": 80, "method": 1}


def coloured_photo(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Grain over gradients and a soft edge: what makes the encoder's choices depend on every pixel."""
    grain = Image.effect_noise(size, 40)
    gradient = Image.linear_gradient("L").resize(size)
    picture = Image.merge("RGB", [grain, gradient, gradient.transpose(Image.Transpose.ROTATE_180)])
    return picture.filter(ImageFilter.GaussianBlur(1)).convert(mode)


def pillow_webp(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "WEBP", **OPTIONS)
    return buffer.getvalue()


@pytest.mark.parametrize("size", [(2048, 1536), (1024, 768), (321, 217), (1, 1)])
def test_an_rgb_picture_encodes_to_the_same_bytes_as_pillows_save(size):
    picture = coloured_photo(size)

    assert webp.encode(picture, **OPTIONS) == pillow_webp(picture)


def test_a_picture_with_transparency_keeps_its_alpha_and_matches_pillow():
    picture = coloured_photo((640, 480), "RGBA")
    picture.putalpha(Image.linear_gradient("L").resize(picture.size))

    encoded = webp.encode(picture, **OPTIONS)

    assert encoded == pillow_webp(picture)
    decoded = Image.open(io.BytesIO(encoded))
    assert decoded.mode == "RGBA"
    assert decoded.getchannel("A").getextrema() == (0, 255)


def test_a_picture_whose_rows_are_not_in_one_block_is_left_to_pillow():
    # Pillow keeps pictures over 16 MiB in several blocks, which the Arrow export does not hand out as one buffer.
    picture = Image.new("RGB", (2100, 2100), "teal")

    assert webp.encode(picture, **OPTIONS) is None


def test_a_mode_other_than_rgb_or_rgba_is_left_to_pillow():
    assert webp.encode(Image.new("L", (64, 48), 128), **OPTIONS) is None


def test_a_picture_libwebp_refuses_raises_with_its_reason():
    # Wider than WebP's 16383-pixel limit, yet a single block: libwebp answers VP8_ENC_ERROR_BAD_DIMENSION.
    with pytest.raises(OSError, match=r"could not encode the picture \(error 5\)"):
        webp.encode(Image.new("RGB", (16384, 1), "teal"), **OPTIONS)
