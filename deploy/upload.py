"""Put a stage's package in its Zappa code bucket (`s3_bucket`) and print its s3:// address, for Zappa's -z.

    .venv/bin/python -m deploy.upload production     # what `make deploy` and `make update` run before Zappa

Given a local zip (`-z path.zip`), Zappa 0.63 reads it and sends its bytes in the Lambda API call itself
(`deploy` and `update` in zappa/cli.py pass `local_zip`, which `Zappa.create_lambda_function` and
`Zappa.update_lambda_function` in zappa/core.py send as `ZipFile`), and Lambda refuses such a request above 50 MB.
Given an s3:// address it passes `S3Bucket` and `S3Key` instead, and from S3 Lambda takes any zip whose contents
fit in 250 MB. The upload is Zappa's own `Zappa.upload_to_s3` (which creates the bucket if it is missing), the
same call Zappa makes when it builds the package itself.
"""

from __future__ import annotations

import sys

from deploy.build import package_path
from deploy.policy import ROOT


def upload(stage: str) -> str:
    """The s3:// address of the stage's package (built by `make package`), once it is in the code bucket."""
    from zappa.cli import ZappaCLI

    path = package_path(stage)
    if not path.is_file():
        raise SystemExit(f"No package at {path}: run `make package STAGE={stage}` first.")
    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings(str(ROOT / "zappa_settings.json"))
    if not cli.zappa.upload_to_s3(str(path), cli.s3_bucket_name, disable_progress=True):
        raise SystemExit(f"Could not upload {path.name} to s3://{cli.s3_bucket_name}")
    return f"s3://{cli.s3_bucket_name}/{path.name}"  # upload_to_s3 keys the object by the file's name


def main() -> int:
    print(upload(sys.argv[1] if len(sys.argv) > 1 else "production"))  # stdout: the address alone, for make
    return 0


if __name__ == "__main__":
    sys.exit(main())
