import pytest

from profiles import services


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """Background jobs are recorded, not sent: the tests run the job themselves (a session's worker may be up)."""
    jobs: list[tuple] = []
    monkeypatch.setattr(services.dispatch, "run_job", lambda *args: jobs.append(args))
    return jobs
