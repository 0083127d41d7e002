"""Create or update a stage's Lambda role with Zappa's own code, before `zappa deploy|update <stage> -z <zip>`.

    .venv/bin/python -m deploy.role production     # what `make deploy` and `make update` run before Zappa

Zappa manages the role (`manage_roles: true`, `attach_policy`) only when it builds the package itself: given a
zip (`-z`), Zappa 0.63's `deploy` and `update` skip `create_iam_roles`, so a first deploy would find no role to
give the function and an update would leave the role's policy as it was. This runs that same Zappa method.
"""

from __future__ import annotations

import sys
import time

from deploy.policy import ROOT

# IAM is eventually consistent: a role just created or changed can take seconds to be usable by Lambda.
PROPAGATION_SECONDS = 10


def ensure_role(stage: str) -> tuple[str, bool]:
    """The role's ARN, and whether it was created or its policies changed. Run from the project (relative paths)."""
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings(str(ROOT / "zappa_settings.json"))
    return cli.zappa.create_iam_roles()


def main() -> int:
    stage = sys.argv[1] if len(sys.argv) > 1 else "production"
    arn, updated = ensure_role(stage)
    print(f"Role {arn}: {'created or updated' if updated else 'unchanged'}")
    if updated:
        time.sleep(PROPAGATION_SECONDS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
