"""Renditions of an uploaded image: checked, upright, sRGB, stripped of metadata, written as JPEG and WebP.

Plain Python and Pillow: no storage, database or tasks here. `render()` is the one entry point and `BadMedia` the
one error it raises on purpose, for files that will never work, with a message meant for the person who sent it.
"""

from __future__ import annotations

import io
import math
import re
import struct
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

import pi_heif
from django.conf import settings
from PIL import ExifTags, Image, ImageCms

from mediahub.stopwatch import Stopwatch
from uploads import webp
from uploads.filetypes import SNIFF_BYTES, allowed_types, sniff

# The image types mediahub accepts, as Pillow names their decoders. Only these ever parse a file, so EPS (which
# runs Ghostscript), PSD, FITS and Pillow's other readers never see an upload.
_PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/avif": "AVIF",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
# Pillow reports a camera JPEG that carries extra pictures (previews, stereo pairs) as MPO; it is still a JPEG.
_MIME_TYPES = {pillow: mime for mime, pillow in _PILLOW_FORMATS.items()} | {"MPO": "image/jpeg"}

# HEIF and HEIC (the iPhone's photos) are read through pi-heif: libheif with only the libde265 HEVC decoder, all
# LGPL, no encoder (pillow-heif's wheels carry x265, which is GPL). Its Pillow plugin is registered as "HEIF", and
# like every reader here it sees only files of the accepted types. libheif applies the file's rotation and mirror
# (irot, imir) while decoding, reports the size they give, and pi-heif sets the EXIF orientation it copies to 1,
# as the HEIF standard says readers must ignore it: so a HEIC is upright however its EXIF disagrees. One decoding
# thread: the CPU budget counts the decoding thread only. Thumbnails, depth maps and other auxiliary images are
# never listed, let alone decoded.
pi_heif.register_heif_opener(decode_threads=1, thumbnails=False, depth_images=False, aux_images=False)

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

_SWAPS_AXES = {
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_270,
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
}
# What Pillow raises on a damaged file. MemoryError and the like are not here: they are not the file's fault.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)
# Modes that resize well as they are; everything else is made RGB(A) or 8-bit grey first.
_RESIZABLE_MODES = {"L", "LA", "RGB", "RGBA", "CMYK"}
# Resizing to a smaller size: bicubic is Pillow's thumbnail() default, as sharp as LANCZOS to the eye and a third
# cheaper. From the decoded picture to the large size, the costliest resize of all, bilinear: by then the picture is
# under twice that size (DCT-scaled or reduced), where bilinear takes 10% less of the whole rendition set's time
# and costs the large 0.3 dB PSNR and 0.002 SSIM against bicubic (docs/benchmarks.md, "## Renditions").
_RESAMPLE = Image.Resampling.BICUBIC
_RESAMPLE_DECODED = Image.Resampling.BILINEAR
# Rows of the result resampled at a time from a decoded picture that is shrunk (see _banded()): each band re-reads a
# row or two of the picture on each side, 7% more of the first pass's work at 32 rows, and holds 0.6 MB at 2048 px.
_BAND_ROWS = 32
# How far short of a rendition's size a picture may be shrunk by whole factors (a JPEG by DCT scaling while it
# decodes, anything by reduce()), the rest made up by resampling up. A 12-megapixel phone photo (4032 px) is just
# under twice the large size: decoded whole and resampled, it costs twice what decoding at half size (2016 px) and
# stretching by 1.6% costs, for a difference of about 40 dB PSNR before JPEG's own loss (docs/benchmarks.md,
# "## Renditions").
_DCT_SLACK = 0.97
# Progressive JPEGs show a whole, blurry picture early on slow connections. optimize=True costs time and nothing
# more here: progressive encoding already computes optimal Huffman tables.
_JPEG_OPTIONS = {"quality": 85, "progressive": True}
# method (0-6) trades encoding time for size, not quality. 1 is a third of the default 4's time for ~15% more bytes;
# measurements in docs/benchmarks.md ("## Renditions").
_WEBP_OPTIONS = {"quality": 80, "method": 1}
_EXIF_TEXT_LIMIT = 100

