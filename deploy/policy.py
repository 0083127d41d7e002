"""The Lambda role's policy for each Zappa stage: generated, checked, and evaluated here.

    .venv/bin/python -m deploy.policy            # rewrite deploy/iam/<stage>.json for every stage
    .venv/bin/python -m deploy.policy --check    # exit 1 if a file is stale or grants a wildcard

zappa_settings.json attaches deploy/iam/<stage>.json (`attach_policy`): Zappa puts it on the role it manages as
the role's only inline policy, replacing Zappa's default (which allows s3:*, dynamodb:* and more on everything).

What it allows, and nothing else:
- S3: list the stage's two buckets, and read, write and delete objects under the key prefixes the code uses.
- DynamoDB: on each of the stage's tables, the item actions its model's code uses; Query on its indexes.
- Parameter Store: read the stage's secrets (settings.SECRET_PARAMETERS under SECRETS_PARAMETER_PATH).
- Lambda: invoke the stage's own function (zappa.asynchronous re-queues processing that way).
- CloudWatch Logs: write the function's own log group.

The account is the policy variable ${aws:PrincipalAccount} (the role's own account), so the file needs no account
number and cannot name another account's resources. tests/deploy/test_iam.py checks this policy against every S3,
DynamoDB and SSM call the test suite makes.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "zappa_settings.json"
IAM_DIR = ROOT / "deploy" / "iam"
ACCOUNT = "${aws:PrincipalAccount}"

# Key prefixes of each bucket, per S3 action, that the code uses (bucket by its setting).
S3_OBJECT_GRANTS = {
    "UPLOADS_BUCKET": {
        "s3:GetObject": ["uploads/", "avatars/"],  # HEAD and reads when processing; 60 s download links
        "s3:GetObjectVersion": ["uploads/"],  # the version pinned at arrival: processing, downloads, quarantine copy
        "s3:PutObject": ["uploads/", "avatars/", "quarantine/"],  # the browser's presigned POST; refused -> quarantine
        "s3:PutObjectTagging": ["uploads/"],  # the presigned POST tags each upload "pending"
        "s3:PutObjectVersionTagging": ["uploads/"],  # arrival tags the pinned version "arrived"
        "s3:DeleteObject": ["uploads/", "avatars/"],  # refused, deleted and replaced originals
        "s3:DeleteObjectVersion": ["uploads/", "avatars/", "quarantine/"],  # every version, on deletion or refusal
        # Files in parts: create, each part's PUT and complete are s3:PutObject (and the create's pending tag,
        # s3:PutObjectTagging); complete and resuming list the parts; cancel and the sweep abort the upload.
        "s3:ListMultipartUploadParts": ["uploads/"],
        "s3:AbortMultipartUpload": ["uploads/"],
    },
    "RENDITIONS_BUCKET": {
        "s3:GetObject": ["renditions/", "avatars/", "exports/"],  # the signed <img> links; ZIP download links
        # processing writes renditions; a ZIP build's multipart upload (create, parts, complete) under exports/
        "s3:PutObject": ["renditions/", "avatars/", "exports/"],
        "s3:DeleteObject": ["renditions/", "avatars/", "exports/"],  # deleted items, replaced avatars, lost ZIPs
        "s3:AbortMultipartUpload": ["exports/"],  # a ZIP build that fails or loses drops its parts
    },
}
# s3:ListBucketVersions on the (versioned) uploads bucket: deleting an item lists its versions to delete each.
# s3:ListBucket on both buckets: deleting an item lists its prefix (ListObjectsV2), and without it S3 answers
# 403 instead of 404 for a missing object, which the code reads as "never arrived".

# Item actions on every table, plus what a table's code needs besides (by the model's base name). Query is
# granted on indexes, and on the one table queried on its own key (search-terms: a word is a key prefix).
# tests/deploy/test_iam.py fails, naming the action and table, when the code makes a call that is not granted here.
TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
TABLE_EXTRA_ACTIONS = {
    # The pages' live status: one BatchGet for every item they follow; adding to an album checks the item.
    "media": ["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"],
    "profiles": ["dynamodb:BatchGetItem"],  # the admin's profile list: one BatchGet per page
    "share-links": ["dynamodb:BatchWriteItem"],  # deleting an item deletes its share links in batches
    # Albums (issue 13): adding an item checks it in the membership's transaction; an album's rows are read (a
    # strongly consistent Query on the table's own key, which no index offers) and deleted in batches with it.
    "album-members": ["dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"],
    "album-links": ["dynamodb:BatchWriteItem"],  # deleting an album deletes its links in batches
    "search-terms": ["dynamodb:BatchWriteItem", "dynamodb:Query"],  # rows written in batches; a word, one Query
}
INDEX_ACTIONS = ["dynamodb:Query"]

# Grants that no offline test can exercise, and why they are there anyway.
NOT_EXERCISED_OFFLINE = {
    "Logs": "Lambda's runtime writes the function's logs with the role; nothing in the code calls CloudWatch Logs.",
}


class PolicyError(Exception):
    pass


def load_stages(path: Path = SETTINGS_FILE) -> dict[str, dict]:
    """Every stage of zappa_settings.json, with `extends` applied as Zappa applies it (a shallow update)."""
    raw = json.loads(path.read_text())

    def resolve(stage: str, seen: tuple = ()) -> dict:
        if stage in seen:
            raise PolicyError(f"circular extends at {stage}")
        config = dict(raw[stage])
        parent = config.get("extends")
        return {**resolve(parent, (*seen, stage)), **config} if parent else config

    return {stage: resolve(stage) for stage in raw}


def function_name(stage: str, config: dict) -> str:
    """The Lambda function Zappa deploys for a stage (ZappaCLI.lambda_name)."""
    return f"{config['project_name']}-{stage}".lower()


def models() -> list[type]:
    """The registered PynamoDB models (Django loads every app's models)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
    import django

    django.setup()
    from mediahub import dynamo

    return list(dynamo.registry)


def table_grants(model: type) -> tuple[str, list[str], list[str]]:
    """(base name, item actions, index names) of a model."""
    base = model.Meta.base_name
    indexes = sorted(index.Meta.index_name for index in model._indexes.values())
    return base, TABLE_ACTIONS + TABLE_EXTRA_ACTIONS.get(base, []), indexes


def build(stage: str, config: dict, registered: list[type]) -> dict:
    env = config.get("environment_variables", {})
    region, fn = config["aws_region"], function_name(stage, config)
    buckets = {setting: env[setting] for setting in S3_OBJECT_GRANTS}
    prefix = env["DYNAMODB_TABLE_PREFIX"]
    secrets_path = env["SECRETS_PARAMETER_PATH"].rstrip("/")
    from mediahub.settings import SECRET_PARAMETERS

    table_arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{prefix}"
    log_group = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/lambda/{fn}"
    statements = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group, f"{log_group}:*"],
        },
        {
            "Sid": "Secrets",
            "Effect": "Allow",
            "Action": ["ssm:GetParameters"],
            "Resource": [f"arn:aws:ssm:{region}:{ACCOUNT}:parameter{secrets_path}/{n}" for n in SECRET_PARAMETERS],
        },
        {
            "Sid": "InvokeSelf",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [f"arn:aws:lambda:{region}:{ACCOUNT}:function:{fn}"],
        },
        {
            "Sid": "ListBuckets",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{name}" for name in buckets.values()],
        },
    ]
    statements.append(
        {
            "Sid": "ListVersions",
            "Effect": "Allow",
            "Action": ["s3:ListBucketVersions"],
            "Resource": [f"arn:aws:s3:::{buckets['UPLOADS_BUCKET']}"],
        }
    )
    for action in sorted({action for grants in S3_OBJECT_GRANTS.values() for action in grants}):
        resources = [
            f"arn:aws:s3:::{buckets[setting]}/{key_prefix}*"
            for setting, grants in S3_OBJECT_GRANTS.items()
            for key_prefix in grants.get(action, [])
        ]
        statements.append({"Sid": action.split(":")[1], "Effect": "Allow", "Action": [action], "Resource": resources})
    for model in sorted(registered, key=lambda m: m.Meta.base_name):
        base, actions, indexes = table_grants(model)
        sid = "".join(part.capitalize() for part in base.replace("_", "-").split("-"))
        statements.append(
            {"Sid": f"Table{sid}", "Effect": "Allow", "Action": actions, "Resource": [f"{table_arn}{base}"]}
        )
        if indexes:
            statements.append(
                {
                    "Sid": f"Table{sid}Indexes",
                    "Effect": "Allow",
                    "Action": INDEX_ACTIONS,
                    "Resource": [f"{table_arn}{base}/index/{index}" for index in indexes],
                }
            )
    return {"Version": "2012-10-17", "Statement": statements}


