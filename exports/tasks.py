"""Celery adapters: a few lines each around the build and the sweep."""

from __future__ import annotations

from django.conf import settings

from exports import building, services
from mediahub.celery import app


# Acks late: a worker lost mid-build redelivers the task, whose run takes the job over once the dead run's lease
# has passed (exports/lifecycle.py take_over); a duplicate delivery meanwhile builds nothing.
@app.task(
    name=services.BUILD_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.ZIP_BUILD_SECONDS + 30,  # the build stops itself at ZIP_BUILD_SECONDS
    time_limit=settings.ZIP_BUILD_SECONDS + 60,
)
def build(job_id: str) -> str:
    return building.build(job_id)


@app.task(name="exports.sweep")
def sweep() -> int:
    return services.sweep()
