"""deploy.upload: the package reaches Lambda through the stage's code bucket, never inside the API call."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import boto3
import pytest
from zappa.cli import ZappaCLI
from zappa.utilities import parse_s3_url

from deploy import upload
from deploy.policy import ROOT
from tests.deploy.conftest import STAGES


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A stand-in for `make package`'s zip (the real one is tens of MB and minutes away)."""
    path = tmp_path / "mediahub-dev.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return 'from s3'\n")
    monkeypatch.setattr(upload, "package_path", lambda stage: path)
    return path


def test_upload_puts_the_package_in_the_stages_code_bucket_at_the_address_zappa_reads(aws_env, package):
    address = upload.upload("dev")
    bucket, key = parse_s3_url(address)  # what `zappa update -z s3://...` does with it
    assert (bucket, key) == (STAGES["dev"]["s3_bucket"], "mediahub-dev.zip")
    s3 = boto3.client("s3")
    try:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == package.read_bytes()
        # Zappa's update given that address: the code comes from S3 (S3Bucket/S3Key), not inside the request.
        cli = ZappaCLI()
        cli.api_stage = "dev"
        cli.load_settings(str(ROOT / "zappa_settings.json"))
        lam, iam = boto3.client("lambda"), boto3.client("iam")
        trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "*"}]}
        role = iam.create_role(RoleName=f"upload-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=json.dumps(trust))
        empty = io.BytesIO()
        with zipfile.ZipFile(empty, "w") as archive:
            archive.writestr("handler.py", "")
        lam.create_function(
            FunctionName=cli.lambda_name,
            Runtime=cli.runtime,
            Role=role["Role"]["Arn"],
            Handler="handler.lambda_handler",
            Code={"ZipFile": empty.getvalue()},
        )
        try:
            cli.zappa.update_lambda_function(bucket=bucket, function_name=cli.lambda_name, s3_key=key)
            assert lam.get_function(FunctionName=cli.lambda_name)["Configuration"]["CodeSize"] == package.stat().st_size
        finally:
            lam.delete_function(FunctionName=cli.lambda_name)
            iam.delete_role(RoleName=role["Role"]["RoleName"])
    finally:
        s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)


def test_upload_without_a_built_package_says_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setattr(upload, "package_path", lambda stage: tmp_path / "mediahub-dev.zip")
    with pytest.raises(SystemExit, match=r"make package STAGE=dev"):
        upload.upload("dev")
