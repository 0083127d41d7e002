from datetime import datetime

from django import template

from uploads.models import ShareLink

register = template.Library()


@register.filter
def link_state(link: ShareLink, now: datetime) -> str:
    return link.state(now)
