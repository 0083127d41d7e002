"""What a search may ask, checked once for the page and the JSON API alike."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms

from search.index import MIN_PREFIX, words
from search.query import Search, query_words

MAX_WORDS = 8  # one Query each: the bound on a search's reads
QUERY_MAX = 500  # characters of q
CAMERA_MAX = 200
FAMILIES = (("image", "Photos"), ("video", "Videos"), ("document", "PDFs"))
YEARS = (1800, 2200)
DATE_MESSAGE = "Write dates as YYYY-MM-DD, like 2026-12-31."


class SearchForm(forms.Form):
    q = forms.CharField(required=False, strip=True)
    type = forms.ChoiceField(required=False, choices=(("", "Any type"), *FAMILIES))
    camera = forms.CharField(required=False, max_length=CAMERA_MAX)
    cursor = forms.CharField(required=False, max_length=2000)

    def clean_q(self) -> str:
        text = self.cleaned_data["q"]
        if len(text) > QUERY_MAX:
            raise forms.ValidationError(f"A search is at most {QUERY_MAX} characters ({len(text)} given).")
        found = words(text)
        if text and not found:
            raise forms.ValidationError("Search for words: letters or digits.")
        kept = query_words(text)
        if len(kept) > MAX_WORDS:
            raise forms.ValidationError(f"A search takes at most {MAX_WORDS} words ({len(kept)} given).")
        short = [w for w in kept if len(w) < MIN_PREFIX]
        if short and len(short) == len(kept):
            raise forms.ValidationError(
                f"Type at least {MIN_PREFIX} letters or digits of a word: “{short[0]}” is too short to search for."
            )
        return text

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("from"), data.get("to")
        for name in ("from", "to"):
            day = data.get(name)
            if day and not YEARS[0] <= day.year <= YEARS[1]:
                self.add_error(name, f"Choose a date between {YEARS[0]} and {YEARS[1]}.")
                since = until = None
        if since and until and since > until:
            self.add_error("to", f"The end date ({until}) is before the start date ({since}).")
        asked = query_words(data.get("q", "")) or data.get("type") or data.get("camera") or since or until
        if not self.errors and not asked:
            raise forms.ValidationError("Type a word to search for, or choose a type, a camera or dates.")
        return data

    def search(self, owner_id: str) -> Search:
        """The checked request (call after is_valid)."""
        data = self.cleaned_data
        since, until = data.get("from"), data.get("to")
        kept = [w for w in query_words(data["q"]) if len(w) >= MIN_PREFIX]
        return Search(
            owner_id=owner_id,
            words=tuple(kept),
            family=data["type"] or None,
            camera=data["camera"] or None,
            since=datetime.combine(since, time(), UTC) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,  # to: the whole day
        )

    def ignored(self) -> list[str]:
        """Words too short to search for, left out of a search that has longer ones."""
        return [w for w in query_words(self.cleaned_data.get("q", "")) if len(w) < MIN_PREFIX]


# "from" is a Python keyword: added by name. Dates are days (UTC); `to` includes its whole day.
SearchForm.base_fields["from"] = forms.DateField(required=False, error_messages={"invalid": DATE_MESSAGE})
SearchForm.base_fields["to"] = forms.DateField(required=False, error_messages={"invalid": DATE_MESSAGE})
