"""Test files made on the spot: ordinary photos and the hostile or odd ones mediahub must survive."""

from __future__ import annotations

import io
import struct
import zlib

import pillow_heif
from PIL import ExifTags, Image, ImageCms


def encoded(im: Image.Image, fmt: str, **options) -> io.BytesIO:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **options)
    buffer.seek(0)
    return buffer


def photo(size: tuple[int, int]) -> Image.Image:
    """Detailed enough that a truncated copy really misses picture data."""
    return Image.effect_noise(size, 60).convert("RGB")


def png_header(width: int, height: int) -> io.BytesIO:
    """A PNG that declares width x height RGB pixels but holds almost no data: small on disk, huge if decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    return io.BytesIO(b"\x89PNG\r\n\x1a\n" + body)


def camera_jpeg(**options) -> io.BytesIO:
    """A photo as a phone writes it: camera EXIF, a GPS position, an ICC profile and XMP. `options` go to save()."""
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    return encoded(photo((600, 400)), "JPEG", exif=camera_exif().tobytes(), icc_profile=srgb, xmp=xmp, **options)


def camera_exif(
    endian: str = "<",
    make: str = "Canon\0\0\0",
    model: str = "EOS R5 " + "x" * 300,
    lens: str = "RF24-70mm F2.8 L IS USM",
) -> Image.Exif:
    """A camera's EXIF: make, model, lens, time taken, and a GPS position (52°22'12" N, 4°53'42" E)."""
    exif = Image.Exif()
    exif.endian = endian
    exif[ExifTags.Base.Make] = make
    exif[ExifTags.Base.Model] = model
    exif.get_ifd(ExifTags.IFD.Exif).update(
        {ExifTags.Base.LensModel: lens, ExifTags.Base.DateTimeOriginal: "2024:05:01 12:34:56"}
    )
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (52.0, 22.0, 12.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (4.0, 53.0, 42.0),
        }
    )
    return exif


def animated_gif() -> io.BytesIO:
    frames = [Image.new("RGB", (64, 64), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def truncated_jpeg() -> io.BytesIO:
    data = encoded(photo((400, 300)), "JPEG").getvalue()
    return io.BytesIO(data[: len(data) // 2])


def progressive_jpeg(size: tuple[int, int], **options) -> bytes:
    """A progressive JPEG as libjpeg writes one: 10 scans for colour (its standard script)."""
    return encoded(Image.new("RGB", size, (120, 130, 140)), "JPEG", progressive=True, quality=50, **options).getvalue()


def scan_bomb(size: tuple[int, int], extra_scans: int) -> io.BytesIO:
    """A progressive JPEG followed by `extra_scans` empty scans before its end: ten bytes each, and each one costs
    the decoder a pass over every block of the picture."""
    data = progressive_jpeg(size)
    # SOS, length 8: one component (1), Huffman tables 0/0, spectral range 0-0 (DC), no successive approximation.
    empty_scan = b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x00"
    return io.BytesIO(data.removesuffix(b"\xff\xd9") + empty_scan * extra_scans + b"\xff\xd9")


def webp_lossless_header(width: int, height: int) -> io.BytesIO:
    """A lossless WebP that declares width x height pixels in a few dozen bytes: its header and no picture."""
    bits = (width - 1) | (height - 1) << 14 | 1 << 28  # 14 bits each, then "uses alpha"; version 0
    vp8l = b"\x2f" + struct.pack("<I", bits) + b"\0" * 15  # an even length: RIFF chunks are padded to one
    chunk = b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l
    return io.BytesIO(b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk)


def gif_frames(size: tuple[int, int], frames: int) -> io.BytesIO:
    """An animated GIF of `frames` frames, each covering width x height, each holding no pixels at all."""
    width, height = size
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\0\0\0"
    control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # 100 ms
    # LZW with 2-bit codes: a clear code and the end code, in one byte.
    frame = control + b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x01\x2c\x00"
    return io.BytesIO(screen + loop + frame * frames + b"\x3b")


def heic(im: Image.Image, exif: Image.Exif | None = None, quality: int = 80) -> io.BytesIO:
    """A HEIC as a phone writes one, by pillow-heif's encoder (libheif and x265; a test dependency only, never
    shipped: x265 is GPL). Given an EXIF orientation it stores the picture as it is and writes that orientation
    twice, as an iPhone does: as the file's irot/imir transform and in the EXIF."""
    buffer = io.BytesIO()
    pillow_heif.from_pillow(im).save(buffer, exif=exif.tobytes() if exif else None, quality=quality)
    buffer.seek(0)
    return buffer


def heic_declaring(width: int, height: int) -> io.BytesIO:
    """A tiny HEIC whose header (its ispe box, where readers take the size from) declares width x height pixels."""
    data = bytearray(heic(Image.new("RGB", (64, 64), "grey")).getvalue())
    at = data.index(b"ispe") + 8  # after the box type and its version and flags
    data[at : at + 8] = struct.pack(">II", width, height)
    return io.BytesIO(bytes(data))
