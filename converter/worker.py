"""The RQ worker class ``manage.py worker`` runs: RQ's, with its exit bounded.

RQ 3.0 unsubscribes the worker's pubsub thread and then stops it, and
redis-py 8.2's ``PubSubWorkerThread.stop()`` waits for the thread to end.
A thread that read the unsubscribe reply before it was told to stop loops
once more and waits for a subscription for its whole sleep time (60 s):
a worker stopped just after it started (``manage.py up`` stopped at once)
took a minute to exit. Here the thread is told to stop first, without
waiting; the unsubscribe reply then wakes it where it is reading, and one
still waiting is a daemon thread, which ends with the process.
"""

from __future__ import annotations

from rq.worker import Worker as RQWorker


class Worker(RQWorker):
    def unsubscribe(self) -> None:
        if self.pubsub_thread:
            self.log.info(
                "Worker %s: unsubscribing from channel %s", self.name, self.pubsub_channel_name
            )
            self.pubsub_thread.stop(timeout=0)
            self.pubsub.unsubscribe()
            self.pubsub_thread.join(timeout=1)
            self.pubsub.close()
