"""The search page: the form, and its results as the gallery's cards."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mediahub.errors import STORAGE_DOWN, STORAGE_ERRORS, Refusal
from mediahub.http import owner_id
from search import index
from search.forms import SearchForm
from search.query import ROWS_PER_WORD, search
from uploads import selectors


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    asked = any(request.GET.get(name) for name in ("q", "type", "camera", "from", "to"))
    form = SearchForm(request.GET if asked else None)
    context = {"form": form, "asked": asked, "cameras": [], "cards": None, "error": None}
    try:
        context["cameras"] = index.cameras(owner_id(request))
        if asked and form.is_valid():
            page = search(form.search(owner_id(request)), form.cleaned_data["cursor"] or None)
            context |= {
                "cards": [{"item": item, "renditions": selectors.rendition_urls(item)} for item in page.items],
                "next_cursor": page.cursor,
                "too_broad": page.too_broad,
                "rows_per_word": ROWS_PER_WORD,
                "ignored": form.ignored(),
                "more_query": _without_cursor(request),
            }
    except Refusal as exc:
        context["error"] = exc.message
    except STORAGE_ERRORS:
        context["error"] = STORAGE_DOWN
    status = 400 if asked and (form.errors or context["error"]) else 200
    return render(request, "search/search.html", context, status=status)


def _without_cursor(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    return query.urlencode()
