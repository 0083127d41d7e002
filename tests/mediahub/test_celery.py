from mediahub.tasks import ping


def test_health_task_runs_on_a_real_worker_process(celery_worker):
    result = ping.apply_async(queue=celery_worker)
    assert result.get(timeout=30) == "pong"
