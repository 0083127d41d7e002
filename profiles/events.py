"""Lambda adapters for accounts (wired in zappa_settings.json): the asynchronous deletion job and the schedules."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
django.setup()

from profiles import services  # noqa: E402  (Django must be set up before our modules load)


def delete_account(user_id: int) -> str:
    """What the asynchronous invocation (uploads/dispatch.py run_job) runs. A failure raises, so Lambda retries
    the invocation (twice); after that the sweep below queues it again."""
    return services.account_delete_job(user_id)


def resume_account_deletions(event: dict | None = None, context: object = None) -> int:
    return services.resume_account_deletions()


def sweep_avatars(event: dict | None = None, context: object = None) -> int:
    return services.sweep_avatars()
