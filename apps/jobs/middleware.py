"""Dramatiq middleware of the jobs app."""

import dramatiq

from apps.jobs.heartbeat import Beater


class WorkerHeartbeat(dramatiq.Middleware):
    """Each worker process beats while it runs, so health checks can tell a live worker from a dead one."""

    def __init__(self):
        self.beater = None

    def after_worker_boot(self, broker, worker):
        queues = sorted(worker.consumer_whitelist or broker.get_declared_queues())
        self.beater = Beater("worker", queues=queues).start()

    def before_worker_shutdown(self, broker, worker):
        if self.beater is not None:
            self.beater.stop()
            self.beater = None
