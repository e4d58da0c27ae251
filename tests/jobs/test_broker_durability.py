"""A message sent to the Redis broker survives a broker restart (embedded Redis keeps an AOF)."""

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from newstunneler import embedded_redis


def test_queued_message_survives_an_embedded_redis_restart(tmp_path):
    results = []
    try:
        embedded_redis.ensure_running(tmp_path)
        broker = RedisBroker(url=embedded_redis.url(tmp_path), middleware=[])

        @dramatiq.actor(broker=broker, queue_name="durable", actor_name="durable_echo")
        def echo(value):
            results.append(value)

        echo.send("kept")
        broker.close()
        assert embedded_redis.stop(tmp_path)
        assert not embedded_redis.is_running(tmp_path)

        assert embedded_redis.ensure_running(tmp_path) is True
        broker = RedisBroker(url=embedded_redis.url(tmp_path), middleware=[])
        broker.declare_actor(echo)
        worker = dramatiq.Worker(broker, worker_timeout=50)
        worker.start()
        try:
            broker.join("durable", timeout=10_000)
            worker.join()
        finally:
            worker.stop()
            broker.close()
    finally:
        embedded_redis.stop(tmp_path)
    assert results == ["kept"]


def test_two_processes_share_one_embedded_server(tmp_path):
    try:
        assert embedded_redis.ensure_running(tmp_path) is True
        pid = embedded_redis.server_pid(tmp_path)
        assert embedded_redis.ensure_running(tmp_path) is False  # a second caller reuses it
        assert embedded_redis.server_pid(tmp_path) == pid
    finally:
        embedded_redis.stop(tmp_path)


def test_long_var_paths_fall_back_to_a_short_socket(tmp_path):
    deep = tmp_path / ("d" * 120)
    assert len(str(embedded_redis.socket_path(deep))) < 100
