import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import boto3
import pytest
import requests
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
    # The detached child reads its settings from the environment; its state goes to tmp_path, not .data/.
    child_env = {"AWS_ENDPOINT_URL": endpoint, "LOCAL_DATA_DIR": str(tmp_path)}
    with mock.patch.dict(os.environ, child_env), override_settings(AWS_ENDPOINT_URL=endpoint, LOCAL_DATA_DIR=tmp_path):
        process = localaws.ensure_running()
        try:
            assert process is not None
            buckets = {b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]}
            assert settings.UPLOADS_BUCKET in buckets
            assert localaws.ensure_running() is None  # a second call finds it
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)


def test_localaws_command_refuses_a_non_loopback_endpoint():
    env = {**os.environ, "AWS_ENDPOINT_URL": "https://s3.amazonaws.com"}
    result = subprocess.run(
        [sys.executable, "manage.py", "localaws"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "is not a loopback address" in result.stderr


@pytest.mark.parametrize(
    ("method", "target", "changes"),
    [
        ("GET", "", False),  # S3 GetObject, ListObjectsV2
        ("HEAD", "", False),
        ("OPTIONS", "", False),  # a CORS preflight
        ("POST", "DynamoDB_20120810.Query", False),
        ("POST", "DynamoDB_20120810.GetItem", False),
        ("POST", "DynamoDB_20120810.DescribeTable", False),
        ("POST", "DynamoDB_20120810.PutItem", True),
        ("POST", "DynamoDB_20120810.TransactWriteItems", True),
        ("POST", "", True),  # a presigned POST upload
        ("PUT", "", True),
        ("DELETE", "", True),
    ],
)
def test_only_requests_that_may_change_something_call_for_a_snapshot(tmp_path, method, target, changes):
    store = localaws.Store(tmp_path)
    watched = store.watch(lambda environ, start_response: [b""])
    store.dirty.clear()
    watched({"REQUEST_METHOD": method, "HTTP_X_AMZ_TARGET": target}, lambda *args: None)
    assert store.dirty.is_set() is changes


# --- The state kept on disk: `manage.py localaws` as a process of its own, stopped and started again -------------


class LocalAwsProcess:
    """`manage.py localaws` on a free port with its state under `data`, as `make run` starts it."""

    def __init__(self, data: Path, **env: str) -> None:
        self.endpoint = f"http://127.0.0.1:{free_port()}"
        self.data = data
        self.env = {
            **os.environ,
            "AWS_ENDPOINT_URL": self.endpoint,
            "LOCAL_DATA_DIR": str(data),
            "DYNAMODB_TABLE_PREFIX": settings.DYNAMODB_TABLE_PREFIX,  # the tables `reset` bootstraps from here
            **env,
        }
        self.log_path = data / "test-localaws.log"
        self.process: subprocess.Popen | None = None

    def start(self, *args: str) -> None:
        """Start it and wait until it says it is ready (after its bootstrap, unless --no-bootstrap)."""
        self.log_path.write_bytes(b"")
        with open(self.log_path, "ab") as log:
            command = [sys.executable, "manage.py", "localaws", *args]
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while "Ready." not in self.log_path.read_text():
            assert self.process.poll() is None, self.log_path.read_text()
            assert time.monotonic() < deadline, self.log_path.read_text()
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.process.send_signal(sig)
        self.process.wait(timeout=30)
        assert sig == signal.SIGKILL or self.process.returncode == 0, self.log_path.read_text()

    def wait_for_snapshot_after(self, moment: float) -> None:
        """Until the snapshot on disk was taken after `moment` (time.time()), so it holds what came before."""
        deadline = time.monotonic() + 10 * localaws.SNAPSHOT_SECONDS
        while (localaws.Store.saved_at(self.data / "localaws") or 0) <= moment:
            assert time.monotonic() < deadline, self.log_path.read_text()
            time.sleep(0.05)

    def client(self, service: str):
        credentials = {"aws_access_key_id": "t", "aws_secret_access_key": "t"}
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1", **credentials)

    def settings(self):
        """This process's settings, for calling `localaws.reset` from the test."""
        names = {name: self.env[name] for name in ("UPLOADS_BUCKET", "RENDITIONS_BUCKET") if name in self.env}
        return override_settings(AWS_ENDPOINT_URL=self.endpoint, LOCAL_DATA_DIR=self.data, **names)


@pytest.fixture
def local_process(tmp_path) -> Iterator[LocalAwsProcess]:
    process = LocalAwsProcess(tmp_path, UPLOADS_BUCKET="kept-uploads", RENDITIONS_BUCKET="kept-renditions")
    yield process
    if process.process is not None and process.process.poll() is None:
        process.stop(signal.SIGKILL)


def put_photo_and_item(aws_process: LocalAwsProcess, name: str) -> None:
    s3, dynamodb = aws_process.client("s3"), aws_process.client("dynamodb")
    s3.put_object(Bucket="kept", Key=f"originals/{name}.jpg", Body=f"{name} bytes".encode(), ContentType="image/jpeg")
    dynamodb.put_item(TableName="kept", Item={"id": {"S": name}, "name": {"S": f"A {name}"}})


def assert_photo_and_item(aws_process: LocalAwsProcess, name: str) -> None:
    body = aws_process.client("s3").get_object(Bucket="kept", Key=f"originals/{name}.jpg")
    assert body["Body"].read() == f"{name} bytes".encode()
    assert body["ContentType"] == "image/jpeg"
    item = aws_process.client("dynamodb").get_item(TableName="kept", Key={"id": {"S": name}})["Item"]
    assert item["name"] == {"S": f"A {name}"}


def create_bucket_and_table(aws_process: LocalAwsProcess) -> None:
    aws_process.client("s3").create_bucket(Bucket="kept")
    aws_process.client("dynamodb").create_table(
        TableName="kept",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_objects_and_items_survive_a_stop_then_a_kill_after_the_snapshot(local_process):
    local_process.start("--no-bootstrap")
    create_bucket_and_table(local_process)
    put_photo_and_item(local_process, "photo")
    local_process.stop(signal.SIGTERM)  # saves on the way out, without waiting for a snapshot
    local_process.start("--no-bootstrap")
    assert_photo_and_item(local_process, "photo")

    put_photo_and_item(local_process, "second")
    local_process.wait_for_snapshot_after(time.time())
    local_process.stop(signal.SIGKILL)
    local_process.start("--no-bootstrap")
    assert_photo_and_item(local_process, "photo")
    assert_photo_and_item(local_process, "second")


def test_an_overwritten_object_keeps_only_its_latest_body_on_disk(local_process):
    local_process.start("--no-bootstrap")
    s3 = local_process.client("s3")
    s3.create_bucket(Bucket="kept")
    s3.put_object(Bucket="kept", Key="a", Body=b"first")
    s3.put_object(Bucket="kept", Key="a", Body=b"second")
    local_process.stop(signal.SIGTERM)
    bodies = {path.read_bytes() for path in (local_process.data / "localaws" / "blobs").iterdir()}
    assert bodies == {b"second"}


def test_reset_empties_a_running_local_aws_and_bootstraps_it_again(local_process):
    local_process.start()
    s3 = local_process.client("s3")
    s3.put_object(Bucket="kept-uploads", Key="originals/photo.jpg", Body=b"photo")
    with local_process.settings():
        assert localaws.reset().startswith("Emptied the running local AWS")
    assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == {"kept-uploads", "kept-renditions"}
    assert s3.list_objects_v2(Bucket="kept-uploads")["KeyCount"] == 0


def test_reset_empties_a_stopped_local_aws(local_process):
    local_process.start("--no-bootstrap")
    create_bucket_and_table(local_process)
    put_photo_and_item(local_process, "photo")
    local_process.stop(signal.SIGTERM)
    with local_process.settings():
        assert localaws.reset().startswith("Removed the local AWS's saved state")
    local_process.start("--no-bootstrap")
    assert local_process.client("s3").list_buckets()["Buckets"] == []
    assert local_process.client("dynamodb").list_tables()["TableNames"] == []


def test_unreadable_saved_state_stops_start_up_with_what_to_do(local_process):
    (local_process.data / "localaws").mkdir()
    (local_process.data / "localaws" / "state.pickle").write_bytes(b"not a snapshot")
    command = [sys.executable, "manage.py", "localaws"]
    result = subprocess.run(command, cwd=ROOT, env=local_process.env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "cannot be read" in result.stderr
    assert "`make reset` empties it" in result.stderr


def test_uploads_bucket_admits_the_origin_of_the_port_the_site_moved_to(tmp_path):
    moved = LocalAwsProcess(tmp_path, PORT="8123", UPLOADS_BUCKET="moved-uploads")
    for name in ("SITE_URL", "CSRF_TRUSTED_ORIGINS"):  # left to follow PORT, whatever this shell says
        moved.env.pop(name, None)
    moved.start()
    try:
        preflight = {"Access-Control-Request-Method": "POST"}
        bucket_url = f"{moved.endpoint}/moved-uploads"
        admitted = requests.options(bucket_url, headers={**preflight, "Origin": "http://127.0.0.1:8123"}, timeout=10)
        assert admitted.status_code == 200
        assert admitted.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8123"
        refused = requests.options(bucket_url, headers={**preflight, "Origin": "http://127.0.0.1:8000"}, timeout=10)
        assert refused.status_code == 403
    finally:
        moved.stop(signal.SIGTERM)
