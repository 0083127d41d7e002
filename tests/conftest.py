"""Shared fixtures: a real moto server on loopback, our own bootstrap on it, a real Celery worker, a real browser.

Every test session gets its own table prefix and bucket names, so runs never share state.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from mediahub import aws, dynamo
from mediahub.bootstrap import ensure_bucket
from mediahub.celery import app as celery_app
from mediahub.localaws import start_server
from uploads import storage

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class LocalAws:
    endpoint: str
    env: dict[str, str]
    recorder: object = None  # deploy hook: every AWS call the session makes (tests/deploy/recording.py)

    def client(self, service: str):
        """A boto3 client for the emulator, outside the app's settings (as an operator or Lambda's runtime)."""
        import boto3

        credentials = {"aws_access_key_id": "t", "aws_secret_access_key": "t"}
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1", **credentials)


@pytest.fixture(scope="session", autouse=True)
def local_aws(pytestconfig: pytest.Config) -> Iterator[LocalAws]:
    """moto's server on a free loopback port, bootstrapped by our own `bootstrap` command."""
    server = start_server("127.0.0.1", 0)
    # --- deploy hook: record every call this server serves, for the IAM policy check (tests/deploy/test_iam.py) ---
    from tests.deploy.recording import install

    recorder = install(server, settings.AWS_REGION)
    # --- end of deploy hook -------------------------------------------------------------------------------------
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
    yield LocalAws(endpoint=env["AWS_ENDPOINT_URL"], env=env, recorder=recorder)
    _check_every_call(pytestconfig, recorder)  # while this session's names are still the settings'
    overrides.disable()
    server.stop()


# --- The IAM check over the whole run (tests/deploy/iam_check.py) ----------------------------------------------
# test_iam.py judges the calls its own process made before it. Each process also judges all of its calls once its
# last test is done; under pytest-xdist a worker hands its findings, and what its calls used, to the controller,
# which fails the run on any finding and, when test_iam.py asked for it, on a grant no worker's calls used.
IAM_PROBLEMS = pytest.StashKey[list[str]]()
IAM_USED = pytest.StashKey[dict[str, set[tuple[str, str]]]]()
IAM_UNUSED_WANTED = pytest.StashKey[bool]()
UNUSED_TEST = "tests/deploy/test_iam.py::test_the_role_allows_nothing_the_code_does_not_use"


def _check_every_call(config: pytest.Config, recorder) -> None:
    from tests.deploy.iam_check import STAGES, used_pairs, whole_session_problems

    calls = recorder.app_calls()
    problems = whole_session_problems(calls)
    if hasattr(config, "workeroutput"):
        config.workeroutput["iam_problems"] = problems
        config.workeroutput["iam_used"] = {stage: sorted(used_pairs(calls, stage)) for stage in STAGES}
    else:
        config.stash[IAM_PROBLEMS] = problems


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist's controller: a worker is done, with its findings and what its calls used."""
    output = getattr(node, "workeroutput", {})
    found = node.config.stash.setdefault(IAM_PROBLEMS, [])
    found += [f"{node.gateway.id}: {line}" for line in output.get("iam_problems", [])]
    used = node.config.stash.setdefault(IAM_USED, {})
    for stage, pairs in output.get("iam_used", {}).items():
        used.setdefault(stage, set()).update(map(tuple, pairs))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid.startswith(UNUSED_TEST) and report.skipped and hasattr(report, "node"):
        report.node.config.stash[IAM_UNUSED_WANTED] = True  # the controller's report of a worker's skip


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if config.stash.get(IAM_UNUSED_WANTED, False):
        from tests.deploy.iam_check import unused_grants

        used = config.stash.get(IAM_USED, {})
        unused = [
            f"{stage}: granted, never used: {line}"
            for stage in sorted(used)
            for line in unused_grants(used[stage], stage)
        ]
        config.stash.setdefault(IAM_PROBLEMS, []).extend(unused)
    if config.stash.get(IAM_PROBLEMS, []):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if problems := config.stash.get(IAM_PROBLEMS, []):
        terminalreporter.section("The IAM check over every AWS call of the run", red=True)
        terminalreporter.line("\n".join(problems))


@pytest.fixture(autouse=True)
def empty_aws(local_aws: LocalAws) -> Iterator[None]:
    """Each test starts with empty tables, buckets and cache, as each starts with an empty database."""
    yield
    cache.clear()
    for model in dynamo.registry:
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)
    for bucket in (settings.UPLOADS_BUCKET, settings.RENDITIONS_BUCKET):
        storage.delete_prefix_versions(bucket, "")
    for upload in aws.client("s3").list_multipart_uploads(Bucket=settings.UPLOADS_BUCKET).get("Uploads", []):
        storage.abort_multipart(upload["Key"], upload["UploadId"])  # files in parts left pending


