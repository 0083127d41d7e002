"""deploy.role: the stage's role made and kept as Zappa makes it when it builds the package itself."""

from __future__ import annotations

import json

import boto3
import pytest

from deploy import role
from deploy.policy import ROOT, policy_path
from tests.deploy.conftest import STAGES


@pytest.fixture
def iam(aws_env, monkeypatch):
    monkeypatch.chdir(ROOT)  # `make deploy` runs it from the project: attach_policy is a relative path
    return boto3.client("iam")


def role_name(stage: str) -> str:
    return f"{STAGES[stage]['project_name']}-{stage}-ZappaLambdaExecutionRole"


def test_ensure_role_creates_the_role_with_the_stage_policy_as_its_only_policy(iam):
    name = role_name("dev")
    arn, updated = role.ensure_role("dev")
    try:
        assert updated and arn.endswith(f":role/{name}")
        assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["zappa-permissions"]
        document = iam.get_role_policy(RoleName=name, PolicyName="zappa-permissions")["PolicyDocument"]
        assert document == json.loads(policy_path("dev").read_text())
        trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        # API Gateway assumes this same role to invoke the function: InvokeSelf serves every page.
        assert "apigateway.amazonaws.com" in trust["Statement"][0]["Principal"]["Service"]
        assert role.ensure_role("dev") == (arn, False)
    finally:
        iam.delete_role_policy(RoleName=name, PolicyName="zappa-permissions")
        iam.delete_role(RoleName=name)


def test_ensure_role_puts_the_policy_back_when_the_role_drifted(iam):
    name = role_name("dev")
    arn, _ = role.ensure_role("dev")
    try:
        wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_role_policy(RoleName=name, PolicyName="zappa-permissions", PolicyDocument=json.dumps(wide))
        assert role.ensure_role("dev") == (arn, True)
        document = iam.get_role_policy(RoleName=name, PolicyName="zappa-permissions")["PolicyDocument"]
        assert document == json.loads(policy_path("dev").read_text())
    finally:
        iam.delete_role_policy(RoleName=name, PolicyName="zappa-permissions")
        iam.delete_role(RoleName=name)
