"""uploads.imaging: every file here is made by the test itself, most of them in a few hundred bytes."""

from __future__ import annotations

import io
import struct
import time
import warnings
import zipfile

import pi_heif
import pytest
from PIL import (
    EpsImagePlugin,
    ExifTags,
    Image,
    ImageChops,
    ImageDraw,
    ImageFile,
    ImageFilter,
    JpegImagePlugin,
    PsdImagePlugin,
)

from tests.images import (
    camera_exif,
    camera_jpeg,
    encoded,
    gif_frames,
    heic,
    heic_declaring,
    photo,
    png_header,
    progressive_jpeg,
    scan_bomb,
    webp_lossless_header,
)
from uploads import imaging
from uploads.imaging import MAX_JPEG_SCANS, BadMedia, ImageResult, Rendition, render

SMALL = {"small": {"size": 200, "crop": False}}
RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def opened(rendition: Rendition) -> Image.Image:
    return Image.open(io.BytesIO(rendition.data))


def only(result: ImageResult, name: str, ext: str) -> Rendition:
    [rendition] = [r for r in result.renditions if r.name == name and r.ext == ext]
    return rendition


def near(pixel: tuple[int, ...], colour: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=False))


# --- what is refused ---------------------------------------------------------------------------------------


def test_decompression_bomb_is_rejected_before_decoding(monkeypatch):
    bomb = png_header(30000, 30000)
    assert len(bomb.getvalue()) < 200
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("the bomb was decoded"))
    with pytest.raises(BadMedia, match="limit of 50 megapixels"):
        render(bomb, max_pixels=50_000_000)


def test_image_over_the_pixel_limit_is_rejected_from_its_header(monkeypatch):
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("the image was decoded"))
    with pytest.raises(BadMedia) as refused:
        render(png_header(8000, 8000), max_pixels=50_000_000)
    assert str(refused.value) == "The image is 8000×8000 pixels; the limit is 50 megapixels."


def test_pillow_bomb_warning_is_refused_even_with_a_higher_setting_and_filters_are_restored():
    filters = list(warnings.filters)
    # 100 MP: above Pillow's own limit (89.5 MP), where it only warns; a larger setting cannot lift that.
    with pytest.raises(BadMedia, match=r"limit of 89\.5 megapixels"):
        render(png_header(10000, 10000), max_pixels=500_000_000)
    assert warnings.filters == filters


def test_limits_and_renditions_default_to_settings_read_at_call_time(settings):
    settings.MAX_IMAGE_PIXELS = 100
    with pytest.raises(BadMedia, match=r"the limit is 0\.0001 megapixels"):
        render(encoded(Image.new("RGB", (20, 20)), "PNG"))
    settings.MAX_IMAGE_PIXELS = 50_000_000
    settings.MAX_DECODE_BYTES = 1000
    with pytest.raises(BadMedia, match="the limit is 0 MB"):
        render(encoded(Image.new("RGB", (20, 20)), "PNG"))
    settings.MAX_DECODE_BYTES = 400_000_000
    settings.IMAGE_DECODE_SECONDS = 0
    with pytest.raises(BadMedia, match=r"took too long to decode \(more than 0 seconds\)"):
        render(encoded(Image.new("RGB", (20, 20)), "PNG"))
    settings.IMAGE_DECODE_SECONDS = 10
    settings.MEDIA_RENDITIONS = {"tiny": {"size": 16, "crop": True}}
    result = render(encoded(Image.new("RGB", (20, 20)), "PNG"))
    assert {(r.name, r.width, r.height) for r in result.renditions} == {("tiny", 16, 16)}


def not_decoded(monkeypatch) -> None:
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("the file was decoded"))


def cpu_seconds(call) -> float:
    started = time.thread_time()
    call()
    return time.thread_time() - started


def refusal(call) -> tuple[str, float]:
    """What call() refused the file with, and the CPU seconds it took to."""
    started = time.thread_time()
    with pytest.raises(BadMedia) as refused:
        call()
    return str(refused.value), time.thread_time() - started