# Scans one JPEG may have. Each scan costs the decoder a pass over every block of its components, so thousands of
# empty scans (ten bytes each) make a small file cost most of a minute (5,000: 34-42 s of CPU for 49 MP).
# libjpeg-turbo's `djpeg -maxscans` and TurboJPEG's TJPARAM_SCANLIMIT exist for this. Cameras write 1 scan
# (baseline), libjpeg's progressive script 10 (6 for grey), mozjpeg and editors about as many; 100 leaves room for
# any of them and keeps the worst JPEG the other limits admit (50 MP, 4:4:4, 100 scans) to 3-4 s of CPU
# (docs/benchmarks.md, "## Decoding limits").
MAX_JPEG_SCANS = 100
# How many full-size pictures decoding and shrinking hold at once, by format: the memory estimate's multiplier.
# The decoded picture, the copy resizing works on (converted from a palette or 16 bits, or premultiplied for its
# alpha) and resizing's first pass: 3. WebP: the two canvases libwebp's decoder keeps and the copy it hands Pillow,
# then Pillow's picture and the copy to resize: 5. AVIF: libavif's YUV planes and RGB output, Pillow's picture and
# the copy to resize: 4. HEIF: libheif's RGB (3 bytes a pixel, kept until Pillow has copied it), Pillow's picture
# and resizing's first pass: 3 (measured: 7-9 bytes a pixel at the peak, against the 12 counted). JPEG counts at its
# reduced (DCT-scaled) size. Checked against the measured peaks in
# docs/benchmarks.md ("## Decoding limits").
_COPIES = {"JPEG": 3, "MPO": 3, "PNG": 3, "GIF": 3, "WEBP": 5, "AVIF": 4, "HEIF": 3}
# Markers without a length after them: RSTn, TEM and SOI.
_STANDALONE_MARKERS = {*range(0xD0, 0xD8), 0x01, 0xD8}
_EOI, _SOS = 0xD9, 0xDA
# The next marker, as libjpeg finds it: 0xFF then a code; FF 00 is a stuffed data byte, and 0xFF may repeat as fill.
_MARKER = re.compile(rb"\xff([^\x00\xff])")
_CHUNK = 1 << 20


class BadMedia(Exception):
    """A file that can never be made into renditions. The message is shown to the person who uploaded it."""


class _OverBudget(Exception):
    """Decoding has used up its CPU time."""


@dataclass(frozen=True)
class _Limits:
    """What one decode may cost: pixels, bytes of memory (estimated from the header) and seconds of CPU."""

    pixels: int
    memory: int
    seconds: float


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
    max_decode_bytes: int | None = None,
    decode_seconds: float | None = None,
    allowed: tuple[str, ...] | None = None,
) -> ImageResult:
    """Check and decode the image in `fp` and make every rendition of it, as JPEG and as WebP.

    Defaults come from the MEDIA_RENDITIONS, MAX_IMAGE_PIXELS, MAX_DECODE_BYTES, IMAGE_DECODE_SECONDS and
    MEDIA_TYPES settings, read on every call. Raises BadMedia for anything that is not a readable image of an
    accepted type within the limits.
    """
    specs = settings.MEDIA_RENDITIONS if renditions is None else renditions
    limits = _Limits(
        pixels=_pixel_limit(settings.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels),
        memory=settings.MAX_DECODE_BYTES if max_decode_bytes is None else max_decode_bytes,
        seconds=settings.IMAGE_DECODE_SECONDS if decode_seconds is None else decode_seconds,
    )
    types = tuple(allowed_types()) if allowed is None else allowed
    clock = Stopwatch()
    with clock.stage("decode"):
        formats = list(dict.fromkeys(_PILLOW_FORMATS[t] for t in types if t in _PILLOW_FORMATS))
        result, picture = _decode(fp, formats, limits, specs)
    result.renditions = _renditions(picture, (result.width, result.height), specs, clock)
    result.timings = clock.ms
    return result


