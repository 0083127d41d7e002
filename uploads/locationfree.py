"""Copies of a file without its location, for share links: the picture's bytes untouched, only metadata removed.

Plain Python on bytes: no storage here. `strip()` is the entry point; `Unstrippable` says why a file cannot be
cleaned safely (the caller then shares the large rendition, which carries no metadata at all).

What is taken out:
- EXIF (JPEG APP1, PNG eXIf, WebP EXIF): the GPS IFD. It is edited in place, so the EXIF block keeps its length
  and every other offset in it (maker notes included) stays valid: the pointer to the GPS IFD is removed from its
  IFD (the IFD shrinks by one entry) and the GPS IFD and its values are overwritten with zeros.
- XMP that names a place (exif:GPS*, IPTC location and city/state/country fields): the whole packet, with any
  extended XMP parts. An XMP packet without one is kept.
- JPEG APP13 (Photoshop IRB) holding IPTC place datasets (city, sub-location, state, country): the segment.
- GIF has no place for EXIF; one with an XMP application extension is refused rather than edited.
- Whatever follows the picture (after a JPEG's EOI, a PNG's IEND, a WebP's RIFF): trailers such as a motion
  photo's video or an MPO's other pictures, which carry their own metadata. An MPO's index (APP2 MPF) goes with them.
The compressed picture data is copied byte for byte: a JPEG from its first SOS to its EOI, PNG and WebP chunks.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable

COPYABLE = ("image/jpeg", "image/png", "image/webp", "image/gif")

GPS_POINTER = 0x8825
# TIFF field types -> bytes per value (TIFF 6.0 and the BigTIFF/EXIF additions).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
_MAX_IFDS = 16  # IFD0, IFD1 and then some: a chain longer than this is a loop or junk

_EXIF_HEADER = b"Exif\x00\x00"
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXTENSION_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"
_PHOTOSHOP_HEADER = b"Photoshop 3.0\x00"
_MPF_HEADER = b"MPF\x00"
# A place named in XMP: GPS fields of any prefix, IPTC Core and Extension locations, Photoshop's place fields.
_XMP_PLACE = re.compile(rb"GPS[A-Z]|Location|[:<]City\b|[:<]State\b|[:<]Country|[:<]Sublocation")
# IPTC-IIM datasets 2:90 city, 2:92 sub-location, 2:95 province/state, 2:100 country code, 2:101 country.
_IPTC_PLACE = re.compile(rb"\x1c\x02[\x5a\x5c\x5f\x64\x65]")

_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_APP1, _APP2, _APP13 = 0xE1, 0xE2, 0xED
_STANDALONE = {*range(0xD0, 0xD8), 0x01}  # RSTn and TEM: no length follows
_APPS = range(0xE0, 0xF0)
# The next marker inside entropy-coded data: 0xFF then a code; FF 00 is a stuffed byte and 0xFF may repeat as fill.
_MARKER = re.compile(rb"\xff([^\x00\xff])")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_TEXT = (b"tEXt", b"zTXt", b"iTXt")
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


class Unstrippable(Exception):
    """The file cannot be cleaned safely; the message says why, for the owner."""


def strip(data: bytes, content_type: str) -> bytes:
    """A copy of `data` without location data, the picture's bytes unchanged. Raises Unstrippable."""
    strippers = {"image/jpeg": strip_jpeg, "image/png": strip_png, "image/webp": strip_webp, "image/gif": check_gif}
    if content_type not in strippers:
        raise Unstrippable(f"mediahub cannot take location data out of {content_type} files.")
    try:
        return strippers[content_type](data)
    except (IndexError, struct.error, zlib.error) as exc:  # a bound check missed below: still the file's fault
        raise Unstrippable("Its metadata is damaged.") from exc


# --- EXIF (TIFF) ---------------------------------------------------------------------------------------------------


