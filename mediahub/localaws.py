"""The embedded local AWS: moto's server on loopback, speaking the real S3 and DynamoDB protocols over HTTP."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings

from mediahub.bootstrap import bootstrap

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def endpoint_address(url: str) -> tuple[str, int] | None:
    """(host, port) of a loopback endpoint URL; None for anything else (real AWS, a remote emulator)."""
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK_HOSTS:
        return None
    return parts.hostname, parts.port or 80


def is_up(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def start_server(host: str, port: int):
    """Start moto's threaded server and return it; the caller stops it."""
    from moto.server import ThreadedMotoServer  # dev dependency: never imported on Lambda

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    server._server.app = one_request_at_a_time(server._server.app)
    return server


def one_request_at_a_time(app):
    """Serve one request at a time, each whole: AWS makes each request atomic (a conditional write, a
    transaction, a versioned PUT), but moto's backends are plain Python objects without locks, so two threads
    can interleave inside one of its requests (two conditional ADDs both passing). Races between requests, the
    ones mediahub must survive, still happen exactly as on AWS."""
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            return [b"".join(app(environ, start_response))]

    return serialized


def ensure_running(wait_seconds: float = 30) -> subprocess.Popen | None:
    """Make sure the local AWS named by AWS_ENDPOINT_URL answers, starting it in the background if needed.

    Called by runserver and the Celery worker, so a Django developer's habit (`manage.py runserver`) works
    without `make run`. Real AWS endpoints are left alone. Returns the process it started, if any.
    """
    address = endpoint_address(settings.AWS_ENDPOINT_URL or "")
    if address is None or is_up(*address):
        return None
    settings.LOCAL_DATA_DIR.mkdir(parents=True, exist_ok=True)
    log_path = settings.LOCAL_DATA_DIR / "localaws.log"
    manage = settings.BASE_DIR / "manage.py"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(manage), "localaws", "--no-bootstrap"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=os.environ.copy(),
        )
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if is_up(*address):
            bootstrap()
            print(f"Started the local AWS at {settings.AWS_ENDPOINT_URL} (log: {log_path}).", file=sys.stderr)
            return process
        time.sleep(0.2)
    process.terminate()
    raise SystemExit(
        f"The local AWS at {settings.AWS_ENDPOINT_URL} did not start; run `make run` or "
        f"`python manage.py localaws` and see {log_path}."
    )