def render_still(picture: Image.Image, *, renditions: dict | None = None) -> tuple[list[Rendition], dict[str, int]]:
    """The renditions of a picture decoded elsewhere (a video's poster frame, a PDF's first page), upright and in
    sRGB already; with their timings (resize, encode) in milliseconds."""
    specs = settings.MEDIA_RENDITIONS if renditions is None else renditions
    clock = Stopwatch()
    made = _renditions(_to_srgb(_resizable(picture), None), picture.size, specs, clock)
    return made, clock.ms


def _pixel_limit(max_pixels: int) -> int:
    # Pillow refuses images above its own Image.MAX_IMAGE_PIXELS (a process-wide setting, left untouched here)
    # while opening them, so a larger setting cannot take effect; say the limit that really applies.
    return min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)


def _decode(fp: BinaryIO, formats: list[str], limits: _Limits, specs: dict) -> tuple[ImageResult, Image.Image]:
    """Everything that reads the file, so any failure in here is the file's fault and becomes BadMedia."""
    fp.seek(0)
    head = fp.read(SNIFF_BYTES)
    if not head:
        raise BadMedia("This file is empty.")
    fp.seek(0)
    budgeted = _Budgeted(fp, limits.seconds)
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
            return _read(Image.open(budgeted, formats=formats), budgeted, limits, specs)
    except _OverBudget as exc:
        raise BadMedia(f"This image took too long to decode (more than {limits.seconds:g} seconds).") from exc
    except Image.UnidentifiedImageError as exc:
        raise BadMedia(_unidentified(head, formats)) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadMedia(f"The image has more pixels than the limit of {_megapixels(limits.pixels)} megapixels.") from exc
    except _DECODE_ERRORS as exc:
        # Pillow's readers say "truncated"; libheif says "end of file" (when data lies past it).
        reason = "it is truncated" if re.search("truncated|end of file", str(exc), re.I) else "it is damaged"
        raise BadMedia(f"This file is not a valid image ({reason}).") from exc


class _Budgeted:
    """The upload as Pillow reads it, which stops decoding once it has used its CPU time. It is checked before every
    read: Pillow parses headers a segment (for junk in a JPEG, a byte) at a time and feeds the JPEG, PNG and GIF
    decoders 64 kB at a time. The work between two reads is bounded by the limits: for a JPEG by MAX_JPEG_SCANS
    (libjpeg runs every scan that is in the chunk), for a PNG by how far 64 kB can inflate. WebP and AVIF decode in
    one call that nothing interrupts, bounded by the pixel and memory limits, and are checked when it returns.
    Measured in docs/benchmarks.md ("## Decoding limits")."""

    def __init__(self, fp: BinaryIO, seconds: float) -> None:
        self._fp = fp
        self._deadline = time.thread_time() + seconds

    def check(self) -> None:
        # CPU time of this thread: what the decode takes from everyone else's uploads, however busy the machine
        # (and unaffected by other requests' threads; libavif's own threads are not counted).
        if time.thread_time() > self._deadline:
            raise _OverBudget

    def read(self, size: int = -1) -> bytes:
        self.check()
        return self._fp.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._fp.seek(offset, whence)

    def tell(self) -> int:
        return self._fp.tell()


def _unidentified(head: bytes, formats: list[str]) -> str:
    if _PILLOW_FORMATS.get(sniff(head)) in formats:
        return "This file is not a valid image (it is damaged)."  # It starts like one, but Pillow could not read on.
    names = ", ".join(_MIME_TYPES[f].removeprefix("image/").upper() for f in formats)
    return f"This file is not an image mediahub accepts ({names})."


