import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import RequestFactory, override_settings

from mediahub import ratelimit
from mediahub.errors import RateLimited
from mediahub.ratelimit import RateWindow
from tests.conftest import LONG_WINDOW, ROOT

NOW = 1_800_000_030  # 30 s into a 60-second window (1_800_000_000 is a multiple of 60)


def test_hits_up_to_the_limit_then_refuses_until_the_window_ends():
    counts = [ratelimit.hit("signup", "10.0.0.1", limit=3, per_seconds=60, now=NOW) for _ in range(3)]
    assert counts == [1, 2, 3]
    with pytest.raises(RateLimited) as refused:
        ratelimit.hit("signup", "10.0.0.1", limit=3, per_seconds=60, now=NOW)
    assert refused.value.http_status == 429 and refused.value.field == "rate"
    assert refused.value.retry_after == 30
    assert refused.value.message == (
        "Too many sign-ups from your address: the limit is 3 per 60 seconds. Try again in 30 seconds."
    )
    # The refusal did not count: the window still holds exactly the limit.
    assert next(iter(RateWindow.scan())).hits == 3


def test_the_next_window_starts_from_zero():
    for _ in range(2):
        ratelimit.hit("upload", "7", limit=2, per_seconds=60, now=NOW)
    assert ratelimit.hit("upload", "7", limit=2, per_seconds=60, now=NOW + 30) == 1


def test_scopes_and_callers_are_counted_apart():
    ratelimit.hit("upload", "7", limit=1, per_seconds=60, now=NOW)
    assert ratelimit.hit("upload", "8", limit=1, per_seconds=60, now=NOW) == 1
    assert ratelimit.hit("password", "7", limit=1, per_seconds=60, now=NOW) == 1


def test_concurrent_requests_never_pass_the_limit():
    """Many at once, as concurrent Lambda containers: the conditional ADD lets exactly `limit` through."""

    def attempt(_: int) -> bool:
        try:
            ratelimit.hit("api", "7", limit=10, per_seconds=LONG_WINDOW)
            return True
        except RateLimited:
            return False

    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(attempt, range(30)))
    assert allowed.count(True) == 10


def test_the_count_is_shared_by_separate_processes(local_aws):
    """As two Lambda containers would: another interpreter fills the window, this one is refused."""
    script = (
        "import django; django.setup()\n"
        "from mediahub import ratelimit\n"
        f"[ratelimit.hit('signup', '10.0.0.9', limit=4, per_seconds={LONG_WINDOW}) for _ in range(4)]\n"
    )
    env = {**os.environ, **local_aws.env, "DJANGO_SETTINGS_MODULE": "mediahub.settings"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with pytest.raises(RateLimited):
        ratelimit.hit("signup", "10.0.0.9", limit=4, per_seconds=LONG_WINDOW)


def test_windows_expire_through_the_tables_ttl_and_store_no_caller_key(local_aws):
    ratelimit.hit("signin-user", "alice", limit=5, per_seconds=300, now=NOW)
    (window,) = RateWindow.scan()
    assert window.forget_at.timestamp() == NOW - NOW % 300 + 300 + ratelimit.KEEP_AFTER_WINDOW
    assert "alice" not in window.key and window.key.startswith("signin-user#")
    ttl = local_aws.client("dynamodb").describe_time_to_live(TableName=RateWindow.Meta.table_name)
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "forget_at"}


def test_check_refuses_a_full_window_without_counting():
    ratelimit.check("signin-ip", "10.0.0.1", limit=1, per_seconds=60, now=NOW)  # no window yet: allowed
    ratelimit.hit("signin-ip", "10.0.0.1", limit=1, per_seconds=60, now=NOW)
    with pytest.raises(RateLimited) as refused:
        ratelimit.check("signin-ip", "10.0.0.1", limit=1, per_seconds=60, now=NOW)
    assert refused.value.retry_after == 30
    assert next(iter(RateWindow.scan())).hits == 1


def test_an_unreachable_table_lets_requests_through(caplog):
    # A closed port, so the calls never reach the session's emulator (whose calls the IAM check judges).
    with override_settings(DYNAMODB_TABLE_PREFIX="no-such-tables-", AWS_ENDPOINT_URL="http://127.0.0.1:9"):
        assert ratelimit.hit("signup", "10.0.0.1", limit=1, per_seconds=60) == 0
        ratelimit.check("signup", "10.0.0.1", limit=1, per_seconds=60)
    assert "not counted" in caplog.text and "not checked" in caplog.text


def test_limits_come_from_settings_and_off_means_none(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "share": (1, LONG_WINDOW), "api": None}
    ratelimit.limit("share", "10.0.0.1")
    with pytest.raises(RateLimited):
        ratelimit.limit("share", "10.0.0.1")
    for _ in range(3):
        ratelimit.limit("api", "7")
    assert [w.key.split("#")[0] for w in RateWindow.scan()] == ["share"]


def test_the_client_address_is_remote_addr_never_a_forwarded_header():
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.7")
    assert ratelimit.client_ip(request) == "198.51.100.7"