def strip_tiff_gps(tiff: bytearray) -> bool:
    """Remove the GPS IFD from an EXIF block (a TIFF structure) in place, keeping its length; True if it had one."""
    if len(tiff) < 8:
        raise Unstrippable("Its EXIF data is too short.")
    order = {b"II": "<", b"MM": ">"}.get(bytes(tiff[:2]))
    if order is None or _unpack(tiff, order + "H", 2) != 42:
        raise Unstrippable("Its EXIF data does not start like a TIFF header.")
    offset, seen, removed = _unpack(tiff, order + "I", 4), set(), False
    while offset:
        if offset in seen or len(seen) >= _MAX_IFDS:
            raise Unstrippable("Its EXIF directories loop.")
        seen.add(offset)
        entries, next_offset = _read_ifd(tiff, offset, order)
        kept = [entry for entry in entries if _tag(entry, order) != GPS_POINTER]
        if len(kept) != len(entries):
            for entry in entries:
                if _tag(entry, order) == GPS_POINTER:
                    _wipe_gps_ifd(tiff, entry, order)
            _write_ifd(tiff, offset, kept, next_offset, order)
            removed = True
        offset = next_offset
    return removed


def _unpack(buffer: bytes | bytearray, fmt: str, at: int) -> int:
    if at < 0 or at + struct.calcsize(fmt) > len(buffer):
        raise Unstrippable("Its EXIF data points outside itself.")
    return struct.unpack_from(fmt, buffer, at)[0]


def _read_ifd(tiff: bytearray, offset: int, order: str) -> tuple[list[bytes], int]:
    """An IFD's 12-byte entries, raw, and the offset of the next IFD."""
    count = _unpack(tiff, order + "H", offset)
    end = offset + 2 + 12 * count
    next_offset = _unpack(tiff, order + "I", end)
    return [bytes(tiff[at : at + 12]) for at in range(offset + 2, end, 12)], next_offset


def _tag(entry: bytes, order: str) -> int:
    return struct.unpack_from(order + "H", entry)[0]


def _write_ifd(tiff: bytearray, offset: int, entries: list[bytes], next_offset: int, order: str) -> None:
    """Rewrite an IFD with fewer entries where it was; the bytes it no longer uses become zeros."""
    old_end = offset + 2 + 12 * _unpack(tiff, order + "H", offset) + 4
    body = struct.pack(order + "H", len(entries)) + b"".join(entries) + struct.pack(order + "I", next_offset)
    tiff[offset:old_end] = body + bytes(old_end - offset - len(body))


def _wipe_gps_ifd(tiff: bytearray, pointer: bytes, order: str) -> None:
    """Zero the GPS IFD the pointer entry names, and every value it stores outside itself."""
    kind, count = struct.unpack_from(order + "HI", pointer, 2)
    if kind not in (4, 13) or count != 1:
        return  # not a usable pointer: no reader would find a GPS IFD through it, and it is removed anyway
    offset = struct.unpack_from(order + "I", pointer, 8)[0]
    entries, _ = _read_ifd(tiff, offset, order)
    for entry in entries:
        kind, count = struct.unpack_from(order + "HI", entry, 2)
        size = _TYPE_SIZES.get(kind, 1) * count
        if size > 4:
            at = struct.unpack_from(order + "I", entry, 8)[0]
            if at + size > len(tiff):
                raise Unstrippable("Its GPS data points outside the EXIF block.")
            tiff[at : at + size] = bytes(size)
    end = offset + 2 + 12 * len(entries) + 4
    tiff[offset:end] = bytes(end - offset)


def _without_gps(exif_payload: bytes) -> bytes:
    """An EXIF payload (with or without the "Exif\\0\\0" header) without its GPS IFD, the same length."""
    header = _EXIF_HEADER if exif_payload.startswith(_EXIF_HEADER) else b""
    tiff = bytearray(exif_payload[len(header) :])
    strip_tiff_gps(tiff)
    return header + bytes(tiff)


def names_a_place(xmp: bytes) -> bool:
    return _XMP_PLACE.search(xmp) is not None


# --- JPEG ----------------------------------------------------------------------------------------------------------