def _read(im: Image.Image, fp: _Budgeted, limits: _Limits, specs: dict) -> tuple[ImageResult, Image.Image]:
    size = im.size  # From the header: nothing has been decoded yet, and draft() below shrinks im.size.
    scans = _check_size_and_scans(im, fp, limits.pixels)
    target = _scaled(size, max((_scale_for(size, spec) for spec in specs.values()), default=0.0))
    _draft(im, size, _shrunk_at_least(target))
    _check_memory(im, size, scans, limits.memory)
    # A HEIF's several top-level pictures are a collection (a burst, a bracket), not frames of an animation.
    animated = im.format not in ("MPO", "HEIF") and getattr(im, "is_animated", False)
    exif = im.getexif()  # A PNG decodes here: its EXIF may come after the pixels.
    orientation = exif.get(ExifTags.Base.Orientation)
    picture = _to_srgb(_decoded(im, fp, target, _UPRIGHT.get(orientation)), im.info.get("icc_profile"))
    width, height = size[::-1] if orientation in (5, 6, 7, 8) else size
    result = ImageResult(_mime_type(im), width, height, animated, _exif_subset(exif))
    return result, picture


def _draft(im: Image.Image, size: tuple[int, int], wanted: tuple[int, int]) -> None:
    """JPEG only (a no-op elsewhere): have libjpeg scale the picture by 1/8, 1/4, 3/8 or 1/2 while it decodes (DCT
    scaling), the smallest that keeps at least `wanted`; `size` is the full size. A 50-megapixel photo then never
    exists at full size in memory, and what follows has fewer pixels to resize.

    Pillow's draft() offers 1/8, 1/4 and 1/2 only. Its decoder hands libjpeg scale_num=1, scale_denom=<the scale
    in decoderconfig> (JpegDecode.c), and libjpeg-turbo decodes at the smallest N/8 not below that fraction
    (jpeg_core_output_dimensions), each side ceil(side * N / 8): a scale of 3 decodes at 3/8. That fills the gap
    between 1/2 and 1/4 for 21-42 MP photos: 6000 px decodes at 2250 rather than 3000, 44% fewer pixels to hold and
    resize. Pillow makes its picture the tile's size and libjpeg writes rows of its own width into it, so the tile
    and the image size are set to exactly what libjpeg produces (tests/uploads/test_imaging.py decodes to them)."""
    im.draft(None, wanted)
    three_eighths = (-(-size[0] * 3 // 8), -(-size[1] * 3 // 8))
    fits = three_eighths[0] >= wanted[0] and three_eighths[1] >= wanted[1]
    if im.format in ("JPEG", "MPO") and im.decoderconfig == (2, 0) and fits:
        im._size = three_eighths
        im.tile = [im.tile[0]._replace(extents=(0, 0, *three_eighths))]
        im.decoderconfig = (3, 0)


def _mime_type(im: Image.Image) -> str:
    # libheif tells HEVC-coded HEIF (HEIC) from the rest by the file's brands and its primary picture.
    if im.format == "HEIF":
        return "image/heic" if getattr(im, "custom_mimetype", None) == "image/heic" else "image/heif"
    return _MIME_TYPES[im.format]


def _check_size_and_scans(im: Image.Image, fp: _Budgeted, limit: int) -> int:
    """Refuse, from the header, an image over the pixel limit or a JPEG of too many scans; returns the scans."""
    width, height = im.size
    if width * height > limit:
        raise BadMedia(f"The image is {width}×{height} pixels; the limit is {_megapixels(limit)} megapixels.")
    scans = _jpeg_scans(fp) if im.format in ("JPEG", "MPO") else 0
    if scans > MAX_JPEG_SCANS:
        raise BadMedia(
            f"This JPEG is made of more than {MAX_JPEG_SCANS} scans, where cameras and editors write at most a dozen "
            "or so; decoding it would take far too long."
        )
    return scans


def _jpeg_scans(fp: _Budgeted) -> int:
    """The scans (SOS segments) of a JPEG's first picture, found as libjpeg finds them: marker by marker, skipping
    each segment by its length and, after a scan, its entropy-coded data up to the next real marker (not a stuffed
    FF 00, fill bytes or RSTn); an APP segment's embedded thumbnail is never counted. Stops past MAX_JPEG_SCANS."""
    fp.seek(0)
    reader = _Markers(fp)
    scans = 0
    while scans <= MAX_JPEG_SCANS:
        code = reader.next_marker()
        if code is None or code == _EOI:
            break
        if code in _STANDALONE_MARKERS:
            continue
        length = reader.take(2)
        if len(length) < 2:
            break
        reader.take(int.from_bytes(length, "big") - 2)
        scans += code == _SOS
    return scans


class _Markers:
    """Forward reads through a file a chunk at a time: a JPEG's markers are walked without holding the file."""

    def __init__(self, fp: _Budgeted) -> None:
        self._fp, self._buffer, self._pos = fp, b"", 0

    def _more(self) -> bool:
        chunk = self._fp.read(_CHUNK)
        self._buffer, self._pos = self._buffer[self._pos :] + chunk, 0
        return bool(chunk)

    def take(self, count: int) -> bytes:
        while len(self._buffer) - self._pos < count and self._more():
            pass
        data = self._buffer[self._pos : self._pos + max(count, 0)]
        self._pos += len(data)
        return data

    def next_marker(self) -> int | None:
        """The code of the next marker, skipping whatever comes before it as libjpeg does; None at the end."""
        while True:
            found = _MARKER.search(self._buffer, self._pos)
            if found:
                self._pos = found.end()
                return found[1][0]
            # A final 0xFF may be a marker whose code is in the next chunk.
            self._pos = len(self._buffer) - self._buffer.endswith(b"\xff")
            if not self._more():
                return None


def _check_memory(im: Image.Image, size: tuple[int, int], scans: int, limit: int) -> None:
    needed = _decode_bytes(im, size, scans)
    if needed > limit:
        kind = _MIME_TYPES[im.format].removeprefix("image/").upper()
        raise BadMedia(
            f"This {size[0]}×{size[1]} {kind} image would need about {_megabytes(needed)} MB of memory to decode; "
            f"the limit is {_megabytes(limit)} MB."
        )


def _decode_bytes(im: Image.Image, size: tuple[int, int], scans: int) -> int:
    """Bytes that decoding and shrinking `im` hold at the peak, from its header alone. `size` is the full size;
    im.size is a JPEG's reduced one once draft() has run."""
    # Pillow keeps grey in one byte a pixel and anything else in four, or converts it to four to resize it.
    picture = im.size[0] * im.size[1] * (1 if im.mode == "L" else 4)
    held = picture * _COPIES[im.format]
    if scans > 1:
        # A progressive (or multi-scan) JPEG: libjpeg keeps every DCT coefficient of the full-size picture, two
        # bytes each, until the last scan is in, and frees them before the picture is resized.
        held = max(held, picture + _coefficient_bytes(size, im.layer))
    return held


def _coefficient_bytes(size: tuple[int, int], layers: list[tuple[int, int, int, int]]) -> int:
    """64 two-byte coefficients per 8x8 block of each component, subsampled ones having fewer blocks."""
    h_max = max((h for _, h, _, _ in layers), default=0) or 1
    v_max = max((v for _, _, v, _ in layers), default=0) or 1
    return sum(math.ceil(size[0] * h / h_max / 8) * math.ceil(size[1] * v / v_max / 8) * 128 for _, h, v, _ in layers)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.3g}"


def _scale_for(size: tuple[int, int], spec: dict) -> float:
    """The fraction of the original a rendition needs: crops fill a square with the short side, the others fit
    the long side. Never above 1, so nothing is upscaled. The same whichever way up the picture is."""
    side = min(size) if spec["crop"] else max(size)
    return min(1.0, spec["size"] / side)


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _decoded(im: Image.Image, fp: _Budgeted, size: tuple[int, int], upright: Image.Transpose | None) -> Image.Image:
    """The first frame at `size` (as stored), turned `upright`, in a mode that resizes well. The decoded pixels are
    freed as soon as the next picture is made from them (its format, info and EXIF stay readable), so at most two
    pictures are held at once."""
    im.load()  # Here, inside the error handling, even when nothing below needs to touch the pixels.
    fp.check()  # WebP and AVIF decode in one call, which no read interrupts.
    picture = _resizable(im)
    if picture is not im:
        im.im = None
    return _resized(picture, size, decoded=True, upright=upright)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.0f}"


