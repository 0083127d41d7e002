"""GET /api/search: the search page's answers as JSON."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from mediahub.api import api_view, form_errors
from mediahub.http import owner_id
from search.forms import SearchForm
from search.query import search
from uploads.api import item_json


def find(request: HttpRequest) -> JsonResponse:
    form = SearchForm(request.GET)
    if not form.is_valid():
        return form_errors(form)
    page = search(form.search(owner_id(request)), form.cleaned_data["cursor"] or None)
    return JsonResponse(
        {
            "items": [item_json(item) for item in page.items],
            "nextCursor": page.cursor,
            "tooBroad": page.too_broad,
            "ignored": form.ignored(),
        }
    )


media_search = api_view({"GET": find})
