"""What the pages show while a picture loads: its ThumbHash and average colour, from the renditions made of it.

Computed from a rendition, not the original, so it is the same for whatever the renditions were made from (a
photo, and a video's poster or a PDF's first page alike) and cheap: a JPEG rendition decoded at 1/8 scale.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image

from uploads.imaging import Rendition
from uploads.thumbhash import rgba_to_thumbhash

# Pixels the hash is computed from, on the long side. Its seven lowest frequencies need few: 32 gives the hash
# of 100 (the reference's most) within a step of its 4-bit factors, in a tenth of the time (~10 ms with the decoding).
SAMPLE_SIDE = 32


@dataclass(frozen=True)
class Placeholder:
    thumbhash: str  # base64
    color: str  # "#rrggbb"


def placeholder(renditions: list[Rendition]) -> Placeholder | None:
    """From the smallest uncropped JPEG rendition (the whole picture, as the detail page shows it); None without."""
    uncropped = [
        r for r in renditions if r.ext == "jpg" and not settings.MEDIA_RENDITIONS.get(r.name, {}).get("crop", True)
    ]
    if not uncropped:
        return None
    source = min(uncropped, key=lambda r: r.width * r.height)
    with Image.open(io.BytesIO(source.data)) as im:
        im.draft("RGB", (SAMPLE_SIDE, SAMPLE_SIDE))  # DCT scaling: the decoder itself shrinks by up to 8
        small = im.convert("RGBA")
    small.thumbnail((SAMPLE_SIDE, SAMPLE_SIDE), Image.Resampling.BOX)
    red, green, blue = small.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    digest = rgba_to_thumbhash(small.width, small.height, small.tobytes())
    return Placeholder(base64.b64encode(digest).decode(), f"#{red:02x}{green:02x}{blue:02x}")
