from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and `zappa status`: answers without touching AWS or the database."""
    return JsonResponse({"status": "ok"})
