"""A bounded thread pool on daemon threads, for batch discovery.

``concurrent.futures.ThreadPoolExecutor`` joins its workers when the interpreter exits, so a program
interrupted with Ctrl-C in the middle of a batch would sit there until every running discovery had
reached its deadline (up to ``timeout`` seconds). These workers are daemons: a program that is leaving
leaves at once. A normal :meth:`DaemonPool.shutdown` still waits for them.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_Job = tuple["concurrent.futures.Future[object]", Callable[..., object], tuple[object, ...]]


class DaemonPool:
    """``submit`` and ``shutdown`` as in ``ThreadPoolExecutor``, with at most ``workers`` daemon threads."""

    def __init__(self, workers: int, name: str) -> None:
        self._workers = workers
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []

    def submit(self, work: Callable[..., T], *args: object) -> concurrent.futures.Future[T]:
        """Run ``work(*args)`` on a worker; a new thread starts only when none is idle (as ThreadPoolExecutor)."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((future, work, args))  # type: ignore[arg-type]  # the queue holds every T
        if not self._idle.acquire(blocking=False) and len(self._threads) < self._workers:
            thread = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, work, args = job
            if future.set_running_or_notify_cancel():  # a cancelled job is skipped
                try:
                    result = work(*args)
                except BaseException as exc:  # handed to the caller, as ThreadPoolExecutor does
                    future.set_exception(exc)
                else:
                    future.set_result(result)
                del future, work, args, job  # the result belongs to the caller now, not to an idle thread
            self._idle.release()

    def shutdown(self, *, wait: bool) -> None:
        """Stop the workers once the queued jobs are done (cancel those first); with ``wait``, join them."""
        for _ in self._threads:
            self._jobs.put(None)
        if wait:
            for thread in self._threads:
                thread.join()