@pytest.fixture(scope="session", autouse=True)
def celery_queue() -> str:
    """Everything this session enqueues goes to Redis, on a queue of its own, before anything is sent."""
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis"):
        broker = "redis://127.0.0.1:6379/0"
    queue = f"mediahub-test-{uuid.uuid4().hex[:8]}"
    celery_app.conf.update(broker_url=broker, result_backend=broker, task_default_queue=queue)
    return queue


@pytest.fixture(scope="session")
def celery_worker(local_aws: LocalAws, celery_queue: str) -> Iterator[str]:
    """A real Celery worker process consuming this session's queue; yields the queue name."""
    env = {
        **os.environ,
        **local_aws.env,
        "CELERY_BROKER_URL": celery_app.conf.broker_url,
        "CELERY_RESULT_BACKEND": celery_app.conf.result_backend,
        "CELERY_TASK_DEFAULT_QUEUE": celery_queue,
    }
    command = [sys.executable, "-m", "celery", "-A", "mediahub", "worker", "-Q", celery_queue, "--concurrency", "1"]
    command += ["--without-gossip", "--without-mingle", "-l", "info"]
    log_path = ROOT / ".data" / f"{celery_queue}.log"
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_worker(worker, log_path)
        yield celery_queue
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

    if not (ROOT / "static" / "build" / "upload.js").exists():
        pytest.exit("The pages' JavaScript is not built: run `make assets` (make test does).", returncode=2)

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make here are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


def sign_in(page, username: str = "alice") -> None:
    """Through the sign-in form, as a person does."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_test_id("user-menu").wait_for()


@pytest.fixture
def page(browser, live_server) -> Iterator:
    # The buckets' CORS rules admit only the site's origin: here, the live server's.
    with override_settings(SITE_URL=live_server.url):
        _apply_cors()
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
    _apply_cors()


def _apply_cors() -> None:
    for bucket in (settings.UPLOADS_BUCKET, settings.RENDITIONS_BUCKET):
        ensure_bucket(bucket)


def jpeg_bytes(width: int = 64, height: int = 48, color: str = "teal") -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG")
    return out.getvalue()


def process_until_ready(key: str, timeout: float = 30) -> None:
    """Process an uploaded original as the worker does, and see its item ready. Once a test has started the
    session's Celery worker, that worker may process the item first: this run then loses ("duplicate" or
    "superseded") and the item is ready all the same."""
    from uploads import processing
    from uploads.models import MediaItem, Status

    assert processing.process_object(settings.UPLOADS_BUCKET, key) in ("ready", "duplicate", "superseded")
    media_id = processing.media_id_from_key(key)
    deadline = time.monotonic() + timeout
    while MediaItem.get(media_id).status != Status.READY:
        assert time.monotonic() < deadline, MediaItem.get(media_id).status
        time.sleep(0.1)


def post_json(client, url: str, payload: dict | None = None, method: str = "post"):
    import json

    return getattr(client, method)(url, json.dumps(payload or {}), content_type="application/json")


def upload_to_s3(upload: dict, data: bytes, content_type: str | None = None):
    """Send bytes with a presigned POST, as a browser or script would, over HTTP."""
    import requests

    fields = dict(upload["fields"])
    if content_type:
        fields["Content-Type"] = content_type
    return requests.post(upload["url"], data=fields, files={"file": ("file", data)}, timeout=30)


def create_and_upload(client, data: bytes, *, content_type: str = "image/jpeg", size: int | None = None, **extra):
    """The API's create step plus the upload; returns the create response's JSON."""
    payload = {"fileName": "photo.jpg", "contentType": content_type, "size": size or len(data), "name": "A photo"}
    response = post_json(client, "/api/media/", {**payload, **extra})
    assert response.status_code == 201, response.content
    body = response.json()
    assert upload_to_s3(body["upload"], data).status_code in (200, 204)
    return body


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, set up after the test database so it is stopped (and its connection
    closed) before the database is dropped; PostgreSQL refuses to drop a database still in use."""
    return live_server


# --- Staff holding chosen permissions (tests/uploads/test_admin.py, tests/profiles/test_admin.py) ---------------------
@pytest.fixture
def staff_with(db) -> Callable[..., User]:
    """`staff_with("uploads.view_media")`: a staff user, not a superuser, holding just those permissions (or none)."""

    def make(*perms: str) -> User:
        user = User.objects.create_user(f"clerk{User.objects.count()}", password=PASSWORD, is_staff=True)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return user

    return make


# --- Rate limits (mediahub/ratelimit.py) ----------------------------------------------------------------------
# Windows are fixed, aligned on multiples of their length: a test that counted across a boundary would see the
# count restart. Tests therefore use a window they cannot straddle (the next boundary is in 2033).
LONG_WINDOW = 10**9


def rate_limits(settings, limits: dict[str, int | None]) -> None:
    """For one test: each named scope gets LONG_WINDOW and the given count (None: the configured count)."""
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        **{scope: (count or settings.RATE_LIMITS[scope][0], LONG_WINDOW) for scope, count in limits.items()},
    }
