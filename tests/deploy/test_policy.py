"""The role policy files: current, wired into Zappa, no wildcard, within IAM's size limit."""

import json
import re

import pytest

from deploy import policy
from tests.deploy.conftest import STAGES


@pytest.fixture(scope="module")
def registered():
    return policy.models()


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_the_committed_policy_is_what_the_generator_makes_today(stage, registered):
    expected = policy.render(policy.build(stage, STAGES[stage], registered))
    assert policy.policy_path(stage).read_text() == expected, (
        f"deploy/iam/{stage}.json is stale (a model, index, bucket or setting changed): "
        "run `.venv/bin/python -m deploy.policy` and commit the result"
    )
    assert STAGES[stage]["attach_policy"] == f"deploy/iam/{stage}.json"


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_no_wildcard_but_object_keys_and_the_functions_own_log_streams(stage):
    document = json.loads(policy.policy_path(stage).read_text())
    assert policy.wildcard_problems(document, stage, STAGES[stage]) == []


def test_the_wildcard_check_catches_wildcards():
    config, stage = STAGES["production"], "production"
    bad = [
        ("s3:*", "arn:aws:s3:::mediahub-production-uploads/uploads/*"),
        ("s3:GetObject", "*"),
        ("s3:GetObject", "arn:aws:s3:::mediahub-production-uploads/*"),  # the whole bucket, not a prefix
        ("s3:GetObject", "arn:aws:s3:::mediahub-*/uploads/*"),
        ("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/uploads/*"),
        ("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:*:table/mediahub-production-media"),
        (
            "dynamodb:Query",
            "arn:aws:dynamodb:us-east-1:${aws:PrincipalAccount}:table/mediahub-production-media/index/*",
        ),
        ("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:${aws:PrincipalAccount}:table/mediahub-production-*"),
        ("logs:PutLogEvents", "arn:aws:logs:us-east-1:${aws:PrincipalAccount}:log-group:*"),
        ("ssm:GetParameters", "arn:aws:ssm:us-east-1:${aws:username}:parameter/x"),
    ]
    for action, resource in bad:
        document = {"Statement": [{"Sid": "X", "Effect": "Allow", "Action": [action], "Resource": [resource]}]}
        assert policy.wildcard_problems(document, stage, config), (action, resource)
    assert policy.wildcard_problems({"Statement": [{"Effect": "Allow", "NotAction": "s3:GetObject"}]}, stage, config)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_a_stage_policy_names_only_its_own_resources(stage):
    text = policy.policy_path(stage).read_text()
    for other in set(STAGES) - {stage}:
        assert f"mediahub-{other}" not in text and f"/mediahub/{other}/" not in text
    arns = re.findall(r'"(arn:[^"]+)"', text)
    assert arns and all(":${aws:PrincipalAccount}:" in arn or arn.startswith("arn:aws:s3:::") for arn in arns)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_fits_iams_inline_policy_limit(stage):
    document = json.loads(policy.policy_path(stage).read_text())
    assert len(json.dumps(document, separators=(",", ":"))) < 10240  # role inline policies, whitespace excluded


def test_every_table_and_index_of_every_registered_model_is_covered(registered):
    document = json.loads(policy.policy_path("production").read_text())
    account, prefix = "123456789012", STAGES["production"]["environment_variables"]["DYNAMODB_TABLE_PREFIX"]
    for model in registered:
        table = f"arn:aws:dynamodb:us-east-1:{account}:table/{prefix}{model.Meta.base_name}"
        for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
            assert policy.allows(document, action, table, account), (action, table)
        assert not policy.allows(document, "dynamodb:Scan", table, account)
        assert not policy.allows(document, "dynamodb:DeleteTable", table, account)
        for index in model._indexes.values():
            assert policy.allows(document, "dynamodb:Query", f"{table}/index/{index.Meta.index_name}", account)


def test_the_evaluator_binds_the_account_and_matches_like_iam():
    document = json.loads(policy.policy_path("production").read_text())
    key = "arn:aws:s3:::mediahub-production-uploads/uploads/7/abc/original.jpg"
    assert policy.allows(document, "s3:GetObject", key, "111122223333")
    assert policy.allows(document, "S3:getobject", key, "111122223333")  # action names are case-insensitive
    assert not policy.allows(document, "s3:GetObjectVersion", key.replace("/uploads/", "/avatars/"), "111122223333")
    assert not policy.allows(document, "s3:GetObject", key.replace("/uploads/", "/other/"), "111122223333")
    assert not policy.allows(document, "s3:PutObject", key.replace("production", "dev"), "111122223333")
    table = "arn:aws:dynamodb:us-east-1:{}:table/mediahub-production-media"
    assert policy.allows(document, "dynamodb:GetItem", table.format("111122223333"), "111122223333")
    assert not policy.allows(document, "dynamodb:GetItem", table.format("444455556666"), "111122223333")
