"""Renditions of an uploaded image: checked, upright, sRGB, stripped of metadata, written as JPEG and WebP.

Plain Python and Pillow: no storage, database or tasks here. `render()` is the one entry point and `BadMedia` the
one error it raises on purpose, for files that will never work, with a message meant for the person who sent it.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from django.conf import settings
from PIL import ExifTags, Image, ImageCms

from mediahub.stopwatch import Stopwatch
from uploads.filetypes import SNIFF_BYTES, allowed_types, sniff

# The image types mediahub accepts, as Pillow names their decoders. Only these ever parse a file, so EPS (which
# runs Ghostscript), PSD, FITS and Pillow's other readers never see an upload.
_PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/avif": "AVIF",
}
# Pillow reports a camera JPEG that carries extra pictures (previews, stereo pairs) as MPO; it is still a JPEG.
_MIME_TYPES = {pillow: mime for mime, pillow in _PILLOW_FORMATS.items()} | {"MPO": "image/jpeg"}

# EXIF orientation -> the transpose that makes the picture upright (the table ImageOps.exif_transpose uses).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# What Pillow raises on a damaged file. MemoryError and the like are not here: they are not the file's fault.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)
# Modes that resize well as they are; everything else is made RGB(A) or 8-bit grey first.
_RESIZABLE_MODES = {"L", "LA", "RGB", "RGBA", "CMYK"}
# Bicubic is Pillow's thumbnail() default: as sharp as LANCZOS to the eye and a third cheaper (see the benchmark).
_RESAMPLE = Image.Resampling.BICUBIC
# Above this ratio Pillow first shrinks by whole factors with reduce() (cheap box averaging) and resamples the rest.
_REDUCING_GAP = 3.0
# Progressive JPEGs show a whole, blurry picture early on slow connections. optimize=True costs time and nothing
# more here: progressive encoding already computes optimal Huffman tables.
_JPEG_OPTIONS = {"quality": 85, "progressive": True}
# method (0-6) trades encoding time for size, not quality. 1 is a third of the default 4's time for ~15% more bytes;
# measurements in docs/benchmarks.md ("## Renditions").
_WEBP_OPTIONS = {"quality": 80, "method": 1}
_EXIF_TEXT_LIMIT = 100


class BadMedia(Exception):
    """A file that can never be made into renditions. The message is shown to the person who uploaded it."""


@dataclass
class Rendition:
    name: str
    ext: str
    content_type: str
    width: int
    height: int
    data: bytes


@dataclass
class ImageResult:
    format: str
    width: int
    height: int
    animated: bool
    exif: dict[str, str]
    renditions: list[Rendition] = field(default_factory=list)
    timings: dict[str, int] = field(default_factory=dict)  # milliseconds: decode, resize, encode


def render(
    fp: BinaryIO,
    *,
    renditions: dict | None = None,
    max_pixels: int | None = None,
    allowed: tuple[str, ...] | None = None,
) -> ImageResult:
    """Check and decode the image in `fp` and make every rendition of it, as JPEG and as WebP.

    Defaults come from the MEDIA_RENDITIONS, MAX_IMAGE_PIXELS and MEDIA_TYPES settings, read on every call.
    Raises BadMedia for anything that is not a readable image of an accepted type within the pixel limit.
    """
    specs = settings.MEDIA_RENDITIONS if renditions is None else renditions
    limit = _pixel_limit(settings.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels)
    types = tuple(allowed_types()) if allowed is None else allowed
    clock = Stopwatch()
    with clock.stage("decode"):
        result, picture = _decode(fp, [_PILLOW_FORMATS[t] for t in types if t in _PILLOW_FORMATS], limit, specs)
    result.renditions = _renditions(picture, (result.width, result.height), specs, clock)
    result.timings = clock.ms
    return result


def _pixel_limit(max_pixels: int) -> int:
    # Pillow refuses images above its own Image.MAX_IMAGE_PIXELS (a process-wide setting, left untouched here)
    # while opening them, so a larger setting cannot take effect; say the limit that really applies.
    return min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)


def _decode(fp: BinaryIO, formats: list[str], limit: int, specs: dict) -> tuple[ImageResult, Image.Image]:
    """Everything that reads the file, so any failure in here is the file's fault and becomes BadMedia."""
    fp.seek(0)
    head = fp.read(SNIFF_BYTES)
    if not head:
        raise BadMedia("This file is empty.")
    fp.seek(0)
    try:
        # Pillow raises above twice its own limit but only warns above it: make the warning an error, for this call
        # only. catch_warnings swaps the process-wide filter list, which threads share; in a race another thread
        # may briefly see that warning as an error too, or this one see it as a warning, and then the check in
        # _read still refuses the image, because our limit is never above Pillow's. Changing Image.MAX_IMAGE_PIXELS
        # instead would change it for every thread, for good.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # No `with`: closing would free the pixels the returned picture may share, and Pillow never closes a
            # file object it was given.
            return _read(Image.open(fp, formats=formats), limit, specs)
    except Image.UnidentifiedImageError as exc:
        raise BadMedia(_unidentified(head, formats)) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadMedia(f"The image has more pixels than the limit of {_megapixels(limit)} megapixels.") from exc
    except _DECODE_ERRORS as exc:
        reason = "it is truncated" if "truncated" in str(exc).lower() else "it is damaged"
        raise BadMedia(f"This file is not a valid image ({reason}).") from exc