def test_scan_bomb_is_refused_from_its_markers_without_decoding(monkeypatch):
    # 4 MP and 5,000 empty scans in 74 kB: 3 s of CPU if decoded (at 49 MP: over half a minute, docs/benchmarks.md).
    bomb = scan_bomb((2000, 2000), 5000)
    assert len(bomb.getvalue()) < 80_000
    not_decoded(monkeypatch)
    reason, seconds = refusal(lambda: render(bomb))
    assert reason == (
        "This JPEG is made of more than 100 scans, where cameras and editors write at most a dozen or so; "
        "decoding it would take far too long."
    )
    assert seconds < 0.1


def test_jpeg_of_as_many_scans_as_the_limit_renders_and_one_more_is_refused():
    assert progressive_jpeg((64, 64)).count(b"\xff\xda") == 10  # libjpeg's script; no other FF DA in the file
    assert render(scan_bomb((64, 64), MAX_JPEG_SCANS - 10), renditions=SMALL).format == "image/jpeg"
    with pytest.raises(BadMedia, match="more than 100 scans"):
        render(scan_bomb((64, 64), MAX_JPEG_SCANS - 9), renditions=SMALL)


def test_scan_markers_inside_segments_and_pictures_are_not_counted():
    # A comment full of FF DA bytes, and an EXIF thumbnail with its own scans, are skipped by their lengths; the
    # entropy-coded data between restart markers is skipped up to each real marker.
    exif = Image.Exif()
    thumbnail = progressive_jpeg((160, 120))
    exif[ExifTags.Base.Make] = "Canon"
    data = encoded(
        photo((640, 480)),
        "JPEG",
        progressive=True,
        restart_marker_blocks=1,
        comment=b"\xff\xda" * 200,
        exif=exif.tobytes() + thumbnail,
    ).getvalue()
    assert data.count(b"\xff\xda") > MAX_JPEG_SCANS
    assert render(io.BytesIO(data), renditions=SMALL).width == 640


def test_progressive_camera_jpeg_is_rendered():
    source = camera_jpeg(progressive=True)
    assert Image.open(source).info["progressive"]
    source.seek(0)
    result = render(source, renditions=SMALL)
    assert (result.width, result.height, result.exif["make"]) == (600, 400, "Canon")


def test_decode_over_its_cpu_budget_is_stopped_part_way_and_refused():
    # 50 chunks of Pillow's 64 kB reads; the budget is checked before each.
    data = encoded(photo((2500, 2500)), "JPEG", progressive=True, quality=95).getvalue()
    assert len(data) > 50 * 65536
    whole = cpu_seconds(lambda: render(io.BytesIO(data), renditions=SMALL, decode_seconds=60))
    reason, stopped = refusal(lambda: render(io.BytesIO(data), renditions=SMALL, decode_seconds=0.02))
    assert reason == "This image took too long to decode (more than 0.02 seconds)."
    assert stopped < whole / 3


def test_jpeg_padded_with_junk_is_stopped_by_the_cpu_budget():
    # Pillow's header parser reads junk between markers a byte at a time: about 1 µs each, 3 s for these 3 MB.
    data = encoded(Image.new("RGB", (64, 48)), "JPEG").getvalue()
    padded = io.BytesIO(data[:20] + b"\0" * 3_000_000 + data[20:])  # after SOI and the JFIF segment
    reason, seconds = refusal(lambda: render(padded, decode_seconds=0.2))
    assert reason == "This image took too long to decode (more than 0.2 seconds)."
    assert seconds < 1


def test_tiny_lossless_webp_declaring_a_huge_picture_is_refused_before_decoding(monkeypatch):
    bomb = webp_lossless_header(7000, 7000)
    assert len(bomb.getvalue()) < 50
    not_decoded(monkeypatch)
    with pytest.raises(BadMedia) as refused:
        render(bomb)
    assert str(refused.value) == (
        "This 7000×7000 WEBP image would need about 980 MB of memory to decode; the limit is 400 MB."
    )


def heic_not_decoded(monkeypatch) -> None:
    # pi-heif's plugin decodes in its own load(), not ImageFile's.
    monkeypatch.setattr(pi_heif.HeifImageFile, "load", lambda self: pytest.fail("the HEIC was decoded"))


def test_tiny_heic_declaring_a_huge_picture_is_refused_before_decoding(monkeypatch):
    bomb = heic_declaring(9000, 9000)
    assert len(bomb.getvalue()) < 2000
    heic_not_decoded(monkeypatch)
    with pytest.raises(BadMedia) as refused:
        render(bomb)
    assert str(refused.value) == "The image is 9000×9000 pixels; the limit is 50 megapixels."


