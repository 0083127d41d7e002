import contextlib
from datetime import datetime

from django import template

from uploads import sharing
from uploads.models import ShareLink

register = template.Library()


@register.filter
def link_state(link: ShareLink, now: datetime) -> str:
    return link.state(now)


@register.filter
def link_serves(link: ShareLink) -> str:
    """What the link hands out, in two or three words, for the owner's list of links."""
    return sharing.SERVES_LABEL[link.serves or sharing.ORIGINAL]


@register.filter
def duration(seconds: float | None) -> str:
    """1:05 or 1:02:05: a video's length as players show it."""
    if seconds is None:
        return ""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# Where a picture is shown -> the `sizes` it is shown at and the renditions that may fill it. A gallery tile is a
# square filled edge to edge (object-fit: cover, as the square thumb is cropped from the centre), so there an
# uncropped rendition is worth its short side; static/js/pictures.js makes the same choice for pictures it swaps in.
PICTURE_SLOTS = {
    "thumb": ("(max-width: 600px) 46vw, 270px", ("thumb", "medium", "large")),
    "medium": ("(max-width: 700px) 92vw, (max-width: 1200px) 62vw, 740px", ("medium", "large")),
}


@register.simple_tag
def srcset(renditions: dict, slot: str, ext: str) -> str:
    """`url 320w, url 768w, …` for one format: each rendition that is wider (there) than the ones before it."""
    candidates, widest = [], 0
    for name in PICTURE_SLOTS[slot][1]:
        rendition = renditions.get(name)
        if not rendition or ext not in rendition:
            continue
        width = min(rendition["width"], rendition["height"]) if slot == "thumb" else rendition["width"]
        if width > widest:
            candidates.append(f"{rendition[ext]} {width}w")
            widest = width
    return ", ".join(candidates)


@register.simple_tag
def picture_sizes(slot: str) -> str:
    return PICTURE_SLOTS[slot][0]


@register.filter
def taken_with(exif: dict | None) -> list[tuple[str, str]]:
    """When and with what a picture was taken, from the EXIF subset processing stored (never its location)."""
    exif = exif or {}
    facts = []
    if taken := exif.get("taken_at"):
        with contextlib.suppress(ValueError):  # stored by processing, so valid; a hand-edited record is not shown
            facts.append(("Taken", datetime.fromisoformat(taken).strftime("%Y-%m-%d %H:%M") + " (camera's clock)"))
    make, model = exif.get("make", ""), exif.get("model", "")
    # Most cameras repeat the maker in the model ("Canon" + "Canon EOS R5"): say it once.
    camera = model if make and model.lower().startswith(make.split()[0].lower()) else f"{make} {model}".strip()
    if camera:
        facts.append(("Camera", camera))
    if lens := exif.get("lens"):
        facts.append(("Lens", lens))
    if exposure := exif.get("exposure"):
        facts.append(("Exposure", exposure))
    return facts
