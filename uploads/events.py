"""Lambda adapters (wired in zappa_settings.json): S3 events, the scheduled sweep, asynchronous reprocessing."""

from __future__ import annotations

import logging
import os
from urllib.parse import unquote_plus

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
django.setup()

from django.conf import settings  # noqa: E402

from profiles.services import process_avatar  # noqa: E402  (Django must be set up before our modules load)
from uploads import processing, services  # noqa: E402

log = logging.getLogger(__name__)


def handle_s3_event(event: dict, context: object = None) -> dict:
    """Process each ObjectCreated record on its own; re-raise a transient failure so Lambda retries the event.

    Retrying the whole event is safe: records already done are duplicates, which cost one read.
    """
    outcomes, transient = [], None
    for record in event.get("Records", []):
        s3 = record["s3"]
        key = unquote_plus(s3["object"]["key"])  # S3 sends spaces as + and the rest percent-encoded
        try:
            outcomes.append([key, _dispatch(s3["bucket"]["name"], key, s3["object"].get("versionId"))])
        except processing.TransientError as exc:
            transient = transient or exc
    if transient:
        raise transient
    return {"outcomes": outcomes}


def _dispatch(bucket: str, key: str, version_id: str | None) -> str:
    """One notification on the uploads bucket carries media and avatars alike: the key's prefix decides."""
    if key.startswith("avatars/") and bucket == settings.UPLOADS_BUCKET:
        return process_avatar(key)[0]
    return processing.process_object(bucket, key, version_id=version_id)


def sweep_stuck(event: dict | None = None, context: object = None) -> int:
    return services.requeue_stuck()


def delete_expired(event: dict | None = None, context: object = None) -> int:
    return services.delete_expired()


def sweep_abandoned(event: dict | None = None, context: object = None) -> int:
    return services.sweep_abandoned()


def reconcile_usage(event: dict | None = None, context: object = None) -> int:
    return len(services.reconcile_usage(fix=True))


def process_async(bucket: str, key: str, force: bool = False) -> None:
    """What an asynchronous invocation (uploads/dispatch.py) runs: a re-queued item."""
    processing.process_object(bucket, key, force=force)
