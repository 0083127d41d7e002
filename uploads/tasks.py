"""Celery adapters: a few lines each around the processing core."""

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="uploads.process_media", acks_late=True, reject_on_worker_lost=True)
def process_media(bucket: str, key: str) -> None:
    log.info("processing requested for s3://%s/%s", bucket, key)
