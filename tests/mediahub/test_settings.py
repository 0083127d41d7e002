import os
import secrets
import subprocess
import sys

from tests.conftest import ROOT

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "media.example.com",
    "SITE_URL": "https://media.example.com",
    "DATABASE_URL": "postgres://mediahub@db.example.com:5432/mediahub",
    "UPLOADS_BUCKET": "example-uploads",
    "RENDITIONS_BUCKET": "example-renditions",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"AWS_ENDPOINT_URL", "DATABASE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_missing_secret_key_with_debug_off_fails_with_a_clear_message():
    env = {**PRODUCTION, "SECRET_KEY": ""}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_points_at_real_aws_not_the_emulator():
    result = manage(
        "shell", "-c", "from django.conf import settings; print(repr(settings.AWS_ENDPOINT_URL))", env=PRODUCTION
    )
    assert result.stdout.strip().splitlines()[-1] == "''"


def test_missing_database_url_with_debug_off_fails_with_a_clear_message():
    """Not a silent SQLite file per Lambda container, where sign-in fails and migrate migrates nothing."""
    result = manage("check", env={**PRODUCTION, "DATABASE_URL": ""})
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr


def test_mail_gives_up_after_ten_seconds_by_default():
    result = manage("shell", "-c", "from django.conf import settings; print(settings.EMAIL_TIMEOUT)", env=PRODUCTION)
    assert result.stdout.strip().splitlines()[-1] == "10"


def test_zoneinfo_uses_the_shipped_tzdata_when_the_system_has_no_time_zone_database():
    """PYTHONTZPATH empty: no system database is searched, as on a runtime image without /usr/share/zoneinfo."""
    code = (
        "import zoneinfo, datetime, tzdata, importlib.resources as r; assert zoneinfo.TZPATH == ();"
        "assert r.files('tzdata.zoneinfo').joinpath('Europe/Paris').is_file();"
        "print(datetime.datetime(2026, 7, 1, tzinfo=zoneinfo.ZoneInfo('Europe/Paris')).utcoffset())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONTZPATH": ""}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2:00:00"


def test_production_turns_the_content_security_policy_on():
    result = manage("shell", "-c", "from django.conf import settings; print(settings.CSP_ENABLED)", env=PRODUCTION)
    assert result.stdout.strip().splitlines()[-1] == "True"


def test_rate_limits_are_count_per_seconds_or_off_and_a_bad_one_fails_clearly():
    show = "from django.conf import settings; print(settings.RATE_LIMITS['signup'], settings.RATE_LIMITS['api'])"
    result = manage("shell", "-c", show, env={**PRODUCTION, "RATE_LIMIT_SIGNUP": "5/60", "RATE_LIMIT_API": "off"})
    assert result.stdout.strip().splitlines()[-1] == "(5, 60) None"
    result = manage("check", env={**PRODUCTION, "RATE_LIMIT_SIGNUP": "five a minute"})
    assert result.returncode != 0
    assert "RATE_LIMIT_SIGNUP must be <count>/<seconds> (e.g. 20/3600) or off" in result.stderr
