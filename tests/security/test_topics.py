"""A topic a client names (Notification.MNS.TopicName) is a key of its own
project's key space, in a Redis database the job queue does not use; the
job Redis holds JSON, never pickles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib

import django_rq
import pytest
import redis
from django.conf import settings
from rq.job import Job
from rq.serializers import JSONSerializer

from converter import notifications
from converter.services import queueing
from tests.factories import make_task
from tests.processes import ROOT

pytestmark = pytest.mark.django_db(transaction=True)  # jobs are enqueued on commit


def _message(n: int) -> dict:
    return {"id": f"m{n}", "type": "MediaConvert:TaskSucceeded", "subject": f"s{n}"}


@pytest.mark.parametrize("topic", ["rq:queue:convert", "rq:queue:notify", "rq:queues"])
def test_a_topic_named_like_an_rq_key_leaves_the_queue_working(topic, clips):
    assert notifications.publish_stream("victim", topic, _message(1)).ok
    queue = django_rq.get_queue(queueing.QUEUE)
    assert queue.connection.type(topic) in (b"none", b"list", b"set", b"zset")
    task = make_task(clips.moving())
    queueing.task_enqueue(task)  # WRONGTYPE here, before: the topic was a raw key
    assert queue.fetch_job(queueing.job_id(task)) is not None


def test_each_project_reads_only_its_own_topic():
    assert notifications.publish_stream("alpha", "done", _message(1)).ok
    assert notifications.publish_stream("beta", "done", _message(2)).ok
    client = redis.Redis.from_url(settings.CONVERTER_NOTIFY_REDIS_URL)
    alpha = client.xrange(notifications.stream_key("alpha", "done"))
    beta = client.xrange(notifications.stream_key("beta", "done"))
    assert [e[1][b"id"] for e in alpha] == [b"m1"] and [e[1][b"id"] for e in beta] == [b"m2"]
    assert notifications.stream_key("alpha", "done") == "loopforge:mns:alpha:done"


def test_streams_live_in_another_database_than_the_jobs():
    jobs = django_rq.get_connection(queueing.QUEUE).connection_pool.connection_kwargs
    streams = redis.Redis.from_url(settings.CONVERTER_NOTIFY_REDIS_URL).connection_pool
    kwargs = streams.connection_kwargs
    assert (kwargs.get("host"), kwargs.get("port"), kwargs.get("db")) != (
        jobs.get("host"),
        jobs.get("port"),
        jobs.get("db"),
    )


def test_the_job_redis_holds_json_not_pickles(clips):
    task = make_task(clips.moving())
    queueing.task_enqueue(task)
    connection = django_rq.get_connection(queueing.QUEUE)
    raw = connection.hget(Job.redis_job_namespace_prefix + queueing.job_id(task), "data")
    func, _instance, args, _kwargs = json.loads(zlib.decompress(raw))
    assert func == queueing.CONVERT_TASK and args == [task.pk]
    job = Job.fetch(queueing.job_id(task), connection=connection, serializer=JSONSerializer)
    assert job.args == [task.pk]


def test_the_settings_refuse_streams_in_the_job_database():
    env = {**os.environ, "CONVERTER_NOTIFY_REDIS_URL": os.environ["REDIS_URL"]}
    out = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode != 0 and "CONVERTER_NOTIFY_REDIS_URL" in out.stderr
