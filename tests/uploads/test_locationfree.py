"""The location stripper on real files made by Pillow: GPS gone, everything else kept, the picture's bytes unchanged."""

import io
import random
import struct

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from tests.images import camera_exif, camera_jpeg, encoded, photo, progressive_jpeg
from uploads import locationfree
from uploads.locationfree import Unstrippable, strip

GPS_XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="52,22.2N" '
    b'exif:GPSLongitude="4,53.7E"/></rdf:RDF></x:xmpmeta>'
)
PLAIN_XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
# The GPS latitude as the EXIF block stores it (three rationals, little-endian): gone from the copy, not just unlinked.
LATITUDE = struct.pack("<6I", 52, 1, 22, 1, 12, 1)


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def gps(data: bytes) -> dict:
    return dict(opened(data).getexif().get_ifd(ExifTags.IFD.GPSInfo))


def segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """A JPEG's header segments (code, body) and everything from its first SOS on: the entropy-coded picture."""
    found, pos = [], 2
    while data[pos + 1] != 0xDA:
        length = struct.unpack_from(">H", data, pos + 2)[0]
        found.append((data[pos + 1], data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return found, data[pos:]


def jpeg_with(*extra: tuple[int, bytes], picture: bytes | None = None) -> bytes:
    """A plain JPEG with extra header segments (code, body) inserted after SOI."""
    data = picture or encoded(photo((64, 48)), "JPEG").getvalue()
    inserted = b"".join(bytes((0xFF, code)) + struct.pack(">H", len(body) + 2) + body for code, body in extra)
    return data[:2] + inserted + data[2:]


# --- JPEG ----------------------------------------------------------------------------------------------------------


def test_a_camera_jpeg_loses_its_gps_and_keeps_everything_else():
    original = camera_jpeg().getvalue()
    assert gps(original)  # the test photo has a position to lose
    copy = strip(original, "image/jpeg")
    assert gps(copy) == {}
    assert LATITUDE in original and LATITUDE not in copy
    before, after = opened(original), opened(copy)
    exif = after.getexif()
    assert exif[ExifTags.Base.Make] == before.getexif()[ExifTags.Base.Make]
    assert exif[ExifTags.Base.Model] == before.getexif()[ExifTags.Base.Model]
    assert exif.get_ifd(ExifTags.IFD.Exif) == before.getexif().get_ifd(ExifTags.IFD.Exif)
    assert after.info["icc_profile"] == before.info["icc_profile"]
    assert after.info["xmp"] == before.info["xmp"]  # XMP that names no place stays
    assert len(copy) == len(original)  # the EXIF block is edited in place
    assert segments(copy)[1] == segments(original)[1]  # the entropy-coded data, byte for byte
    assert after.tobytes() == before.tobytes()  # and Pillow decodes it to the same pixels


def test_big_endian_exif_loses_its_gps_too():
    original = encoded(photo((80, 60)), "JPEG", exif=camera_exif(">").tobytes()).getvalue()
    assert b"MM\x00\x2a" in original and gps(original)
    copy = strip(original, "image/jpeg")
    assert gps(copy) == {}
    assert opened(copy).getexif()[ExifTags.Base.Make] == "Canon\0\0\0"
    assert segments(copy)[1] == segments(original)[1]


def test_a_progressive_jpeg_keeps_every_scan_and_table_between_them():
    original = progressive_jpeg((300, 200), exif=camera_exif().tobytes())
    copy = strip(original, "image/jpeg")
    assert gps(copy) == {}
    assert segments(copy)[1] == segments(original)[1]
    assert opened(copy).tobytes() == opened(original).tobytes()


def test_a_jpeg_without_metadata_is_copied_unchanged():
    original = encoded(photo((64, 48)), "JPEG").getvalue()
    assert strip(original, "image/jpeg") == original


def test_exif_without_gps_is_kept_as_it_is():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    original = encoded(photo((64, 48)), "JPEG", exif=exif.tobytes()).getvalue()
    assert strip(original, "image/jpeg") == original


def test_xmp_naming_a_place_is_dropped_and_other_xmp_kept():
    original = encoded(photo((64, 48)), "JPEG", xmp=GPS_XMP).getvalue()
    copy = strip(original, "image/jpeg")
    assert b"GPSLatitude" not in copy and "xmp" not in opened(copy).info
    assert segments(copy)[1] == segments(original)[1]
    plain = encoded(photo((64, 48)), "JPEG", xmp=PLAIN_XMP).getvalue()
    assert strip(plain, "image/jpeg") == plain


def test_extended_xmp_goes_with_a_main_packet_that_names_a_place():
    main = (0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + GPS_XMP)
    extension = (0xE1, b"http://ns.adobe.com/xmp/extension/\x00" + b"0" * 40 + b"<rdf:RDF/>")
    copy = strip(jpeg_with(main, extension), "image/jpeg")
    assert b"ns.adobe.com" not in copy


def test_iptc_place_fields_in_photoshop_segment_are_dropped():
    iptc = b"\x1c\x02\x5a\x00\x09Amsterdam"  # 2:90, the city
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    original = jpeg_with((0xED, b"Photoshop 3.0\x00" + resource))
    copy = strip(original, "image/jpeg")
    assert b"Amsterdam" not in copy and b"Photoshop" not in copy
    keywords = b"\x1c\x02\x19\x00\x05beach"  # 2:25, a keyword: not a place
    plain = jpeg_with((0xED, b"Photoshop 3.0\x00" + b"8BIM\x04\x04\x00\x00" + struct.pack(">I", 10) + keywords))
    assert strip(plain, "image/jpeg") == plain


def test_whatever_follows_the_picture_is_left_out():
    # A motion photo's video, say, with its own location atom.
    original = camera_jpeg().getvalue() + b"\x00\x00\x00\x18ftypmp42" + b"\xa9xyz+52.37+004.89/"
    copy = strip(original, "image/jpeg")
    assert copy.endswith(b"\xff\xd9") and b"+52.37+004.89" not in copy
    assert opened(copy).tobytes() == opened(original).tobytes()


def test_a_multi_picture_jpeg_becomes_its_first_picture_without_gps():
    frames = [photo((64, 48)), photo((64, 48))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "MPO", save_all=True, append_images=frames[1:], exif=camera_exif().tobytes())
    original = buffer.getvalue()
    assert opened(original).format == "MPO" and original.count(LATITUDE) == 2
    copy = strip(original, "image/jpeg")
    assert opened(copy).format == "JPEG"
    assert LATITUDE not in copy and b"MPF\x00" not in copy
    assert opened(copy).tobytes() == opened(original).tobytes()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GIF89a", "does not start like a JPEG"),
        (b"\xff\xd8\xff\xe1\x00\x40Exif\x00\x00II*\x00", "runs past the end"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", "ends before"),
        (b"\xff\xd8\xff\xe0\x00\x04\x00\x00\x12\x34", "does not start where"),
        (b"\xff\xd8\xff\xd9", "misplaced marker"),
    ],
)
def test_malformed_jpegs_are_refused_with_a_reason(data, reason):
    with pytest.raises(Unstrippable, match=reason):
        strip(data, "image/jpeg")


def test_exif_that_is_not_a_tiff_is_refused():
    with pytest.raises(Unstrippable, match="TIFF header"):
        strip(jpeg_with((0xE1, b"Exif\x00\x00XX*\x00\x08\x00\x00\x00")), "image/jpeg")


def test_a_gps_pointer_outside_the_exif_block_is_refused():
    tiff = b"II*\x00\x08\x00\x00\x00" + b"\x01\x00" + struct.pack("<HHII", 0x8825, 4, 1, 4000) + b"\x00" * 4
    with pytest.raises(Unstrippable, match="outside"):
        strip(jpeg_with((0xE1, b"Exif\x00\x00" + tiff)), "image/jpeg")


def test_exif_directories_that_loop_are_refused():
    tiff = b"II*\x00\x08\x00\x00\x00" + b"\x00\x00" + struct.pack("<I", 8)  # IFD0's next IFD is IFD0
    with pytest.raises(Unstrippable, match="loop"):
        strip(jpeg_with((0xE1, b"Exif\x00\x00" + tiff)), "image/jpeg")


def test_metadata_between_scans_is_refused():
    original = progressive_jpeg((64, 48))
    second_scan = original.index(b"\xff\xda", original.index(b"\xff\xda") + 2)
    exif = b"Exif\x00\x00" + camera_exif().tobytes()[6:]
    data = original[:second_scan] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + original[second_scan:]
    with pytest.raises(Unstrippable, match="between its scans"):
        strip(data, "image/jpeg")


def test_damaged_headers_never_crash_the_stripper():
    original = camera_jpeg().getvalue()
    picture_at = len(original) - len(segments(original)[1])
    rng = random.Random(12)
    for _ in range(400):
        damaged = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(2, picture_at)] = rng.randrange(256)
        try:
            copy = strip(bytes(damaged), "image/jpeg")
        except Unstrippable:
            continue
        assert copy.startswith(b"\xff\xd8")


