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
