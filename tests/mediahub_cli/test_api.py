"""The uploader's HTTP side: a rate-limited or failing site is waited for and retried, never taken for a refusal."""

from __future__ import annotations

import pytest

from mediahub_cli import api
from profiles import tokens
from tests.images import encoded, photo
from tests.mediahub_cli.test_upload import items_of

pytestmark = pytest.mark.django_db


def test_429_is_waited_out_as_retry_after_says_then_the_file_goes_in(
    live_server, alice, settings, tmp_path, monkeypatch
):
    from mediahub_cli.cli import main

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": (2, 2)}  # two calls per 2-second window
    waits: list[float] = []
    real_sleep = api.time.sleep
    monkeypatch.setattr(api.time, "sleep", lambda seconds: (waits.append(seconds), real_sleep(seconds)))
    (tmp_path / "a.jpg").write_bytes(encoded(photo((32, 24)), "JPEG").getvalue())
    token = tokens.token_create(alice, name="cli", scope="write")[1]

    status = main(
        [
            "upload",
            str(tmp_path / "a.jpg"),
            "--url",
            live_server.url,
            "--token",
            token,
            "--state",
            str(tmp_path / "state.json"),
        ]
    )
    assert status == 0 and len(items_of(alice)) == 1
    assert waits and all(1 <= wait <= 2 for wait in waits)  # the site's Retry-After, in whole seconds


class Answer:
    def __init__(self, status: int, retry_after: str = "") -> None:
        self.status_code, self.headers = status, {"Retry-After": retry_after} if retry_after else {}


def test_server_errors_and_network_failures_are_retried_with_growing_waits(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(api.time, "sleep", waits.append)
    answers = iter([api.requests.ConnectionError("reset"), Answer(503), Answer(502), Answer(200)])

    def send():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert api.with_retries(send, backoff=1.0).status_code == 200
    assert len(waits) == 3
    assert all(0.8 * base <= wait <= 1.2 * base for wait, base in zip(waits, (1, 2, 4), strict=True))  # jitter


def test_a_site_that_keeps_failing_is_given_up_after_the_last_attempt(monkeypatch):
    monkeypatch.setattr(api.time, "sleep", lambda seconds: None)
    assert api.with_retries(lambda: Answer(500), backoff=1.0).status_code == 500
    with pytest.raises(api.ApiError, match="network error"):
        api.with_retries(lambda: (_ for _ in ()).throw(api.requests.Timeout("slow")), backoff=1.0)