# --- PNG, WebP, GIF, others ----------------------------------------------------------------------------------------


def test_a_png_loses_gps_from_its_exif_chunk_and_its_xmp_and_keeps_its_pixels():
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "Canal")
    info.add_itxt("XML:com.adobe.xmp", GPS_XMP.decode())
    original = encoded(photo((64, 48)), "PNG", exif=camera_exif().tobytes(), pnginfo=info).getvalue()
    original += b"trailing junk"
    assert gps(original)
    copy = strip(original, "image/png")
    assert gps(copy) == {} and LATITUDE not in copy and b"GPSLatitude" not in copy
    after = opened(copy)
    after.load()  # checks every chunk's CRC
    assert after.getexif()[ExifTags.Base.Make] == "Canon\0\0\0"
    assert after.text == {"Title": "Canal"}
    assert after.tobytes() == opened(original).tobytes()
    assert copy.endswith(b"IEND\xaeB`\x82")


def test_a_damaged_png_is_refused():
    data = bytearray(encoded(photo((16, 16)), "PNG").getvalue())
    data[8:12] = struct.pack(">I", 10**6)  # IHDR says it is a megabyte long
    with pytest.raises(Unstrippable, match="runs past the end"):
        strip(bytes(data), "image/png")
    with pytest.raises(Unstrippable, match="before its IEND"):
        strip(encoded(photo((16, 16)), "PNG").getvalue()[:-12], "image/png")


