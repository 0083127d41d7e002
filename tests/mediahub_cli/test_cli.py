"""The command as a person runs it, `python -m mediahub_cli`, in a process of its own: settings from the
environment, and exit status 2 with a clear message for what no file can get past."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from profiles import tokens
from tests.images import encoded, photo

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def command(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAHUB_")} | env
    return subprocess.run(
        [sys.executable, "-m", "mediahub_cli", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def photo_file(tmp_path) -> Path:
    path = tmp_path / "beach.jpg"
    path.write_bytes(encoded(photo((32, 24)), "JPEG").getvalue())
    return path


def test_url_and_token_come_from_the_environment(live_server, alice, photo_file, tmp_path):
    token = tokens.token_create(alice, name="cli", scope="write")[1]
    done = command(
        "upload",
        str(photo_file),
        "--state",
        str(tmp_path / "s.json"),
        MEDIAHUB_URL=live_server.url,
        MEDIAHUB_TOKEN=token,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "1 uploaded, 0 already in the library, 0 not uploaded (of 1 files)."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give the site with --url (or MEDIAHUB_URL)"),
        (["--url", "ftp://example.org"], "'ftp://example.org' is not a site address"),
        (["--url", "http://127.0.0.1:9"], "give an API token with --token (or MEDIAHUB_TOKEN)"),
        (["--url", "http://127.0.0.1:9", "--token", "mh_x", "--name", "{title}"], "no field {title}; the fields are"),
        (["--url", "http://127.0.0.1:9", "--token", "mh_x", "--caption", "{stem"], "bad template '{stem'"),
        (["--url", "http://127.0.0.1:9", "--token", "mh_x", "--jobs", "0"], "'0' is not a whole number from 1 to 64"),
    ],
)
def test_usage_errors_are_exit_status_2_with_what_to_fix(photo_file, args, message):
    done = command("upload", str(photo_file), *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_a_token_the_site_refuses_or_no_site_at_all_is_exit_status_2(live_server, photo_file):
    refused = command("upload", str(photo_file), "--url", live_server.url, "--token", "mh_not-a-token")
    assert refused.returncode == 2
    assert "The site refused the token (401)" in refused.stderr
    elsewhere = command("upload", str(photo_file), "--url", f"{live_server.url}/nothing-here", "--token", "mh_x")
    assert elsewhere.returncode == 2 and "does not answer as a mediahub site" in elsewhere.stderr


def test_a_read_only_token_stops_the_run_with_the_sites_reason(live_server, alice, photo_file, tmp_path):
    token = tokens.token_create(alice, name="ro", scope="read")[1]
    done = command(
        "upload", str(photo_file), "--url", live_server.url, "--token", token, "--state", str(tmp_path / "s")
    )
    assert done.returncode == 2 and "The site refused the token (403)" in done.stderr, done.stderr
