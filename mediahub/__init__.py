# The Celery app is not imported here: Lambda's web and S3-event functions never use Celery, and importing it costs
# a third of a second of every cold start. Task modules import it (`from mediahub.celery import app`) instead.
