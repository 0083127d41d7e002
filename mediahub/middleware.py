"""Site-wide response policy: the 429 page for rate limits, and the security headers every answer carries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from mediahub.aws import client, presigned_get
from mediahub.errors import RateLimited

# Browser features no page of the site uses; fullscreen stays for the site's own <video> controls.
PERMISSIONS_POLICY = ", ".join(
    [
        *(
            f"{feature}=()"
            for feature in (
                "accelerometer",
                "autoplay",
                "browsing-topics",
                "camera",
                "display-capture",
                "geolocation",
                "gyroscope",
                "magnetometer",
                "microphone",
                "midi",
                "payment",
                "publickey-credentials-get",
                "screen-wake-lock",
                "serial",
                "usb",
                "xr-spatial-tracking",
            )
        ),
        "fullscreen=(self)",
    ]
)


class RateLimitPage:
    """A RateLimited raised by a page (sign-up, sign-in, a shared link, an upload) becomes the 429 page.

    (The JSON API answers its own, as JSON: mediahub.api.api_view.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RateLimited):
            return None
        retry_at = timezone.now() + timedelta(seconds=exception.retry_after)
        context = {"message": exception.message, "retry_at": retry_at}
        response = render(request, "429.html", context, status=429)
        response["Retry-After"] = str(exception.retry_after)
        return response


class SecurityHeaders:
    """Content-Security-Policy (with CSP_ENABLED, on by default with DEBUG off), Permissions-Policy, and
    `Cache-Control: no-store` on API answers that do not set their own caching (the OpenAPI document does)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CSP_ENABLED:
            response.setdefault("Content-Security-Policy", content_security_policy())
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.path.startswith("/api/") and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


def content_security_policy() -> str:
    return _policy(settings.AWS_ENDPOINT_URL, settings.AWS_REGION, settings.UPLOADS_BUCKET, settings.RENDITIONS_BUCKET)


@lru_cache(maxsize=4)
def _policy(endpoint: str, region: str, uploads: str, renditions: str) -> str:
    """Only the site's own scripts and styles, nothing inline; S3 for images, media and uploads.

    The browser POSTs uploads straight to the uploads bucket (connect-src: the XHR; form-action too, since the
    shared-link download form is answered by a redirect to S3); renditions and previews are <img> and <video>
    from signed S3 links; the avatar preview is a blob: URL of the picked file.
    """
    s3 = " ".join(sorted(s3_origins(uploads, renditions)))
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": f"'self' blob: {s3}",
        "media-src": f"'self' {s3}",
        "connect-src": f"'self' {s3}",
        "form-action": f"'self' {s3}",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "object-src": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def s3_origins(*buckets: str) -> set[str]:
    """The origins the browser reaches the buckets at: where our signed GET links and boto3's presigned POSTs
    point (they differ on real AWS: regional virtual-hosted names for GETs, the global name for POSTs)."""
    origins = set()
    for bucket in buckets:
        post = client("s3").generate_presigned_post(bucket, "csp")["url"]
        for url in (presigned_get(bucket, "csp", expires=1), post):
            parts = urlsplit(url)
            origins.add(f"{parts.scheme}://{parts.netloc}")
    return origins
