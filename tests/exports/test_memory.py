"""Memory stays bounded whatever the ZIP's size: a 200 MB ZIP built in a process of its own grows that process by
a few parts (ZIP_PART_SIZE), not by the ZIP."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from exports import services
from exports.models import State, ZipJob
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db

MB = 1024**2
# The build's process: everything loaded and one call of each kind made first, so the baseline holds the clients.
CHILD = """
import json, sys
import django
django.setup()
from exports import building
from exports.models import ZipJob
from mediahub.aws import client
from django.conf import settings
client("s3").head_bucket(Bucket=settings.RENDITIONS_BUCKET)
ZipJob.get(sys.argv[1])
def status(field):  # this process's own figures (ru_maxrss would carry the forking parent's peak over exec)
    line = next(line for line in open("/proc/self/status") if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024
before = status("VmHWM")
outcome = building.build(sys.argv[1])
peak = status("VmHWM")
print(json.dumps({"outcome": outcome, "before": before, "peak": peak}))
"""


def test_a_200_mb_zip_grows_the_building_process_by_a_few_parts_only(alice, ready_item, queued, local_aws):
    chunk = os.urandom(MB)  # incompressible, as media are
    items = [ready_item(alice, chunk * 50, f"video-{n}.mp4") for n in range(4)]
    job = services.start_export(owner_id=str(alice.pk), ids=[item.id for item in items]).job

    env = {**os.environ, **local_aws.env, "DJANGO_SETTINGS_MODULE": "mediahub.settings", "LOG_LEVEL": "WARNING"}
    run = subprocess.run([sys.executable, "-c", CHILD, job.id], cwd=ROOT, env=env, capture_output=True, timeout=300)
    assert run.returncode == 0, run.stderr.decode()
    figures = json.loads(run.stdout.decode().strip().splitlines()[-1])

    assert figures["outcome"] == "ready"
    job = ZipJob.get(job.id)
    assert job.state == State.READY and job.zip_size > 200 * MB
    growth = figures["peak"] - figures["before"]
    # The part being filled, its copy going out, the one in flight and botocore's buffers: about 3.5 parts plus
    # 15 MB whatever the ZIP's size (measured: 78 MB for 200 MB and 79 MB for 400 MB, 34 MB with 5 MiB parts).
    part = settings.ZIP_PART_SIZE
    assert growth < 6 * part and growth < job.zip_size / 2, (
        f"grew {growth / MB:.0f} MB for a {job.zip_size / MB:.0f} MB ZIP"
    )
