"""The Celery app: JSON only, acks late, bounded in time. Configured from Django settings (CELERY_*)."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")

app = Celery("mediahub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_local_folders(sender: Celery, **kwargs) -> None:
    # The file-system broker and result backend need their folders before the first message, on both sides.
    folders = [v for v in (sender.conf.broker_transport_options or {}).values() if isinstance(v, str)]
    backend = str(sender.conf.result_backend or "")
    if backend.startswith("file://"):
        folders.append(backend.removeprefix("file://"))
    for folder in folders:
        Path(folder).mkdir(parents=True, exist_ok=True)


@worker_init.connect
def _find_local_aws(**kwargs) -> None:
    from mediahub.localaws import ensure_running

    ensure_running()
