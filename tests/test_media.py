"""The test media helpers themselves (tests/media.py)."""

import os

from tests import media


def test_making_an_av1_clip_leaves_the_test_process_scheduled_as_before():
    before = os.sched_getscheduler(0), os.sched_getparam(0).sched_priority
    media.video("libsvtav1")
    assert (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority) == before == (os.SCHED_OTHER, 0)
