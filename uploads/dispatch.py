"""Handing an uploaded object to processing, whichever trigger this deployment uses.

Its own small module so that callers (complete, the admin, `manage.py reprocess`, the sweeps) import neither the
Celery tasks nor the Lambda handlers: both of those import the services, which would close an import circle, and
the Lambda module sets Django up at import.
"""

from __future__ import annotations

import json
import os

from django.conf import settings

from mediahub.aws import client

PROCESS_TASK = "uploads.process_media"  # the Celery task's name (uploads/tasks.py)
LAMBDA_TASK = "uploads.events.process_async"  # what the asynchronous invocation runs (uploads/events.py)


def enqueue(key: str, *, force: bool = False) -> None:
    """Process the original at `key` in the uploads bucket soon, on a worker or another Lambda invocation."""
    if settings.PROCESSING_MODE == "celery":
        from mediahub.celery import app  # Celery is loaded only where it is the trigger

        app.send_task(PROCESS_TASK, args=[settings.UPLOADS_BUCKET, key], kwargs={"force": force})
    else:
        invoke_self(LAMBDA_TASK, settings.UPLOADS_BUCKET, key, force=force)


def invoke_self(task_path: str, *args: object, **kwargs: object) -> None:
    """Run `task_path(*args, **kwargs)` in an asynchronous invocation of this Lambda function (Zappa's message
    format, routed by zappa.handler); outside Lambda, run it here and now, as Zappa's @task does."""
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    if not function_name:
        from importlib import import_module

        module, name = task_path.rsplit(".", 1)
        getattr(import_module(module), name)(*args, **kwargs)
        return
    message = {
        "command": "zappa.asynchronous.route_lambda_task",
        "task_path": task_path,
        "capture_response": False,
        "response_id": None,
        "args": list(args),
        "kwargs": kwargs,
    }
    client("lambda").invoke(FunctionName=function_name, InvocationType="Event", Payload=json.dumps(message))


def run_job(celery_task: str, lambda_task: str, *args: object) -> None:
    """Run a background job soon, in whichever mode this deployment uses: the Celery task named `celery_task` on
    a worker, or `lambda_task` (a dotted path) in an asynchronous invocation of this Lambda function."""
    if settings.PROCESSING_MODE == "celery":
        from mediahub.celery import app

        app.send_task(celery_task, args=list(args))
    else:
        invoke_self(lambda_task, *args)
