from mediahub.celery import app


@app.task(name="mediahub.ping")
def ping() -> str:
    """Health check: proves a worker is consuming the queue."""
    return "pong"
