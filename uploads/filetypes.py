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
        return _iso_media_type(head[8:12])
    return None


def _iso_media_type(brand: bytes) -> str | None:
    if brand in (b"avif", b"avis"):
        return "image/avif"
    if brand == b"qt  ":
        return "video/quicktime"
    if brand in (b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"iso5", b"iso6", b"MSNV"):
        return "video/mp4"
    return None


def allowed_types() -> dict[str, str]:
    """Accepted MIME type -> file extension, from the MEDIA_TYPES setting."""
    return settings.MEDIA_TYPES


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
