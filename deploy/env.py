"""Print a stage's environment (zappa_settings.json) as shell exports, for operator commands run from a laptop.

    eval "$(.venv/bin/python -m deploy.env production)"
    .venv/bin/python manage.py bootstrap          # with admin credentials: buckets and tables of the stage

Secrets are not in it: with SECRETS_PARAMETER_PATH exported, settings read them from Parameter Store.
"""

from __future__ import annotations

import shlex
import sys

from deploy.policy import load_stages


def exports(stage: str) -> str:
    config = load_stages()[stage]
    env = {"AWS_REGION": config["aws_region"], **config["environment_variables"]}
    lines = ["unset AWS_ENDPOINT_URL  # real AWS, not the local emulator"]
    return "\n".join(lines + [f"export {name}={shlex.quote(value)}" for name, value in env.items()])


if __name__ == "__main__":
    print(exports(sys.argv[1] if len(sys.argv) > 1 else "production"))
