"""The IAM check itself: the application's recorded AWS calls (tests/deploy/recording.py) against each stage's
role (deploy/iam/<stage>.json), with this session's resource names read as the stage's.

test_iam.py runs these on the calls its process made before it. Every process also runs `whole_session_problems()`
on everything it recorded once its last test is done (tests/conftest.py); under pytest-xdist the workers hand that,
and what their calls used, to the controller, which fails the run on any problem, since no one test can see the
calls of the other workers.
"""

from __future__ import annotations

import json
from collections import Counter

from django.conf import settings

from deploy import policy
from deploy.policy import function_name
from tests.deploy.conftest import STAGES
from tests.deploy.recording import ACCOUNT, Call

TEST_SECRETS_PATH = "/mediahub/iam-check"


def stage_names(stage: str) -> dict[str, str]:
    env = STAGES[stage]["environment_variables"]
    return {
        "uploads": env["UPLOADS_BUCKET"],
        "renditions": env["RENDITIONS_BUCKET"],
        "prefix": env["DYNAMODB_TABLE_PREFIX"],
        "secrets": env["SECRETS_PARAMETER_PATH"],
        "function": function_name(stage, STAGES[stage]),
    }


def session_names() -> dict[str, str]:
    return {
        "uploads": settings.UPLOADS_BUCKET,
        "renditions": settings.RENDITIONS_BUCKET,
        "prefix": settings.DYNAMODB_TABLE_PREFIX,
        "secrets": TEST_SECRETS_PATH,
        "function": "",
    }


def translate(resource: str, stage: str) -> str:
    """A resource of this session (or of a stage: some tests use a stage's own names) as the stage's."""
    target = stage_names(stage)
    for source in (session_names(), *(stage_names(name) for name in sorted(STAGES))):
        for bucket in ("uploads", "renditions"):
            arn = f"arn:aws:s3:::{source[bucket]}"
            if resource == arn or resource.startswith(arn + "/"):
                return f"arn:aws:s3:::{target[bucket]}{resource[len(arn) :]}"
        table = f":table/{source['prefix']}"
        if table in resource:
            return resource.replace(table, f":table/{target['prefix']}")
        parameter = f":parameter{source['secrets']}/"
        if parameter in resource:
            return resource.replace(parameter, f":parameter{target['secrets']}/")
        if source["function"] and resource.endswith(f":function:{source['function']}"):
            return resource.replace(f":function:{source['function']}", f":function:{target['function']}")
    return resource


def violations(calls: list[Call], stage: str) -> list[str]:
    document = json.loads(policy.policy_path(stage).read_text())
    problems = set()
    for call in calls:
        for action, resource in call.actions:
            if not policy.allows(document, action, translate(resource, stage), ACCOUNT):
                problems.add(f"{call.service} {call.operation}: {action} on {translate(resource, stage)}")
    return sorted(problems)


def unused_actions(calls: list[Call], stage: str) -> list[str]:
    """Actions the policy grants that no application call needed (the documented exceptions aside)."""
    return unused_grants(used_pairs(calls, stage), stage)


def used_pairs(calls: list[Call], stage: str) -> set[tuple[str, str]]:
    """(action, resource) the calls needed, as the stage's resources: what processes hand on to be put together."""
    return {(a.lower(), translate(r, stage)) for call in calls for a, r in call.actions}


def unused_grants(used: set[tuple[str, str]], stage: str) -> list[str]:
    """The stage's grants of an action that none of `used` needed."""
    document = json.loads(policy.policy_path(stage).read_text())
    unused = []
    for sid, action, pattern in policy.grants(document):
        if sid in policy.NOT_EXERCISED_OFFLINE:
            continue
        single = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": [action], "Resource": [pattern]}],
        }
        if not any(a == action.lower() and policy.allows(single, action, r, ACCOUNT) for a, r in used):
            unused.append(f"{sid}: {action} on {pattern}")
    by_action = {}
    for line in unused:
        by_action.setdefault(line.split(": ")[1].split(" on ")[0], []).append(line)
    granted = Counter(action for _, action, _ in policy.grants(document))
    # An action is unused when none of its resources saw a call; a resource of a used action may stay unseen
    # in a run (an index no test queries, say), which is reported but not an error.
    return sorted(line for action, lines in by_action.items() if len(lines) == granted[action] for line in lines)


def scans(calls: list[Call]) -> list[str]:
    """The application's DynamoDB Scans among `calls`, with where they went."""
    return sorted(
        {f"Scan of {arn}" for c in calls if (c.service, c.operation) == ("dynamodb", "Scan") for _, arn in c.actions}
    )


def object_acls(calls: list[Call]) -> list[tuple[str, str | None]]:
    """Canned ACLs the calls asked S3 to set on an object: uploads never ask for one (the bucket owns them)."""
    return sorted({(c.operation, c.acl) for c in calls if c.acl not in (None, "bucket-owner-full-control")})


def whole_session_problems(calls: list[Call]) -> list[str]:
    """What the checks that need every call of the session find: calls a stage's role does not allow, Scans and
    object ACLs (what the role grants but no call used needs no union: the representative flow covers it)."""
    problems = [f"{stage}: {line}" for stage in sorted(STAGES) for line in violations(calls, stage)]
    return problems + scans(calls) + [f"{operation} asked for the ACL {acl}" for operation, acl in object_acls(calls)]
