"""The batch's daemon thread pool: bounded, ThreadPoolExecutor-like, and never joined at exit."""

from __future__ import annotations

import threading
import time

import pytest

from autodiscover_client._pool import DaemonPool


def test_results_exceptions_and_a_bounded_number_of_daemon_threads() -> None:
    pool = DaemonPool(3, "test-pool")
    seen: set[threading.Thread] = set()
    lock = threading.Lock()

    def work(n: int) -> int:
        with lock:
            seen.add(threading.current_thread())
        time.sleep(0.01)
        if n == 7:
            raise ValueError("seven")
        return n * n

    futures = [pool.submit(work, n) for n in range(20)]
    assert [f.result(timeout=10) for i, f in enumerate(futures) if i != 7] == [n * n for n in range(20) if n != 7]
    with pytest.raises(ValueError, match="seven"):
        futures[7].result(timeout=10)
    pool.shutdown(wait=True)
    assert 1 <= len(seen) <= 3
    assert all(thread.daemon and not thread.is_alive() for thread in seen)


def test_an_idle_worker_is_reused_before_a_new_thread_starts() -> None:
    pool = DaemonPool(8, "test-pool")
    for n in range(5):
        assert n == pool.submit(lambda x: x, n).result(timeout=10)
        time.sleep(0.01)  # the worker is idle again before the next submit
    pool.shutdown(wait=True)
    assert 1 == len(pool._threads)


def test_a_cancelled_job_never_runs_and_shutdown_waits_for_running_ones() -> None:
    pool = DaemonPool(1, "test-pool")
    release = threading.Event()
    ran: list[str] = []

    def blocker() -> None:
        release.wait(10)
        ran.append("blocker")

    running = pool.submit(blocker)
    queued = pool.submit(ran.append, "queued")
    assert queued.cancel()
    threading.Timer(0.1, release.set).start()
    pool.shutdown(wait=True)
    assert running.done()
    assert queued.cancelled()
    assert ["blocker"] == ran


def test_shutdown_without_wait_returns_while_work_runs() -> None:
    pool = DaemonPool(2, "test-pool")
    release = threading.Event()
    future = pool.submit(release.wait, 10)
    started = time.monotonic()
    pool.shutdown(wait=False)
    assert time.monotonic() - started < 1
    assert not future.done()
    release.set()
    assert future.result(timeout=10) is True
