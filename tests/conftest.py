"""Shared fixtures: a real moto server on loopback, our own bootstrap on it, a real Celery worker, a real browser.

Every test session gets its own table prefix and bucket names, so runs never share state.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import override_settings

from mediahub import aws
from mediahub.celery import app as celery_app
from mediahub.localaws import start_server

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class LocalAws:
    endpoint: str
    env: dict[str, str]


@pytest.fixture(scope="session", autouse=True)
def local_aws() -> Iterator[LocalAws]:
    """moto's server on a free loopback port, bootstrapped by our own `bootstrap` command."""
    server = start_server("127.0.0.1", 0)
    host, port = server.get_host_and_port()
    run = uuid.uuid4().hex[:8]
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "DYNAMODB_TABLE_PREFIX": f"test-{run}-",
        "UPLOADS_BUCKET": f"test-{run}-uploads",
        "RENDITIONS_BUCKET": f"test-{run}-renditions",
    }
    overrides = override_settings(**env)
    overrides.enable()
    aws._client.cache_clear()
    call_command("bootstrap", stdout=open(os.devnull, "w"))  # noqa: SIM115
    yield LocalAws(endpoint=env["AWS_ENDPOINT_URL"], env=env)
    overrides.disable()
    server.stop()


@pytest.fixture(scope="session")
def celery_worker(local_aws: LocalAws) -> Iterator[str]:
    """A real Celery worker process on Redis, consuming a queue of its own; yields the queue name."""
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis"):
        broker = "redis://127.0.0.1:6379/0"
    queue = f"mediahub-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        **local_aws.env,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    celery_app.conf.update(broker_url=broker, result_backend=broker, task_default_queue=queue)
    command = [sys.executable, "-m", "celery", "-A", "mediahub", "worker", "-Q", queue, "--concurrency", "1"]
    command += ["--without-gossip", "--without-mingle", "-l", "info"]
    log_path = ROOT / ".data" / f"{queue}.log"
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_worker(worker, log_path)
        yield queue
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _wait_for_worker(worker: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"The Celery worker exited early:\n{log_path.read_text()}")
        if "ready." in log_path.read_text():
            return
        time.sleep(0.2)
    raise RuntimeError(f"The Celery worker did not become ready:\n{log_path.read_text()}")


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def bob(db) -> User:
    return User.objects.create_user("bob", "bob@example.com", PASSWORD)


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user("staff", "staff@example.com", PASSWORD, is_staff=True, is_superuser=True)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Debian's headless Chromium driven by Playwright (never Playwright's own browser download)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make here are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server) -> Iterator:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
