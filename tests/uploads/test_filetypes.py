"""uploads.filetypes: what a file is, from its first bytes."""

from __future__ import annotations

import struct

import pytest
from PIL import Image

from tests.images import heic
from uploads.filetypes import SNIFF_BYTES, mismatch, sniff


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    """An ISO media file's first box: its size, 'ftyp', the major brand, a minor version, the compatible brands."""
    body = b"ftyp" + major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", 4 + len(body)) + body + b"\0\0\0\x08free"


@pytest.mark.parametrize(
    ("head", "detected"),
    [
        (ftyp(b"heic", b"mif1", b"heic", b"miaf", b"MiHB"), "image/heic"),  # an iPhone's
        (ftyp(b"heix", b"mif1", b"heix"), "image/heic"),  # 10-bit, as cameras write HIF
        (ftyp(b"mif1", b"heic"), "image/heic"),
        (ftyp(b"msf1", b"mif1", b"heic", b"hevc"), "image/heic"),  # a sequence that also holds a still picture
        (ftyp(b"mif1", b"mif1", b"miaf"), "image/heif"),  # a HEIF image whose coding the brands do not name
        (ftyp(b"mif1", b"avif", b"mif1", b"miaf"), "image/avif"),
        (ftyp(b"avif", b"mif1", b"avif"), "image/avif"),
        (ftyp(b"msf1", b"hevc"), None),  # an image sequence only: a track, no picture
        (ftyp(b"hevc", b"msf1"), None),
        (ftyp(b"mp42", b"mp42", b"isom"), "video/mp4"),
    ],
    ids=["heic", "heix", "mif1-heic", "msf1-with-heic", "mif1-only", "mif1-avif", "avif", "msf1", "hevc", "mp4"],
)
def test_iso_media_brands_tell_heic_heif_avif_and_sequences_apart(head, detected):
    assert sniff(head[:SNIFF_BYTES]) == detected


def test_a_heic_from_the_encoder_is_sniffed_as_heic():
    assert sniff(heic(Image.new("RGB", (16, 16))).read(SNIFF_BYTES)) == "image/heic"


def test_brands_past_the_ftyp_box_do_not_count():
    # The 'heic' after the box is the next box's content, not a brand of this file.
    assert sniff(ftyp(b"msf1", b"hevc") + b"heic") is None


@pytest.mark.parametrize("declared", ["image/heic", "image/heif"])
def test_heic_declared_by_either_name_is_no_mismatch(declared):
    assert mismatch(declared, "image/heic") is None
