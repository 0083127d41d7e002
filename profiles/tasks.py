"""Celery adapters for accounts: the account deletion job and the periodic sweeps, a few lines each."""

from __future__ import annotations

from mediahub.celery import app
from mediahub.errors import STORAGE_ERRORS
from profiles import services
from uploads.tasks import backoff

DELETE_MAX_RETRIES = 5


@app.task(bind=True, name=services.DELETE_TASK, acks_late=True, reject_on_worker_lost=True)
def delete_account(self, user_id: int) -> str:
    try:
        return services.account_delete_job(user_id)
    except STORAGE_ERRORS as exc:
        if self.request.retries >= DELETE_MAX_RETRIES:
            return "stalled"  # the sweep queues it again (services.resume_account_deletions)
        raise self.retry(exc=exc, countdown=backoff(self.request.retries), max_retries=DELETE_MAX_RETRIES) from exc


@app.task(name="profiles.resume_account_deletions")
def resume_account_deletions() -> int:
    return services.resume_account_deletions()


@app.task(name="profiles.sweep_avatars")
def sweep_avatars() -> int:
    return services.sweep_avatars()