def test_heic_within_the_pixel_limit_but_over_the_memory_limit_is_refused_before_decoding(monkeypatch):
    heic_not_decoded(monkeypatch)
    with pytest.raises(BadMedia) as refused:
        render(heic_declaring(6000, 6000))  # 36 megapixels: under 50
    assert str(refused.value) == (
        "This 6000×6000 HEIF image would need about 432 MB of memory to decode; the limit is 400 MB."
    )


def test_png_within_the_pixel_limit_but_over_the_memory_limit_is_refused_before_decoding(monkeypatch):
    not_decoded(monkeypatch)
    with pytest.raises(BadMedia, match=r"6000×6000 PNG image would need about 432 MB of memory"):
        render(png_header(6000, 6000))  # 36 megapixels: under 50


def test_animated_gif_of_huge_frames_is_refused_before_decoding(monkeypatch):
    bomb = gif_frames((7000, 7000), 50)
    assert len(bomb.getvalue()) < 1200
    not_decoded(monkeypatch)
    with pytest.raises(BadMedia, match=r"7000×7000 GIF image would need about 588 MB of memory"):
        render(bomb)


def test_progressive_jpeg_counts_its_full_size_coefficients_against_the_memory_limit():
    # Baseline JPEG decodes at 1/8 scale for a 200-pixel rendition; a progressive one first holds every coefficient
    # of all 4 MP (two bytes each, 1.5 samples a pixel at 4:2:0): 12 MB.
    baseline = encoded(Image.new("RGB", (2000, 2000)), "JPEG")
    assert render(baseline, renditions=SMALL, max_decode_bytes=5_000_000).width == 2000
    with pytest.raises(BadMedia, match=r"2000×2000 JPEG image would need about 12 MB of memory"):
        render(io.BytesIO(progressive_jpeg((2000, 2000))), renditions=SMALL, max_decode_bytes=5_000_000)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"<!doctype html><html><body><h1>Hello</h1></body></html>", "not an image"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>', "not an image"),
        (b"%PDF-1.7\n1 0 obj << >> endobj\n", "not an image"),
        (b"\xff\xd8\xff", "not a valid image"),
    ],
    ids=["zero-bytes", "html", "svg-with-script", "pdf", "jpeg-signature-only"],
)
def test_files_that_are_not_images_are_refused(data, reason):
    with pytest.raises(BadMedia, match=reason):
        render(io.BytesIO(data))


def test_zip_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("picture.jpg", encoded(Image.new("RGB", (8, 8)), "JPEG").getvalue())
    with pytest.raises(BadMedia, match="not an image mediahub accepts"):
        render(buffer)