def _unidentified(head: bytes, formats: list[str]) -> str:
    if _PILLOW_FORMATS.get(sniff(head)) in formats:
        return "This file is not a valid image (it is damaged)."  # It starts like one, but Pillow could not read on.
    names = ", ".join(_MIME_TYPES[f].removeprefix("image/").upper() for f in formats)
    return f"This file is not an image mediahub accepts ({names})."


def _read(im: Image.Image, limit: int, specs: dict) -> tuple[ImageResult, Image.Image]:
    size = im.size  # From the header: nothing has been decoded yet, and draft() below shrinks im.size.
    if size[0] * size[1] > limit:
        raise BadMedia(f"The image is {size[0]}×{size[1]} pixels; the limit is {_megapixels(limit)} megapixels.")
    animated = im.format != "MPO" and getattr(im, "is_animated", False)
    exif = im.getexif()
    orientation = exif.get(ExifTags.Base.Orientation)
    scale = max((_scale_for(size, spec) for spec in specs.values()), default=0.0)
    picture = _to_srgb(_decode_scaled(im, scale), im.info.get("icc_profile"))
    if orientation in _UPRIGHT:
        picture = picture.transpose(_UPRIGHT[orientation])
    width, height = size[::-1] if orientation in (5, 6, 7, 8) else size
    result = ImageResult(_MIME_TYPES[im.format], width, height, animated, _exif_subset(exif))
    return result, picture


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.3g}"


def _scale_for(size: tuple[int, int], spec: dict) -> float:
    """The fraction of the original a rendition needs: crops fill a square with the short side, the others fit
    the long side. Never above 1, so nothing is upscaled. The same whichever way up the picture is."""
    side = min(size) if spec["crop"] else max(size)
    return min(1.0, spec["size"] / side)


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _decode_scaled(im: Image.Image, scale: float) -> Image.Image:
    """The first frame at `scale` of its size, in a mode that resizes well."""
    target = _scaled(im.size, scale)
    # JPEG only (a no-op elsewhere): the decoder scales by 1/2, 1/4 or 1/8 while decoding (DCT scaling), keeping
    # at least `target`. A 50-megapixel photo then never exists at full size in memory, and decoding is faster.
    im.draft(None, target)
    im.load()  # Here, inside the error handling, even when nothing below needs to touch the pixels.
    return _resized(_resizable(im), target)


def _resizable(im: Image.Image) -> Image.Image:
    if im.mode in _RESIZABLE_MODES:
        return im
    if im.mode.startswith("I"):
        # 16-bit grey: map 0-65535 onto 0-255. A plain convert("L") clips everything above 255 to white.
        return im.convert("I").point(lambda value: value * (255 / 65535)).convert("L")
    # Palettes (with their transparency), bilevel and the rarer modes.
    return im.convert("RGBA" if im.has_transparency_data else "RGB")


