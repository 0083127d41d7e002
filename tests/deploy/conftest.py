"""Deploy checks: Zappa's own code on our settings, the Lambda handler, the role's policy against real calls."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.test import override_settings

from deploy.policy import ROOT, load_stages

STAGES = load_stages()
LAST = "test_iam.py"  # the IAM check reads every call the session made, so it runs after everything else


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list) -> None:
    """Move the IAM check to the very end of the run (after pytest-django's own ordering)."""
    last = [item for item in items if item.path.name == LAST]
    if last:
        items[:] = [item for item in items if item.path.name != LAST] + last


def stage_settings(stage: str) -> dict:
    """The Django settings a stage's environment variables set on the resources it uses."""
    env = STAGES[stage]["environment_variables"]
    names = ("UPLOADS_BUCKET", "RENDITIONS_BUCKET", "DYNAMODB_TABLE_PREFIX", "SITE_URL", "CSRF_TRUSTED_ORIGINS")
    values = {name: env[name] for name in names if name in env}
    values.setdefault("CSRF_TRUSTED_ORIGINS", [values["SITE_URL"]])
    return values


@contextmanager
def as_stage(stage: str, **extra) -> Iterator[None]:
    """The application pointed at a stage's buckets and tables (on the session's moto server)."""
    with override_settings(**stage_settings(stage), **extra):
        yield


@pytest.fixture(scope="session")
def stage_aws(local_aws):
    """Make a stage's buckets and tables on the moto server, by our bootstrap as an operator would (once)."""
    from mediahub.bootstrap import bootstrap

    done: set[str] = set()

    def make(stage: str) -> str:
        if stage not in done:
            with as_stage(stage):
                bootstrap()
            done.add(stage)
        return stage

    return make


@pytest.fixture(scope="session")
def production_aws(stage_aws) -> str:
    return stage_aws("production")


@pytest.fixture
def zappa_cli(monkeypatch):
    """Zappa's own CLI object with a stage's settings loaded the way `zappa package` loads them (no credentials)."""
    from zappa.cli import ZappaCLI

    monkeypatch.chdir(ROOT)  # attach_policy and friends are paths relative to the project

    def load(stage: str) -> ZappaCLI:
        cli = ZappaCLI()
        cli.api_stage = stage
        cli.load_credentials = False
        cli.load_settings(str(ROOT / "zappa_settings.json"))
        return cli

    return load


@pytest.fixture
def aws_env(local_aws, monkeypatch) -> dict[str, str]:
    """Environment for code that makes its own boto3 sessions (Zappa's): the moto server, dummy credentials."""
    env = {
        "AWS_ENDPOINT_URL": local_aws.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return {**os.environ}