def _resizable(im: Image.Image) -> Image.Image:
    if im.mode in _RESIZABLE_MODES:
        return im
    if im.mode.startswith("I"):
        # 16-bit grey: map 0-65535 onto 0-255. A plain convert("L") clips everything above 255 to white.
        return im.convert("I").point(lambda value: value * (255 / 65535)).convert("L")
    # Palettes (with their transparency), bilevel and the rarer modes.
    return im.convert("RGBA" if im.has_transparency_data else "RGB")


def _resized(
    im: Image.Image, size: tuple[int, int], *, decoded: bool = False, upright: Image.Transpose | None = None
) -> Image.Image:
    """`im` at `size`, turned `upright`. A `decoded` picture's pixels are freed as soon as the next picture is made
    from them, so that resizing holds two pictures at once, never three (docs/benchmarks.md, "## Renditions"):

    - shrinking its height, it is resampled into the result a band of rows at a time (`_banded()`), holding the
      result beside it, which is smaller than resize()'s first pass;
    - otherwise (a few percent up, or down in width only) one axis at a time: the two passes resize() makes inside
      (the same pixels), made one by one, with the turn between them (the second then runs along the other axis,
      with the same weights: the same pixels again), so that the resized picture and its turned copy are never
      held together.

    A `decoded` picture is first shrunk by the largest whole factor that keeps at least `size` less the slack, with
    reduce() (box averaging, a fifth of resampling's time): what DCT scaling does for a JPEG while it decodes, for
    PNG, WebP and the rest. Otherwise only a whole factor that gives `size` exactly is made by reduce() alone: the
    large rendition to the medium, 2048 to 1024, a tenth of resampling's time and as close to LANCZOS as BILINEAR."""
    alpha = {"LA": "La", "RGBA": "RGBa"}.get(im.mode)
    picture = im.convert(alpha) if alpha else im  # premultiplied once, not by every resize() and reduce()
    if decoded:
        wanted = _shrunk_at_least(size)
        factor = min(im.width // wanted[0], im.height // wanted[1])
    else:
        factor = round(im.width / size[0])
        factor = factor if factor > 1 and _whole_reduction(im.size, factor) == size else 1
    if factor > 1:
        picture = _freeing(im, decoded, picture.reduce(factor))
    if decoded and size[1] + _BAND_ROWS < picture.height:
        picture = _freeing(im, decoded, _banded(picture, size))
    else:
        picture = _freeing(im, decoded, _resampled(picture, (size[0], picture.height), decoded))
    if upright is not None:
        picture = _freeing(im, decoded, picture.transpose(upright))
        size = size[::-1] if upright in _SWAPS_AXES else size
    picture = _freeing(im, decoded, _resampled(picture, size, decoded))
    return picture.convert(im.mode) if alpha else picture


def _banded(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A decoded `im` resampled to `size` _BAND_ROWS rows at a time, each band pasted into the result: beside `im`
    this holds the result and one band (0.6 MB), where resize()'s first pass is as tall as `im` (for a 30 MP photo
    decoded at 3/8, 2048x1680 against the result's 2048x1365: 2.6 MB less). Each band is resize()'s over its
    fractional rows of `im`, with the filter reading past them as a whole resize() would: the same pixels to
    within one level, from rounding."""
    result = Image.new(im.mode, size)
    rows = im.height / size[1]
    for top in range(0, size[1], _BAND_ROWS):
        bottom = min(size[1], top + _BAND_ROWS)
        box = (0, top * rows, im.width, bottom * rows)
        result.paste(im.resize((size[0], bottom - top), _RESAMPLE_DECODED, box=box), (0, top))
    return result


def _freeing(im: Image.Image, decoded: bool, made: Image.Image) -> Image.Image:
    """`made`, once `im`'s pixels, if it is the `decoded` picture, are freed."""
    if decoded and made is not im:
        im.im = None
    return made


def _whole_reduction(size: tuple[int, int], factor: int) -> tuple[int, int]:
    """The size reduce(factor) gives: partial blocks at the edges count."""
    return math.ceil(size[0] / factor), math.ceil(size[1] / factor)


def _shrunk_at_least(size: tuple[int, int]) -> tuple[int, int]:
    return math.ceil(size[0] * _DCT_SLACK), math.ceil(size[1] * _DCT_SLACK)


def _resampled(im: Image.Image, size: tuple[int, int], decoded: bool) -> Image.Image:
    if im.size == size:
        return im
    # Up by the slack's few percent: BILINEAR is as good as BICUBIC for so small a stretch, and cheaper.
    upscaled = im.width < size[0] or im.height < size[1]
    return im.resize(size, _RESAMPLE_DECODED if decoded or upscaled else _RESAMPLE)


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
        "exposure": _exposure(details),
    }
    return {key: value for key, value in found.items() if value}


def _exposure(details: dict) -> str:
    """Like 1/250 s · f/2.8 · ISO 400 · 50 mm: whichever of the four the camera wrote (sane values only)."""
    parts = []
    time_, f_number = _number(details.get(ExifTags.Base.ExposureTime)), _number(details.get(ExifTags.Base.FNumber))
    iso = details.get(ExifTags.Base.ISOSpeedRatings)
    iso = _number(iso[0] if isinstance(iso, tuple) and iso else iso)
    focal = _number(details.get(ExifTags.Base.FocalLength))
    if time_ and 0 < time_ <= 3600:
        parts.append(f"1/{round(1 / time_)} s" if time_ < 0.5 else f"{time_:g} s")
    if f_number and 0 < f_number < 100:
        parts.append(f"f/{f_number:g}")
    if iso and 0 < iso < 10**7:
        parts.append(f"ISO {int(iso)}")
    if focal and 0 < focal < 10**4:
        parts.append(f"{focal:g} mm")
    return " · ".join(parts)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # EXIF rationals (IFDRational) and integers alike
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


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
    # Nothing from the original's metadata is passed to the encoders, so no EXIF, GPS, XMP or ICC profile is written.
    # WebP first: the YUV copy libwebp encodes from is the largest transient after the picture. Made after the JPEG,
    # the JPEG encoder's freed buffers (its coefficients, its output) stay in the heap beside it without fitting it
    # (docs/benchmarks.md, "## Renditions").
    webp_bytes = webp.encode(picture, **_WEBP_OPTIONS) or _saved(picture, "WEBP", _WEBP_OPTIONS)
    jpeg_bytes = _saved(_flattened(picture), "JPEG", _JPEG_OPTIONS)
    return [
        Rendition(name, "jpg", "image/jpeg", *picture.size, jpeg_bytes),
        Rendition(name, "webp", "image/webp", *picture.size, webp_bytes),
    ]


def _saved(picture: Image.Image, fmt: str, options: dict) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


def _flattened(picture: Image.Image) -> Image.Image:
    """JPEG has no transparency: put transparent pictures on white, which is what a page behind them shows."""
    if picture.mode != "RGBA":
        return picture
    background = Image.new("RGB", picture.size, "white")
    background.paste(picture, mask=picture.getchannel("A"))
    return background
