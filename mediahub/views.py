from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.views import csrf, defaults


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and `zappa status`: answers without touching AWS or the database."""
    return JsonResponse({"status": "ok"})


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """/favicon.ico, which browsers ask for on pages without our <link rel="icon"> (the admin, JSON): the static
    file. A temporary redirect, since the file's hashed name changes with the icon."""
    return HttpResponseRedirect(static("favicon.ico"))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """API callers get JSON; people get Django's page, which explains cookies and reloading."""
    if request.path.startswith("/api/"):
        message = "CSRF check failed: send the csrftoken cookie's value in an X-CSRFToken header."
        return JsonResponse({"errors": {"csrf": [message]}}, status=403)
    return csrf.csrf_failure(request, reason)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """API callers get JSON for unknown paths too; people get the usual page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": {"path": ["There is no such API endpoint."]}}, status=404)
    return defaults.page_not_found(request, exception)
