from celery import shared_task


@shared_task(name="mediahub.ping")
def ping() -> str:
    """Health check: proves a worker is consuming the queue."""
    return "pong"