def test_a_webp_loses_gps_from_its_exif_chunk_and_xmp_naming_a_place():
    original = encoded(photo((64, 48)), "WEBP", lossless=True, exif=camera_exif().tobytes(), xmp=GPS_XMP).getvalue()
    assert gps(original)
    copy = strip(original, "image/webp")
    assert gps(copy) == {} and LATITUDE not in copy and b"GPSLatitude" not in copy
    after = opened(copy)
    assert after.getexif()[ExifTags.Base.Make] == "Canon\0\0\0" and "xmp" not in after.info
    assert copy[20] & 0x04 == 0  # VP8X no longer announces XMP
    assert struct.unpack_from("<I", copy, 4)[0] == len(copy) - 8
    assert after.tobytes() == opened(original).tobytes()


def test_a_damaged_webp_is_refused():
    data = encoded(photo((16, 16)), "WEBP").getvalue()
    with pytest.raises(Unstrippable, match="shorter than its header"):
        strip(data[:30], "image/webp")


def test_a_gif_is_copied_as_it_is_unless_it_carries_xmp():
    original = encoded(photo((16, 16)), "GIF").getvalue()
    assert strip(original, "image/gif") == original
    with pytest.raises(Unstrippable, match="XMP"):
        strip(original[:-1] + b"\x21\xff\x0bXMP DataXMP" + GPS_XMP + b"\x00\x3b", "image/gif")


@pytest.mark.parametrize("content_type", ["image/avif", "video/mp4", "application/pdf"])
def test_other_kinds_are_refused_so_the_large_rendition_or_the_original_is_shared(content_type):
    with pytest.raises(Unstrippable, match=f"cannot take location data out of {content_type}"):
        strip(b"anything", content_type)


def test_gps_is_removed_from_every_ifd_that_points_to_one():
    tiff = bytearray(camera_exif().tobytes()[6:])
    assert locationfree.strip_tiff_gps(tiff) is True
    assert locationfree.strip_tiff_gps(tiff) is False  # nothing left to remove


# --- MP4 / QuickTime -------------------------------------------------------------------------------------------------


def box(kind: bytes, body: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def mp4(*moov: bytes, mdat: bytes = b"\x00" * 5000) -> bytes:
    """ftyp, the media data, then the index (moov) last, as cameras write it."""
    return box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41") + box(b"mdat", mdat) + box(b"moov", b"".join(moov))


def reader(data: bytes, reads: list | None = None):
    def read(offset: int, length: int) -> bytes:
        if reads is not None:
            reads.append(length)
        return data[offset : offset + length]

    return read


@pytest.mark.parametrize(
    "place",
    [
        box(b"udta", box(b"\xa9xyz", b"\x00\x12\x15\xc7+52.3702+004.8952/")),
        box(b"udta", box(b"loci", b"\x00" * 20)),
        box(b"meta", box(b"keys", b"\x00" * 8 + b"mdtacom.apple.quicktime.location.ISO6709")),
    ],
)
def test_a_video_that_records_where_it_was_filmed_is_found_out(place):
    data = mp4(box(b"mvhd", b"\x00" * 100), place)
    reads = []
    assert locationfree.video_names_a_place(reader(data, reads), len(data)) is True
    assert sum(reads) < 200 + len(place)  # headers and the index, never the media data


def test_a_video_without_a_place_is_found_clean_even_behind_a_64_bit_box():
    large_mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + 3000) + b"\x00" * 3000
    data = box(b"ftyp", b"isom") + large_mdat + box(b"moov", box(b"mvhd", b"\x00" * 100))
    assert locationfree.video_names_a_place(reader(data), len(data)) is False


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (box(b"ftyp", b"isom") + box(b"mdat", b"\x00" * 100), "no index"),
        (box(b"ftyp", b"isom") + struct.pack(">I4s", 4, b"mdat"), "damaged"),
    ],
)
def test_a_video_whose_index_cannot_be_read_is_refused(data, reason):
    with pytest.raises(Unstrippable, match=reason):
        locationfree.video_names_a_place(reader(data), len(data))
