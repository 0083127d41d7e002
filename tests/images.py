"""Test files made on the spot: ordinary photos and the hostile or odd ones mediahub must survive."""

from __future__ import annotations

import io
import struct
import zlib

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


def camera_jpeg() -> io.BytesIO:
    """A photo as a phone writes it: camera EXIF, a GPS position, an ICC profile and XMP."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon\0\0\0"
    exif[ExifTags.Base.Model] = "EOS R5 " + "x" * 300
    exif.get_ifd(ExifTags.IFD.Exif).update(
        {ExifTags.Base.LensModel: "RF24-70mm F2.8 L IS USM", ExifTags.Base.DateTimeOriginal: "2024:05:01 12:34:56"}
    )
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (52.0, 22.0, 12.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (4.0, 53.0, 42.0),
        }
    )
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    return encoded(photo((600, 400)), "JPEG", exif=exif.tobytes(), icc_profile=srgb, xmp=xmp)


def animated_gif() -> io.BytesIO:
    frames = [Image.new("RGB", (64, 64), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def truncated_jpeg() -> io.BytesIO:
    data = encoded(photo((400, 300)), "JPEG").getvalue()
    return io.BytesIO(data[: len(data) // 2])
