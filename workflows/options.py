"""Activity options shared by the workflows."""

from datetime import timedelta

from temporalio.common import RetryPolicy

TIMEOUT = timedelta(seconds=30)
# Retries go on (with backoff capped at a minute) until the outside system is back: nothing is lost.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