def test_truncated_heic_is_refused():
    whole = heic(photo((400, 300))).getvalue()
    with pytest.raises(BadMedia, match=r"not a valid image \(it is truncated\)"):
        render(io.BytesIO(whole[: len(whole) * 2 // 3]))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF"])
def test_truncated_image_is_refused_not_rendered_half_grey(fmt):
    whole = encoded(photo((400, 300)).convert("P") if fmt == "GIF" else photo((400, 300)), fmt).getvalue()
    assert not ImageFile.LOAD_TRUNCATED_IMAGES
    with pytest.raises(BadMedia, match=r"not a valid image \(it is truncated\)"):
        render(io.BytesIO(whole[: len(whole) * 2 // 3]))


def test_eps_and_psd_are_refused_without_being_parsed(monkeypatch):
    eps = encoded(Image.new("RGB", (10, 10)), "EPS")
    header = struct.pack(">HIIHH", 3, 4, 4, 8, 3) + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0)
    psd = io.BytesIO(b"8BPS\0\1" + b"\0" * 6 + header + b"\x80" * 48)
    # Both are real enough for Pillow when it is allowed every reader...
    assert (Image.open(eps).format, Image.open(psd).format) == ("EPS", "PSD")
    parsed = []
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", lambda self: parsed.append("EPS"))
    monkeypatch.setattr(PsdImagePlugin.PsdImageFile, "_open", lambda self: parsed.append("PSD"))
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *args, **kwargs: parsed.append("Ghostscript"))
    # ...but render() only lets the accepted formats' readers look at a file.
    for file in (eps, psd):
        with pytest.raises(BadMedia, match="not an image mediahub accepts"):
            render(file)
    assert parsed == []


def test_types_not_allowed_are_refused():
    with pytest.raises(BadMedia, match=r"accepts \(JPEG\)"):
        render(encoded(Image.new("RGB", (8, 8)), "PNG"), allowed=("image/jpeg",))


# --- what is accepted, and how it comes out ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("GIF", "image/gif"),
        ("AVIF", "image/avif"),
        ("HEIC", "image/heic"),
    ],
)
def test_every_accepted_format_is_rendered(fmt, mime):
    picture = Image.new("RGB", (64, 48), RED)
    result = render(heic(picture) if fmt == "HEIC" else encoded(picture, fmt), renditions=SMALL)
    assert (result.format, result.width, result.height, result.animated) == (mime, 64, 48, False)
    assert near(opened(only(result, "small", "jpg")).getpixel((32, 24)), RED)


def test_heic_is_rendered_as_jpeg_and_webp():
    result = render(heic(Image.new("RGB", (640, 480), RED)), renditions={**SMALL, "thumb": {"size": 100, "crop": True}})
    assert (result.format, result.width, result.height, result.animated) == ("image/heic", 640, 480, False)
    assert {(r.name, r.ext, r.content_type, r.width, r.height) for r in result.renditions} == {
        ("small", "jpg", "image/jpeg", 200, 150),
        ("small", "webp", "image/webp", 200, 150),
        ("thumb", "jpg", "image/jpeg", 100, 100),
        ("thumb", "webp", "image/webp", 100, 100),
    }
    for rendition in result.renditions:
        im = opened(rendition)
        assert im.format == {"jpg": "JPEG", "webp": "WEBP"}[rendition.ext]
        assert near(im.getpixel((50, 50)), RED)


def test_heic_with_alpha_keeps_it_in_webp_and_is_flattened_on_white_in_jpeg():
    im = Image.new("RGBA", (100, 100), (0, 0, 255, 0))
    ImageDraw.Draw(im).rectangle((0, 0, 49, 99), fill=(*RED, 255))
    result = render(heic(im), renditions=SMALL)
    jpeg, webp = opened(only(result, "small", "jpg")), opened(only(result, "small", "webp"))
    assert near(jpeg.getpixel((80, 50)), WHITE, 8)
    assert webp.mode == "RGBA"
    assert webp.getpixel((80, 50))[3] < 8
    assert near(webp.getpixel((20, 50)), (*RED, 255))


def test_renditions_are_jpeg_and_webp_with_the_right_content_types():
    result = render(encoded(photo((1200, 900)), "JPEG"), renditions=SMALL)
    assert [(r.name, r.ext, r.content_type) for r in result.renditions] == [
        ("small", "jpg", "image/jpeg"),
        ("small", "webp", "image/webp"),
    ]
    for rendition in result.renditions:
        im = opened(rendition)
        assert (im.format, im.size) == ({"jpg": "JPEG", "webp": "WEBP"}[rendition.ext], (200, 150))
    assert opened(result.renditions[0]).info.get("progressive")


def test_webp_renditions_are_the_same_whether_libwebp_is_reached_directly_or_through_pillow(monkeypatch):
    source = encoded(photo((1200, 900)), "JPEG").getvalue()
    direct = render(io.BytesIO(source), renditions=SMALL)
    monkeypatch.setattr(imaging.webp, "_library", lambda: None)  # another Pillow build: no libwebp to reach

    through_pillow = render(io.BytesIO(source), renditions=SMALL)

    assert only(direct, "small", "webp").data == only(through_pillow, "small", "webp").data


def test_large_landscape_gets_a_square_centre_thumb_and_fitted_sizes(settings):
    # Blue margins wider than the square crop leaves out; red in between.
    im = Image.new("RGB", (4800, 3200), "blue")
    ImageDraw.Draw(im).rectangle((790, 0, 4010, 3200), fill=RED)
    result = render(encoded(im, "JPEG"))
    sizes = {(r.name, r.ext): (r.width, r.height) for r in result.renditions}
    assert sizes == {
        ("thumb", "jpg"): (320, 320),
        ("thumb", "webp"): (320, 320),
        ("medium", "jpg"): (1024, 683),
        ("medium", "webp"): (1024, 683),
        ("large", "jpg"): (2048, 1365),
        ("large", "webp"): (2048, 1365),
    }
    thumb = opened(only(result, "thumb", "jpg"))
    assert thumb.size == (320, 320)
    assert all(near(thumb.getpixel(xy), RED) for xy in [(2, 2), (317, 2), (2, 317), (317, 317), (160, 160)])
    assert max(opened(only(result, "medium", "webp")).size) == 1024


def test_small_images_are_never_upscaled(settings):
    result = render(encoded(Image.new("RGB", (200, 100), RED), "PNG"))
    sizes = {r.name: (r.width, r.height) for r in result.renditions}
    assert sizes == {"thumb": (100, 100), "medium": (200, 100), "large": (200, 100)}
    assert all(opened(r).size == (r.width, r.height) for r in result.renditions)


# EXIF orientation -> how the camera stored an upright picture (the inverse of the transpose that undoes it).
STORED = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def stored_turned(orientation: int) -> tuple[Image.Image, Image.Exif]:
    """An upright picture as a camera stores it for `orientation`, and the EXIF that says so.
    Red top left, blue top right: no flip or turn leaves both where they were."""
    upright = Image.new("RGB", (1600, 800), WHITE)
    ImageDraw.Draw(upright).rectangle((0, 0, 399, 399), fill=RED)
    ImageDraw.Draw(upright).rectangle((1200, 0, 1599, 399), fill=BLUE)
    stored = upright.transpose(STORED[orientation]) if STORED[orientation] is not None else upright
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return stored, exif


def assert_upright(result: ImageResult) -> None:
    assert (result.width, result.height) == (1600, 800)
    small = opened(only(result, "small", "jpg"))
    assert small.size == (200, 100)
    assert near(small.getpixel((20, 20)), RED)
    assert near(small.getpixel((180, 20)), BLUE)
    assert near(small.getpixel((20, 80)), WHITE)
    assert near(small.getpixel((180, 80)), WHITE)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_so_renditions_are_upright(orientation, fmt):
    stored, exif = stored_turned(orientation)
    assert_upright(render(encoded(stored, fmt, exif=exif.tobytes()), renditions=SMALL))


def file_exif(data: bytes) -> Image.Exif:
    """The EXIF stored in a HEIC, as it is in the file."""
    exif = Image.Exif()
    exif.load(pi_heif.open_heif(io.BytesIO(data)).info["exif"])
    return exif


# The HEIF transforms that each orientation is written as: a turn (irot), a mirror (imir), or both.
HEIF_TRANSFORMS = {1: set(), 2: {b"imir"}, 3: {b"irot"}, 4: {b"imir"}, 5: {b"irot", b"imir"}, 6: {b"irot"}}
HEIF_TRANSFORMS |= {7: {b"irot", b"imir"}, 8: {b"irot"}}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_heic_is_turned_by_its_transforms_once_even_with_the_same_exif_orientation(orientation):
    # As an iPhone writes it: the picture as the sensor saw it, with the turn in both irot/imir and the EXIF.
    # Applying both would turn it twice.
    stored, exif = stored_turned(orientation)
    data = heic(stored, exif).getvalue()
    assert {box for box in (b"irot", b"imir") if box in data} == HEIF_TRANSFORMS[orientation]
    assert file_exif(data).get(ExifTags.Base.Orientation) == orientation
    assert_upright(render(io.BytesIO(data), renditions=SMALL))


def test_large_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    """DCT scaling: a JPEG much larger than its renditions never exists at full size in memory."""
    decoded = []
    draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = draft(self, mode, size)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    result = render(encoded(Image.new("RGB", (4000, 3000)), "JPEG"), renditions=SMALL)
    assert decoded == [(500, 375)]  # 1/8 scale, still at least 200 pixels wide
    assert (result.width, result.height) == (4000, 3000)


def decoded_sizes(monkeypatch) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Each JPEG decode, as (the size Pillow gave the picture, the size of the pixels it holds once loaded)."""
    seen = []
    load = ImageFile.ImageFile.load

    def spy(self):
        decoding = self._im is None  # later calls return what is loaded already
        pixels = load(self)
        if decoding and self.format == "JPEG":
            seen.append((self.size, self.im.size))
        return pixels

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return seen


# Red, green, blue and white quarters: a decode at the wrong size, shifted or cut short shows in the corners.
QUARTERS = (RED, (0, 255, 0), BLUE, WHITE)


def quarters(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    width, height = size
    im = Image.new("RGB", size)
    for i, colour in enumerate(QUARTERS):
        left, top = (i % 2) * width // 2, (i // 2) * height // 2
        ImageDraw.Draw(im).rectangle((left, top, left + width // 2, top + height // 2), fill=colour)
    return im.convert(mode)


def assert_quarters(rendition: Rendition, colours: tuple[tuple[int, ...], ...] = QUARTERS) -> None:
    im = opened(rendition).convert("RGB")
    width, height = im.size
    corners = [(3, 3), (width - 4, 3), (3, height - 4), (width - 4, height - 4)]
    assert [near(im.getpixel(xy), colour) for xy, colour in zip(corners, colours, strict=True)] == [True] * 4


@pytest.mark.parametrize(
    ("size", "decoded"),
    [
        ((1000, 800), (375, 300)),  # 3/8: 1/4 (250) is short of the 291 wanted, 1/2 (500) more than needed
        ((1001, 803), (376, 302)),  # odd sizes round up, as libjpeg does: ceil(1001 * 3 / 8)
        ((1100, 700), (413, 263)),  # the short side decides nothing when the long one fits
        ((700, 1000), (263, 375)),  # portrait
    ],
)
def test_jpeg_between_a_half_and_a_quarter_decodes_at_three_eighths(monkeypatch, size, decoded):
    seen = decoded_sizes(monkeypatch)
    result = render(encoded(quarters(size), "JPEG"), renditions={"r": {"size": 300, "crop": False}})
    assert seen == [(decoded, decoded)]
    assert (result.width, result.height) == size
    assert max(opened(only(result, "r", "jpg")).size) == 300
    assert_quarters(only(result, "r", "jpg"))


@pytest.mark.parametrize(
    ("size", "rendition", "decoded"),
    [
        ((4032, 3024), 2048, (2016, 1512)),  # a 12 MP phone photo: 3/8 (1512) would be far short
        ((1000, 800), 240, (250, 200)),  # 1/4 is enough
        ((1000, 800), 400, (500, 400)),  # 3/8 (375) is short of 388
    ],
)
def test_other_dct_scales_are_kept_where_three_eighths_would_not_do(monkeypatch, size, rendition, decoded):
    seen = decoded_sizes(monkeypatch)
    render(encoded(quarters(size), "JPEG"), renditions={"r": {"size": rendition, "crop": False}})
    assert seen == [(decoded, decoded)]


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("RGB", {"progressive": True}),
        ("L", {}),
        ("L", {"progressive": True}),
        ("CMYK", {}),
        ("RGB", {"subsampling": 0}),
    ],
    ids=["progressive", "grey", "grey-progressive", "cmyk", "4:4:4"],
)
def test_three_eighths_decodes_every_kind_of_jpeg_whole(monkeypatch, mode, options):
    seen = decoded_sizes(monkeypatch)
    result = render(
        encoded(quarters((1001, 803), mode), "JPEG", **options), renditions={"r": {"size": 300, "crop": False}}
    )
    assert seen == [((376, 302), (376, 302))]
    expected = QUARTERS if mode != "L" else tuple((c,) * 3 for c in (76, 150, 29, 255))  # grey: ITU-R 601 luma
    assert_quarters(only(result, "r", "jpg"), expected)
    assert_quarters(only(result, "r", "webp"), expected)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_three_eighths_decodes_are_turned_upright(monkeypatch, orientation):
    upright = quarters((1000, 800))
    stored = upright.transpose(STORED[orientation])
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    seen = decoded_sizes(monkeypatch)
    result = render(encoded(stored, "JPEG", exif=exif.tobytes()), renditions={"r": {"size": 300, "crop": False}})
    assert seen == [(stored_size := tuple(-(-side * 3 // 8) for side in stored.size), stored_size)]
    assert (result.width, result.height) == (1000, 800)
    assert opened(only(result, "r", "jpg")).size == (300, 240)
    assert_quarters(only(result, "r", "jpg"))


def spy_on_passes(monkeypatch) -> tuple[list[Image.Image], list[bool]]:
    """The pictures decoded, and for each resize() made during rendering whether the first of them was freed."""
    decoded, freed_at_each_pass = [], []
    load, resize = ImageFile.ImageFile.load, Image.Image.resize

    def spy_load(self):
        decoded.append(self)
        return load(self)

    def spy_resize(self, size, *args, **kwargs):
        freed_at_each_pass.append(decoded[0]._im is None)
        return resize(self, size, *args, **kwargs)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy_load)
    monkeypatch.setattr(Image.Image, "resize", spy_resize)
    return decoded, freed_at_each_pass


@pytest.mark.parametrize(
    ("fmt", "side", "freed"),
    # A JPEG decoded at 1/2 (500x400) and stretched to 480x384; a PNG reduce()d by 3 first, and freed after that.
    [("JPEG", 480, [False, True]), ("PNG", 300, [True, True])],
)
def test_decoded_pixels_are_freed_as_soon_as_the_next_picture_is_made(monkeypatch, fmt, side, freed):
    _, freed_at_each_pass = spy_on_passes(monkeypatch)
    result = render(encoded(quarters((1000, 800)), fmt), renditions={"r": {"size": side, "crop": False}})
    assert freed_at_each_pass == freed  # the horizontal pass, then the vertical one
    assert opened(only(result, "r", "jpg")).size == (side, side * 4 // 5)
    assert_quarters(only(result, "r", "jpg"))


def test_a_decoded_picture_shrunk_in_height_is_resized_into_the_result_a_band_at_a_time_then_freed(monkeypatch):
    decoded, freed_at_each_pass = spy_on_passes(monkeypatch)
    # Decoded at 3/8 (376x302), resampled to 300x240 in bands of 32 rows: 8 resize() calls on the decoded picture.
    result = render(encoded(quarters((1000, 800)), "JPEG"), renditions={"r": {"size": 300, "crop": False}})
    assert freed_at_each_pass == [False] * 8
    assert decoded[0]._im is None
    assert opened(only(result, "r", "jpg")).size == (300, 240)
    assert_quarters(only(result, "r", "jpg"))
    assert_quarters(only(result, "r", "webp"))


def test_bands_are_the_pixels_a_whole_resize_makes_to_within_one_level():
    picture = photo((2520, 1680)).filter(ImageFilter.GaussianBlur(1))
    whole = picture.resize((2048, 1365), imaging._RESAMPLE_DECODED)

    banded = imaging._banded(picture, (2048, 1365))

    assert banded.size == whole.size
    assert max(high for _, high in ImageChops.difference(banded, whole).getextrema()) <= 1


def test_cmyk_jpeg_comes_out_in_the_right_colours():
    cmyk = encoded(Image.new("CMYK", (64, 64), (0, 255, 255, 0)), "JPEG")  # pure red ink; Adobe-style, inverted
    assert b"Adobe" in cmyk.getvalue()
    result = render(cmyk, renditions=SMALL)
    for ext in ("jpg", "webp"):
        im = opened(only(result, "small", ext))
        assert im.mode == "RGB"
        assert near(im.getpixel((32, 32)), RED)


def test_16_bit_png_is_scaled_to_8_bit_not_clipped():
    # 30000 of 65535: a mid grey. Clipping would make it white (255).
    result = render(encoded(Image.new("I;16", (64, 64), 30000), "PNG"), renditions=SMALL)
    grey = opened(only(result, "small", "jpg")).getpixel((32, 32))
    assert all(105 <= channel <= 130 for channel in grey)


def transparent_palette() -> Image.Image:
    im = Image.new("P", (100, 100), 0)
    im.putpalette([0, 0, 255, 255, 0, 0])  # 0: blue, but transparent below; 1: red
    ImageDraw.Draw(im).rectangle((0, 0, 49, 99), fill=1)
    im.info["transparency"] = 0
    return im


def transparent_grey() -> Image.Image:
    im = Image.new("LA", (100, 100), (0, 0))
    ImageDraw.Draw(im).rectangle((0, 0, 49, 99), fill=(76, 255))
    return im


@pytest.mark.parametrize("make", [transparent_palette, transparent_grey], ids=["palette", "LA"])
def test_transparency_is_flattened_on_white_for_jpeg_and_kept_for_webp(make):
    result = render(encoded(make(), "PNG"), renditions=SMALL)
    jpeg, webp = opened(only(result, "small", "jpg")), opened(only(result, "small", "webp"))
    assert jpeg.mode == "RGB"
    assert near(jpeg.getpixel((80, 50)), WHITE, 8)  # not blue, not black
    assert webp.mode == "RGBA"
    assert webp.getpixel((80, 50))[3] == 0
    assert webp.getpixel((20, 50))[3] == 255


def test_a_transparent_picture_resized_in_bands_keeps_its_alpha_and_is_flattened_for_jpeg(monkeypatch):
    im = Image.new("RGBA", (700, 560), (0, 0, 255, 0))  # blue, but transparent, on the right
    ImageDraw.Draw(im).rectangle((0, 0, 349, 559), fill=(*RED, 255))
    banded, band = [], imaging._banded
    monkeypatch.setattr(imaging, "_banded", lambda picture, size: banded.append(picture.mode) or band(picture, size))
    # reduce()d by 2 to 350x280, then banded to 300x240, premultiplied.
    result = render(encoded(im, "PNG"), renditions={"r": {"size": 300, "crop": False}})
    assert banded == ["RGBa"]
    jpeg, webp = opened(only(result, "r", "jpg")), opened(only(result, "r", "webp"))
    assert jpeg.size == webp.size == (300, 240)
    assert near(jpeg.getpixel((250, 120)), WHITE, 8) and near(jpeg.getpixel((50, 120)), RED)
    assert webp.getpixel((250, 120))[3] == 0
    assert near(webp.getpixel((50, 120)), (*RED, 255))


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_image_uses_its_first_frame(fmt):
    frames = [Image.new("RGB", (64, 64), colour) for colour in (RED, BLUE, (0, 255, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    result = render(buffer, renditions=SMALL)
    assert result.animated
    assert near(opened(only(result, "small", "jpg")).getpixel((32, 32)), RED)


def test_renditions_carry_no_exif_gps_xmp_or_icc_and_the_camera_is_kept():
    source = camera_jpeg()
    original = Image.open(source)
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test file really has a location
    assert {"exif", "icc_profile", "xmp"} <= set(original.info)
    source.seek(0)
    result = render(source, renditions={"thumb": {"size": 100, "crop": True}, "small": {"size": 200, "crop": False}})
    assert result.exif == {
        "make": "Canon",
        "model": ("EOS R5 " + "x" * 300)[:100],
        "lens": "RF24-70mm F2.8 L IS USM",
        "taken_at": "2024-05-01T12:34:56",
    }
    for rendition in result.renditions:
        im = opened(rendition)
        assert not im.getexif()
        assert not {"exif", "icc_profile", "xmp"} & set(im.info)
        assert b"Exif" not in rendition.data
        assert b"EXIF" not in rendition.data


def test_heic_gives_the_same_exif_subset_and_its_renditions_carry_none():
    exif = camera_exif(make="Apple", model="iPhone 15 Pro", lens="iPhone 15 Pro back triple camera 6.86mm f/1.78")
    source = heic(photo((640, 480)), exif)
    assert file_exif(source.getvalue()).get_ifd(ExifTags.IFD.GPSInfo)  # the file really has a location
    result = render(source, renditions={"thumb": {"size": 100, "crop": True}, "small": {"size": 200, "crop": False}})
    assert result.exif == {
        "make": "Apple",
        "model": "iPhone 15 Pro",
        "lens": "iPhone 15 Pro back triple camera 6.86mm f/1.78",
        "taken_at": "2024-05-01T12:34:56",
    }
    for rendition in result.renditions:
        assert not opened(rendition).getexif()
        assert b"Exif" not in rendition.data


def test_exif_is_empty_when_the_file_has_none():
    assert render(encoded(Image.new("RGB", (8, 8)), "JPEG"), renditions=SMALL).exif == {}


def test_a_broken_colour_profile_does_not_refuse_the_image():
    result = render(encoded(Image.new("RGB", (64, 64), RED), "JPEG", icc_profile=b"not a profile"), renditions=SMALL)
    assert near(opened(only(result, "small", "jpg")).getpixel((32, 32)), RED)
