"""The JSON API for ZIP downloads: the same services and rules as the pages."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import reverse

from exports import services
from exports.models import State, ZipJob
from mediahub.api import api_view, errors, json_body
from mediahub.http import owner_id


def job_json(job: ZipJob) -> dict:
    ready = job.state == State.READY
    return {
        "id": job.id,
        "state": job.state,
        "itemsTotal": int(job.items_total),
        "itemsDone": int(job.items_done),
        "bytesTotal": int(job.bytes_total),
        "bytesDone": int(job.bytes_done),
        "percent": services.percent(job),
        "fileName": job.file_name,
        "zipSize": int(job.zip_size) if job.zip_size is not None else None,
        "reason": job.reason,
        "skipped": job.skipped or [],
        "createdAt": job.created_at.isoformat(),
        "expiresAt": job.expires_at.isoformat() if job.expires_at else None,
        "page": reverse("export", args=[job.id]),
        # Signed afresh at every read, for LINK_SECONDS: a page or script asks again rather than keep one.
        "link": services.download_url(job) if ready else None,
        "linkExpiresIn": services.LINK_SECONDS if ready else None,
    }


def ids_of(body: dict) -> list[str] | None:
    ids = body.get("ids")
    if isinstance(ids, list) and all(isinstance(i, str) for i in ids):
        return ids
    return None


@json_body
def create(request: HttpRequest, body: dict) -> JsonResponse:
    ids = ids_of(body)
    if ids is None:
        return errors(400, ids="Give ids: a list of item ids (strings), the items to put in the ZIP.")
    try:
        started = services.start_export(owner_id=owner_id(request), ids=ids)
    except services.UnknownItems as exc:  # the whole request refused: say which ids, all of them
        return JsonResponse({"errors": {exc.field: [exc.message]}, "unknown": exc.ids}, status=exc.http_status)
    response = JsonResponse({**job_json(started.job), "leftOut": started.left_out}, status=202)
    response["Location"] = reverse("api-export", args=[started.job.id])
    return response


def detail(request: HttpRequest, export_id: str) -> JsonResponse:
    return JsonResponse(job_json(services.get_job(owner_id=owner_id(request), job_id=export_id)))


exports_collection = api_view({"POST": create})
export_item = api_view({"GET": detail})
