"""Pages: the downloads page (start a ZIP from a selection, follow it, take the link) and one ZIP's page."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from exports import services
from exports.models import State, ZipJob
from mediahub.errors import STORAGE_DOWN, STORAGE_ERRORS, NotFound, RateLimited, Refusal
from mediahub.http import owner_id


def card(job: ZipJob) -> dict:
    return {"job": job, "percent": services.percent(job), "final": job.state in State.FINAL}


def export_page(view):
    """Signed-in only; someone else's ZIP is a 404; storage outages are a page saying so (503), never a 500."""

    @login_required
    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404("No such ZIP download.") from None
        except STORAGE_ERRORS:
            return _downloads(request, error=STORAGE_DOWN, status=503)

    return wrapper


@require_http_methods(["GET", "POST"])
@export_page
def downloads(request: HttpRequest) -> HttpResponse:
    """GET: the owner's recent ZIPs. POST (the gallery's selection form: `ids`): start a ZIP of them, or say why
    not on this page, with nothing started."""
    if request.method == "POST":
        try:
            started = services.start_export(owner_id=owner_id(request), ids=request.POST.getlist("ids"))
        except RateLimited:
            raise
        except Refusal as exc:
            return _downloads(request, error=exc.message, status=exc.http_status)
        return redirect("export", started.job.id)
    return _downloads(request)


def _downloads(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    jobs = [] if status == 503 else services.recent_jobs(owner_id(request))
    context = {"cards": [card(job) for job in jobs], "error": error}
    return render(request, "exports/downloads.html", context, status=status)


@export_page
def export(request: HttpRequest, export_id: str) -> HttpResponse:
    job = services.get_job(owner_id=owner_id(request), job_id=export_id)
    return render(request, "exports/export.html", {"card": card(job)})


@export_page
def export_file(request: HttpRequest, export_id: str) -> HttpResponse:
    """The page's download button: a fresh short-lived link to the ZIP, so the page's button never goes stale."""
    job = services.get_job(owner_id=owner_id(request), job_id=export_id)
    if job.state != State.READY:
        return render(
            request, "exports/export.html", {"card": card(job)}, status=410 if job.state == State.EXPIRED else 409
        )
    return redirect(services.download_url(job))
