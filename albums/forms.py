"""What a person or a script may name an album, and how an album is shared: the rules of item names and links."""

from __future__ import annotations

import unicodedata

from django import forms

from albums.models import Order
from uploads.forms import CAPTION_MAX, NAME_MAX, ShareForm, TextField

NEW_ALBUM = "new"  # the album picker's "New album…" choice
ORDER_CHOICES = [(Order.TAKEN, "By date taken"), (Order.ADDED, "By when added")]


def _no_control_characters(value: str, *, lines: bool) -> str:
    allowed = {"\n", "\r", "\t"} if lines else set()
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in allowed for ch in value):
        raise forms.ValidationError("This contains control characters.")
    return value


def check_name(value: str) -> str:
    return _no_control_characters(value, lines=False)


def check_description(value: str) -> str:
    return _no_control_characters(value, lines=True)


class AlbumForm(forms.Form):
    """An album's name, description and order (the API's PATCH fills in the current values first)."""

    name = TextField(max_length=NAME_MAX, validators=[check_name])
    description = TextField(
        max_length=CAPTION_MAX, required=False, validators=[check_description], widget=forms.Textarea(attrs={"rows": 3})
    )
    order = forms.ChoiceField(choices=ORDER_CHOICES, required=False)

    def clean_order(self) -> str:
        """Left out: by date taken. Given, it must be one of the two (an empty choice is not one)."""
        if not self.cleaned_data["order"] and self.data.get("order") is not None:
            raise forms.ValidationError("Choose an order: taken or added.")
        return self.cleaned_data["order"] or Order.TAKEN


class AlbumShareForm(ShareForm):
    """An item link's expiry choices; no download limit, and never the originals with their location."""

    max_downloads = None
    original = None
    downloads = forms.BooleanField(
        required=False,
        label="Allow downloads (each a copy without location data)",
        help_text="Otherwise people with the link can look but not download.",
    )
