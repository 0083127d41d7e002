"""Celery adapters: a few lines each around the processing core."""

from __future__ import annotations

import random

from django.conf import settings

from mediahub.celery import app
from uploads import processing, services

BACKOFF_BASE_SECONDS = 2
BACKOFF_CAP_SECONDS = 120


def backoff(retries: int) -> float:
    """Exponential backoff with full jitter, so retries after an outage do not arrive together."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retries))  # noqa: S311


@app.task(
    bind=True,
    name="uploads.process_media",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.PROCESSING_MAX_ATTEMPTS - 1,  # attempts = the first run + retries
    time_limit=300,
    soft_time_limit=240,
)
def process_media(self, bucket: str, key: str, force: bool = False) -> str:
    try:
        return processing.process_object(bucket, key, force=force)
    except processing.TransientError as exc:
        if self.request.retries >= self.max_retries:
            processing.mark_failed(processing.media_id_from_key(key), f"Storage kept failing: {exc}")
            return "failed"
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@app.task(name="uploads.sweep_stuck")
def sweep_stuck() -> int:
    return services.requeue_stuck()


@app.task(name="uploads.delete_expired")
def delete_expired() -> int:
    return services.delete_expired()


@app.task(name="uploads.sweep_abandoned")
def sweep_abandoned() -> int:
    return services.sweep_abandoned()


@app.task(name="uploads.reconcile_usage")
def reconcile_usage() -> int:
    return len(services.reconcile_usage(fix=True))