def render(policy: dict) -> str:
    return json.dumps(policy, indent=2) + "\n"


def policy_path(stage: str) -> Path:
    return IAM_DIR / f"{stage}.json"


# --- Checks -------------------------------------------------------------------------------------------------


def wildcard_problems(policy: dict, stage: str, config: dict) -> list[str]:
    """Every wildcard the policy grants, except the two that the resources themselves make necessary:
    object keys under a named prefix of one of the stage's buckets (keys are made at run time), and the log
    streams of the function's own log group (Lambda names them)."""
    env = config.get("environment_variables", {})
    region, fn = config["aws_region"], function_name(stage, config)
    buckets = [env[setting] for setting in S3_OBJECT_GRANTS]
    allowed_tail = [f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/lambda/{fn}:*"]
    problems = []
    for statement in policy["Statement"]:
        sid = statement.get("Sid", "?")
        for key in ("NotAction", "NotResource", "Principal", "NotPrincipal"):
            if key in statement:
                problems.append(f"{sid}: {key} is not allowed here")
        if statement.get("Effect") != "Allow":
            problems.append(f"{sid}: only Allow statements are expected")
        for action in _as_list(statement.get("Action")):
            if "*" in action or "?" in action:
                problems.append(f"{sid}: wildcard action {action}")
        for resource in _as_list(statement.get("Resource")):
            if "${" in resource.replace(ACCOUNT, ""):
                problems.append(f"{sid}: policy variable other than {ACCOUNT} in {resource}")
            if "*" not in resource and "?" not in resource:
                continue
            if resource in allowed_tail:
                continue
            if _is_prefixed_object_wildcard(resource, buckets):
                continue
            problems.append(f"{sid}: wildcard resource {resource}")
    return problems


def _is_prefixed_object_wildcard(resource: str, buckets: list[str]) -> bool:
    for bucket in buckets:
        head = f"arn:aws:s3:::{bucket}/"
        if resource.startswith(head) and resource.endswith("/*"):
            prefix = resource[len(head) : -1]
            return bool(prefix.strip("/")) and "*" not in prefix and "?" not in prefix
    return False


def _as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def allows(policy: dict, action: str, resource: str, account: str) -> bool:
    """IAM's answer for one action on one resource under this identity policy (Allow statements only, which is
    all these policies have): the action must match exactly (IAM action names are case-insensitive) and the
    resource must match a Resource pattern, with * and ? as IAM's wildcards and the account variable bound."""
    for statement in policy["Statement"]:
        if statement.get("Effect") != "Allow":
            continue
        if action.lower() not in {a.lower() for a in _as_list(statement.get("Action"))}:
            continue
        for pattern in _as_list(statement.get("Resource")):
            if fnmatch.fnmatchcase(resource, pattern.replace(ACCOUNT, account)):
                return True
    return False


def grants(policy: dict) -> list[tuple[str, str, str]]:
    """(statement id, action, resource pattern) for everything the policy allows."""
    return [
        (s.get("Sid", "?"), action, pattern)
        for s in policy["Statement"]
        for action in _as_list(s.get("Action"))
        for pattern in _as_list(s.get("Resource"))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 on a stale file or a wildcard")
    args = parser.parse_args(argv)
    registered = models()
    failed = False
    for stage, config in load_stages().items():
        text = render(build(stage, config, registered))
        path = policy_path(stage)
        problems = wildcard_problems(json.loads(text), stage, config)
        for problem in problems:
            print(f"{stage}: {problem}", file=sys.stderr)
        failed |= bool(problems)
        if args.check:
            if not path.exists() or path.read_text() != text:
                print(f"{path.relative_to(ROOT)} is stale: run `.venv/bin/python -m deploy.policy`", file=sys.stderr)
                failed = True
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
        if stage != config.get("attach_policy", "").removeprefix("deploy/iam/").removesuffix(".json"):
            print(f"{stage}: zappa_settings.json must attach deploy/iam/{stage}.json", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
