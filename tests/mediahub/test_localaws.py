import os
import signal
import socket
import subprocess
import sys

from django.conf import settings
from django.test import override_settings

from mediahub import aws, localaws
from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_endpoint_address_recognises_only_loopback():
    assert localaws.endpoint_address("http://127.0.0.1:4566") == ("127.0.0.1", 4566)
    assert localaws.endpoint_address("http://localhost:9000") == ("localhost", 9000)
    assert localaws.endpoint_address("https://s3.eu-west-1.amazonaws.com") is None
    assert localaws.endpoint_address("") is None


def test_ensure_running_starts_a_bootstrapped_local_aws_when_none_answers(tmp_path):
    endpoint = f"http://127.0.0.1:{free_port()}"
    env_before = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint  # the detached child reads its settings from the environment
    try:
        with override_settings(AWS_ENDPOINT_URL=endpoint, LOCAL_DATA_DIR=tmp_path):
            process = localaws.ensure_running()
            try:
                assert process is not None
                buckets = {b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]}
                assert settings.UPLOADS_BUCKET in buckets
                assert localaws.ensure_running() is None  # a second call finds it
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
    finally:
        os.environ.pop("AWS_ENDPOINT_URL")
        if env_before is not None:
            os.environ["AWS_ENDPOINT_URL"] = env_before


def test_localaws_command_refuses_a_non_loopback_endpoint():
    env = {**os.environ, "AWS_ENDPOINT_URL": "https://s3.amazonaws.com"}
    result = subprocess.run(
        [sys.executable, "manage.py", "localaws"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "is not a loopback address" in result.stderr
