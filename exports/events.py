"""Lambda adapters (wired in zappa_settings.json): the asynchronous build and the scheduled sweep."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
django.setup()

from exports import building, services  # noqa: E402  (Django must be set up before our modules load)


def build(job_id: str) -> str:
    """What the asynchronous invocation (uploads/dispatch.py run_job) runs. It raises only for a fault (Lambda
    then retries the invocation, which a held or finished job turns into a no-op)."""
    return building.build(job_id)


def sweep(event: dict | None = None, context: object = None) -> int:
    return services.sweep()