def _resized(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    return im if im.size == size else im.resize(size, _RESAMPLE, reducing_gap=_REDUCING_GAP)


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB or RGBA in sRGB. Renditions carry no profile, so browsers assume sRGB; colours from a wide-gamut or CMYK
    profile are converted rather than reinterpreted. Done after shrinking, where it is cheap."""
    mode = "RGBA" if "A" in im.getbands() else "RGB"
    if icc:
        try:
            # A fresh sRGB profile each time (microseconds): LittleCMS objects are best not shared between threads.
            return ImageCms.profileToProfile(im, io.BytesIO(icc), ImageCms.createProfile("sRGB"), outputMode=mode)
        except (OSError, ImageCms.PyCMSError):
            pass  # An unreadable or mismatched profile: the pixels are still fine, show them as they are.
    return im if im.mode == mode else im.convert(mode)


def _exif_subset(exif: Image.Exif) -> dict[str, str]:
    """Camera, lens and time taken, for display; never location."""
    details = exif.get_ifd(ExifTags.IFD.Exif)
    found = {
        "make": _text(exif.get(ExifTags.Base.Make)),
        "model": _text(exif.get(ExifTags.Base.Model)),
        "lens": _text(details.get(ExifTags.Base.LensModel)),
        "taken_at": _timestamp(details.get(ExifTags.Base.DateTimeOriginal)),
    }
    return {key: value for key, value in found.items() if value}


def _text(value: object) -> str:
    # Cameras pad with NULs and write whatever they like; keep printable characters and a sane length.
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        return ""
    return "".join(ch for ch in value if ch.isprintable()).strip()[:_EXIF_TEXT_LIMIT]


def _timestamp(value: object) -> str:
    try:
        return datetime.strptime(_text(value), "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return ""  # Missing, or the all-zero date cameras write when their clock is unset.


def _renditions(picture: Image.Image, size: tuple[int, int], specs: dict, clock: Stopwatch) -> list[Rendition]:
    """Largest first, each resized from the smallest earlier picture that still has enough pixels for it:
    resizing 2048 -> 1024 costs a quarter of resizing the original -> 1024."""
    made = {}
    source = picture
    for name, spec in sorted(specs.items(), key=lambda item: -_scale_for(size, item[1])):
        scale = _scale_for(size, spec)
        with clock.stage("resize"):
            if spec["crop"]:
                side = max(1, round(min(size) * scale))
                shaped = _resized(source.crop(_centre_square(source.size)), (side, side))
            else:
                shaped = source = _resized(source, _scaled(size, scale))
        with clock.stage("encode"):
            made[name] = _encode(name, shaped)
    return [rendition for name in specs for rendition in made[name]]


def _centre_square(size: tuple[int, int]) -> tuple[int, int, int, int]:
    side = min(size)
    left, top = (size[0] - side) // 2, (size[1] - side) // 2
    return left, top, left + side, top + side


def _encode(name: str, picture: Image.Image) -> list[Rendition]:
    # Nothing from the original's metadata is passed to save(), so no EXIF, GPS, XMP or ICC profile is written.
    return [
        _rendition(name, "jpg", "image/jpeg", _flattened(picture), "JPEG", _JPEG_OPTIONS),
        _rendition(name, "webp", "image/webp", picture, "WEBP", _WEBP_OPTIONS),
    ]


def _rendition(name: str, ext: str, content_type: str, picture: Image.Image, fmt: str, options: dict) -> Rendition:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return Rendition(name, ext, content_type, picture.width, picture.height, buffer.getvalue())


def _flattened(picture: Image.Image) -> Image.Image:
    """JPEG has no transparency: put transparent pictures on white, which is what a page behind them shows."""
    if picture.mode != "RGBA":
        return picture
    background = Image.new("RGB", picture.size, "white")
    background.paste(picture, mask=picture.getchannel("A"))
    return background
