"""What a file really is, from its first bytes; never from its name or the type a client declared."""

from __future__ import annotations

from django.conf import settings
from django.template.defaultfilters import filesizeformat

# Enough bytes for every signature below (ISO media brands sit in the first 32).
SNIFF_BYTES = 64


def sniff(head: bytes) -> str | None:
    """The MIME type of a file from its first bytes, for the types mediahub accepts; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head[4:8] == b"ftyp":
        return _iso_media_type(head[8:12], _compatible_brands(head))
    return None


# HEIF brands (ISO/IEC 23008-12) that promise a still image coded with HEVC: heic (Main and Main Still Picture
# profiles, the iPhone's), heix (Main 10 and range extensions: cameras' 10-bit HIF files), heim (multi-view),
# heis (scalable). hevc, hevx, hevm and hevs are their image *sequence* brands, and msf1 the codec-free sequence
# brand: a file with only those has a track, not a picture, unless it also names an image brand.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis"}
# mif1 is HEIF's codec-free image brand: the picture may be HEVC, AV1 (AVIF files often start with it) or JPEG.
_HEIF_IMAGE_BRAND = b"mif1"


def _compatible_brands(head: bytes) -> set[bytes]:
    """The brands the ftyp box lists after its major brand and minor version, as far as `head` holds them."""
    end = min(int.from_bytes(head[:4], "big"), len(head))
    return {head[offset : offset + 4] for offset in range(16, end - 3, 4)}


def _iso_media_type(brand: bytes, compatible: set[bytes]) -> str | None:
    if brand in (b"avif", b"avis"):
        return "image/avif"
    if brand == b"qt  ":
        return "video/quicktime"
    if brand in (b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"iso5", b"iso6", b"MSNV"):
        return "video/mp4"
    brands = {brand, *compatible}
    if b"avif" in brands:
        return "image/avif"
    if brands & _HEIC_BRANDS:
        return "image/heic"
    if _HEIF_IMAGE_BRAND in brands:
        return "image/heif"
    return None


def allowed_types() -> dict[str, str]:
    """Accepted MIME type -> file extension, from the MEDIA_TYPES setting."""
    return settings.MEDIA_TYPES


def picker_accept() -> str:
    """A file input's accept list: the types, and their extensions, for systems that know no type for a file
    (Windows without Microsoft's HEIF extension lists no .heic file for "image/heic" alone)."""
    types = allowed_types()
    return ",".join([*types, *dict.fromkeys(f".{ext}" for ext in types.values())])


# What browsers declare for a file whose type they do not know: Chrome and Firefox on Windows and Linux, for .heic.
_UNKNOWN_TYPES = ("", "application/octet-stream")


def declared_type(content_type: str, file_name: str) -> str:
    """The type a browser declared for a file, or, where it declared none, the accepted type its extension names.
    Only a first guess: the content is sniffed once it is stored."""
    if content_type not in _UNKNOWN_TYPES:
        return content_type
    extension = file_name.rpartition(".")[2].lower()
    return next((mime for mime, ext in allowed_types().items() if ext == extension), content_type)


def family(content_type: str) -> str:
    """image, video or document."""
    major = content_type.split("/")[0]
    return major if major in ("image", "video") else "document"


def is_image(content_type: str) -> bool:
    return family(content_type) == "image"


def human_size(size: int) -> str:
    """'1.5 MB': Django's filesizeformat with plain spaces, for messages that also travel as JSON."""
    return filesizeformat(size).replace("\xa0", " ")


def mismatch(declared_type: str, detected: str | None) -> str | None:
    """Why content sniffed as `detected` is not what was declared, for the person who sent it; None if it is."""
    if detected is None:
        return "This file is not a type mediahub accepts (it may be empty, HTML, SVG or an archive)."
    if family(detected) != family(declared_type):
        return f"The file says it is {declared_type}, but its content is {detected}."
    return None