def strip_jpeg(data: bytes) -> bytes:
    """The JPEG without GPS EXIF, XMP naming a place, IPTC place fields or trailers; SOS to EOI byte for byte."""
    if not data.startswith(b"\xff\xd8"):
        raise Unstrippable("It does not start like a JPEG.")
    segments, picture_at = _header_segments(data)
    drop_xmp = any(
        code == _APP1 and body.startswith((_XMP_HEADER, _XMP_EXTENSION_HEADER)) and names_a_place(body)
        for code, body in segments
    )
    out = [b"\xff\xd8"]
    for code, body in segments:
        kept = _cleaned_segment(code, body, drop_xmp)
        if kept is not None:
            out.append(bytes((0xFF, code)) + struct.pack(">H", len(kept) + 2) + kept)
    out.append(data[picture_at : _picture_end(data, picture_at)])
    return b"".join(out)


def _header_segments(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """The segments between SOI and the first SOS, as (marker code, body), and where that SOS starts."""
    segments, pos = [], 2
    while True:
        if pos >= len(data):
            raise Unstrippable("The JPEG ends before its picture data.")
        if data[pos] != 0xFF:
            raise Unstrippable("A JPEG segment does not start where the one before it ends.")
        start = pos
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes before a marker are allowed
            pos += 1
        if pos >= len(data):
            raise Unstrippable("The JPEG ends before its picture data.")
        code = data[pos]
        pos += 1
        if code in (_SOI, _EOI) or code in _STANDALONE:
            raise Unstrippable("The JPEG has a misplaced marker before its picture data.")
        if code == _SOS:
            return segments, start
        if pos + 2 > len(data):
            raise Unstrippable("The JPEG ends inside a segment.")
        length = struct.unpack_from(">H", data, pos)[0]
        if length < 2 or pos + length > len(data):
            raise Unstrippable("A JPEG segment runs past the end of the file.")
        segments.append((code, data[pos + 2 : pos + length]))
        pos += length


def _cleaned_segment(code: int, body: bytes, drop_xmp: bool) -> bytes | None:
    """The segment's body as it goes into the copy; None drops it."""
    if code == _APP1 and body.startswith(_EXIF_HEADER):
        return _without_gps(body)
    if code == _APP1 and body.startswith((_XMP_HEADER, _XMP_EXTENSION_HEADER)):
        return None if drop_xmp else body
    if code == _APP13 and body.startswith(_PHOTOSHOP_HEADER) and _IPTC_PLACE.search(body):
        return None
    if code == _APP2 and body.startswith(_MPF_HEADER):
        return None  # the index of the pictures after EOI, which the copy leaves out
    return body


def _picture_end(data: bytes, sos_at: int) -> int:
    """Where the first picture's EOI ends, walking its scans and the tables between them as a decoder does.

    Metadata (an APPn segment) between scans is refused: readers differ on whether they see it."""
    pos = sos_at
    while True:
        found = _MARKER.search(data, pos)
        if found is None:
            return len(data)  # no EOI: nothing follows the picture, so nothing to drop
        code = found[1][0]
        if code == _EOI:
            return found.end()
        if code in _STANDALONE:
            pos = found.end()
            continue
        if code in _APPS:
            raise Unstrippable("The JPEG has metadata between its scans.")
        if found.end() + 2 > len(data):
            return len(data)
        pos = found.end() + struct.unpack_from(">H", data, found.end())[0]


# --- PNG -----------------------------------------------------------------------------------------------------------


def strip_png(data: bytes) -> bytes:
    """The PNG without GPS in eXIf, without XMP or raw EXIF/IPTC text chunks, and nothing after IEND."""
    if not data.startswith(_PNG_SIGNATURE):
        raise Unstrippable("It does not start like a PNG.")
    out, pos = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while True:
        if pos + 12 > len(data):
            raise Unstrippable("The PNG ends before its IEND chunk.")
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > len(data):
            raise Unstrippable("A PNG chunk runs past the end of the file.")
        body = data[pos + 8 : end - 4]
        if kind == b"eXIf":
            out.append(_png_chunk(kind, _without_gps(body)))
        elif not (kind in _PNG_TEXT and _png_text_is_metadata(body)):
            out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            return b"".join(out)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_text_is_metadata(body: bytes) -> bool:
    """XMP, or EXIF/IPTC/XMP written as a "Raw profile" (ImageMagick's hex text): dropped whole, compressed or not."""
    keyword = body.split(b"\x00", 1)[0]
    return keyword == b"XML:com.adobe.xmp" or keyword.startswith(b"Raw profile type")


# --- WebP ----------------------------------------------------------------------------------------------------------


def strip_webp(data: bytes) -> bytes:
    """The WebP without GPS in its EXIF chunk, without XMP naming a place, and nothing after the RIFF."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise Unstrippable("It does not start like a WebP.")
    riff_end = 8 + struct.unpack_from("<I", data, 4)[0]
    if riff_end > len(data):
        raise Unstrippable("The WebP is shorter than its header says.")
    chunks, pos = [], 12
    while pos + 8 <= riff_end:
        kind, length = struct.unpack_from("<4sI", data, pos)
        end = pos + 8 + length
        if end > riff_end:
            raise Unstrippable("A WebP chunk runs past the end of the file.")
        chunks.append([kind, data[pos + 8 : end]])
        pos = end + (length & 1)  # chunks are padded to an even length
    kept = []
    for kind, body in chunks:
        if kind == b"EXIF":
            body = _without_gps(body)
        elif kind == b"XMP " and names_a_place(body):
            continue
        kept.append([kind, body])
    if not any(kind == b"XMP " for kind, _ in kept):
        for chunk in kept:
            if chunk[0] == b"VP8X" and chunk[1]:
                chunk[1] = bytes((chunk[1][0] & ~_VP8X_XMP,)) + chunk[1][1:]
    payload = b"".join(struct.pack("<4sI", kind, len(body)) + body + b"\x00" * (len(body) & 1) for kind, body in kept)
    return b"RIFF" + struct.pack("<I", 4 + len(payload)) + b"WEBP" + payload


# --- GIF -----------------------------------------------------------------------------------------------------------


def check_gif(data: bytes) -> bytes:
    """A GIF as it is: it has no EXIF. XMP rides in an application extension, which is not edited here; refused."""
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise Unstrippable("It does not start like a GIF.")
    if b"XMP DataXMP" in data:
        raise Unstrippable("The GIF carries XMP metadata.")
    return data


# --- MP4 / QuickTime: found, not removed -----------------------------------------------------------------------------

ISO_VIDEO_TYPES = ("video/mp4", "video/quicktime")
# Where these containers record a place: QuickTime/3GPP user data (©xyz), 3GPP's loci box, Apple's metadata key.
_ISO_PLACE = re.compile(rb"\xa9xyz|loci|com\.apple\.quicktime\.location")
_MAX_TOP_BOXES = 64
MAX_MOOV_BYTES = 16 * 1024 * 1024


def video_names_a_place(read: Callable[[int, int], bytes], size: int) -> bool:
    """Whether an MP4 or QuickTime file records where it was filmed, reading only box headers and its `moov`
    (`read(offset, length)` is a ranged read): a few kilobytes to a few megabytes of a file of any size.

    Raises Unstrippable when it cannot tell (no `moov`, a damaged box, a `moov` past MAX_MOOV_BYTES)."""
    offset = 0
    for _ in range(_MAX_TOP_BOXES):
        if offset + 8 > size:
            break
        header = read(offset, 16)
        length, kind = struct.unpack_from(">I4s", header)
        header_length = 8
        if length == 1:
            length, header_length = struct.unpack_from(">Q", header, 8)[0], 16
        elif length == 0:
            length = size - offset
        if length < header_length:
            raise Unstrippable("A box of the video is damaged.")
        if kind == b"moov":
            if length > MAX_MOOV_BYTES:
                raise Unstrippable("The video's index is too large to check.")
            return _ISO_PLACE.search(read(offset, length)) is not None
        offset += length
    raise Unstrippable("The video has no index (moov) where it should be.")
