"""The "Add to album" form an item's page shows (uploads/detail.html), so that page's view needs no change."""

from __future__ import annotations

from django import template

from albums import services
from albums.forms import NEW_ALBUM
from uploads.models import MediaItem

register = template.Library()


@register.inclusion_tag("albums/partials/add_to_album.html", takes_context=True)
def add_to_album(context: template.Context, item: MediaItem) -> dict:
    """A select of the owner's albums (one Query) and a new-album choice, posting the item's id as `ids`."""
    return {
        "item": item,
        "albums": services.albums_for_owner(item.owner_id),
        "new_album": NEW_ALBUM,
        "csrf_token": context.get("csrf_token"),
    }
