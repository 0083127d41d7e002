"""The "Add to album" forms: an item's page's (uploads/detail.html) and the selection toolbar's, so the views of the
pages that show them need no change."""

from __future__ import annotations

from django import template

from albums import services
from albums.forms import NEW_ALBUM
from mediahub.http import owner_id
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


@register.inclusion_tag("albums/partials/album_picker.html", takes_context=True)
def album_picker(context: template.Context) -> dict:
    """The selection toolbar's album choice for the signed-in owner (one Query) and a new-album choice."""
    return {"albums": services.albums_for_owner(owner_id(context["request"])), "new_album": NEW_ALBUM}
