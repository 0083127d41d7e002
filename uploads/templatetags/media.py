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
