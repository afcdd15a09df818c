"""Drivers of the discovery core: sequential, and concurrent with bounded patience (DESIGN §2).

The concurrent driver starts every method's generator at once, each on a speculative fork of the run's
state (see ``_run``), performs their operations on a bounded thread pool, and merges the candidates
strictly in priority order: a candidate's outcome counts only when every higher-priority candidate has
finished, and only after its fork's log replays cleanly against the merged state. So with
``patience=None`` the answer, the trail and the hosts that received credentials are those of the
sequential run. The one exception is patience: once a lower-priority candidate has settings, each
higher-priority candidate still in flight gets at most ``patience`` more seconds, then is abandoned
(``Outcome.ABANDONED``) and counts as if it had never been tried.

With ``patience=None`` two steps are taken only by the candidate whose turn it is (the *head*), never
speculatively: asking the redirect approver, and answering a 401 with credentials. So the approver
and the credentials see exactly what they see in the sequential run. With a patience, both happen as
soon as a candidate reaches them, within the same DESIGN §4 rules (a fork trusts no more hosts than the
merged state), so a slow higher-priority candidate cannot hold back a lower one's authentication.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import enum
import heapq
import itertools
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from ._address import EmailAddress
from ._errors import ResolverError, TransportError
from ._flow import (
    Flow,
    Found,
    HttpCall,
    MethodResult,
    Operation,
    Reply,
    ScpLookup,
    SrvLookup,
    method_flow,
)
from ._models import Attempt, Method, Outcome
from ._run import Run, SpeculationError
from ._seams import Clock, Resolver, ScpSource, Transport

Outcomes = tuple[Found | None, bool]
"""What a driver returns: the settings found (or ``None``) and whether the deadline cut discovery short."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Seams:
    """What a driver performs operations with."""

    resolver: Callable[[], Resolver]
    transport: Callable[[], Transport]
    clock: Clock
    request_timeout: float
    scp_source: ScpSource | None = None


def perform(seams: Seams, operation: Operation, timeout: float) -> Reply:
    """Do one operation's I/O; every failure becomes a reply, never an exception."""
    start = seams.clock.monotonic()
    try:
        if isinstance(operation, ScpLookup):
            if seams.scp_source is None:
                raise ResolverError("Method.SCP needs an ScpSource: pass scp_source=Ldap3ScpSource(…) or --scp DC")
            reply = Reply(scp_records=tuple(seams.scp_source.search(operation.server, timeout=timeout)))
        elif isinstance(operation, SrvLookup):
            reply = Reply(records=tuple(seams.resolver().resolve_srv(operation.name, timeout=timeout)))
        else:
            reply = Reply(response=seams.transport().send(operation.request, timeout=timeout))
    except (TransportError, ResolverError) as exc:
        reply = Reply(error=exc)
    except Exception as exc:  # a caller's seam misbehaved: one failed candidate, not a crash
        reply = Reply(error=TransportError(f"the {type(exc).__name__} raised by a seam: {exc}"))
    return dataclasses.replace(reply, elapsed=round(seams.clock.monotonic() - start, 6))


def target_of(operation: Operation) -> str:
    """The URL (or DNS name) an operation contacts, for the trail."""
    return operation.request.url if isinstance(operation, HttpCall) else operation.name


def drive_sequential(
    seams: Seams, run: Run, flow: Flow[Found | None], address: EmailAddress, deadline: float
) -> Outcomes:
    """Perform ``flow``'s operations one at a time until it returns or the deadline passes."""
    current = address
    try:
        operation = next(flow)
        while True:
            left = deadline - seams.clock.monotonic()
            if left <= 0:
                email = run.attempts[-1].email if run.attempts else str(current)
                run.add_attempts([_deadline_attempt(operation, email, 0.0)])
                flow.close()
                return None, True
            operation = flow.send(perform(seams, operation, min(left, seams.request_timeout)))
    except StopIteration as stop:
        result: Found | None = stop.value
        return result, False


def _deadline_attempt(operation: Operation, email: str, elapsed: float) -> Attempt:
    return Attempt(
        method=operation.method, url=target_of(operation), outcome=Outcome.TIMEOUT, email=email,
        error="the overall deadline passed first", elapsed=elapsed,
    )  # fmt: skip


# --- executors: where operations run ---------------------------------------------------------------


class _Executor(Protocol):
    def start(self, ticket: int, operation: Operation, timeout: float) -> None: ...

    def next_reply(self, until: float) -> tuple[int, Reply] | None: ...

    def close(self) -> None: ...


class _ThreadExecutor:
    """A bounded pool of daemon threads. Replies arrive on a queue; abandoned work is never waited for.

    Each operation's own timeout is bounded by the time left before the deadline, so a worker that is
    no longer wanted finishes by the deadline on its own (DESIGN §3: no thread outlives the call). The
    threads are daemons, unlike ``concurrent.futures``' workers, so a program that has its answer can
    exit at once instead of joining an abandoned connect to a black-holed host.
    """

    def __init__(self, seams: Seams, workers: int) -> None:
        self._seams = seams
        self._slots = threading.Semaphore(workers)
        self._lock = threading.Lock()
        self._waiting: collections.deque[tuple[int, Operation, float, float]] = collections.deque()
        self._closed = False
        self._names = itertools.count()
        self._replies: queue.SimpleQueue[tuple[int, Reply]] = queue.SimpleQueue()

    def start(self, ticket: int, operation: Operation, timeout: float) -> None:
        if self._slots.acquire(blocking=False):
            name = f"autodiscover_{next(self._names)}"
            worker = threading.Thread(target=self._work, args=(ticket, operation, timeout), name=name, daemon=True)
            worker.start()
        else:  # not reached with the default size (two per candidate), but bounded all the same
            with self._lock:
                self._waiting.append((ticket, operation, timeout, self._seams.clock.monotonic()))

    def _work(self, ticket: int, operation: Operation, timeout: float) -> None:
        while True:
            self._replies.put((ticket, perform(self._seams, operation, timeout)))
            with self._lock:
                if self._closed or not self._waiting:
                    self._slots.release()
                    return
                ticket, operation, timeout, queued = self._waiting.popleft()
            timeout = max(0.001, timeout - (self._seams.clock.monotonic() - queued))

    def next_reply(self, until: float) -> tuple[int, Reply] | None:
        wait = until - self._seams.clock.monotonic()
        try:
            return self._replies.get(timeout=max(0.0, wait)) if wait > 0 else self._replies.get_nowait()
        except queue.Empty:
            return None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._waiting.clear()


class BranchingClock(Protocol):
    """A fake clock that can give a thread a private time (``FakeClock``): concurrency is simulated."""

    def monotonic(self) -> float: ...

    def branch(self) -> contextlib.AbstractContextManager[None]: ...

    def advance_to(self, when: float) -> None: ...


class _SimulatedExecutor:
    """Runs each operation at once in a clock branch, and delivers its reply at the branch's end time.

    With a fake clock and fake seams this makes a concurrent run deterministic: replies are delivered in
    order of simulated completion (ties in order of start), and nothing sleeps.
    """

    def __init__(self, seams: Seams, clock: BranchingClock) -> None:
        self._seams = seams
        self._clock = clock
        self._heap: list[tuple[float, int, Reply]] = []

    def start(self, ticket: int, operation: Operation, timeout: float) -> None:
        with self._clock.branch():
            reply = perform(self._seams, operation, timeout)
            done = self._clock.monotonic()
        heapq.heappush(self._heap, (done, ticket, reply))

    def next_reply(self, until: float) -> tuple[int, Reply] | None:
        if self._heap and self._heap[0][0] <= until:
            done, ticket, reply = heapq.heappop(self._heap)
            self._clock.advance_to(done)
            return ticket, reply
        self._clock.advance_to(until)
        return None

    def close(self) -> None:
        self._heap.clear()


# --- the concurrent driver -------------------------------------------------------------------------


# RFC 8305 §5 (Happy Eyeballs) staggers connection attempts rather than firing them all at once; it
# recommends 250 ms and allows down to 10 ms. Here each https candidate starts this long after the one
# before it (or as soon as every higher-priority candidate has finished), so that when the first
# candidate is alive the others do not compete with it for the CPU and the GIL, while a dead candidate
# still costs only this much. 40 ms lets a live root that answers within it (the benchmark's floor is
# about 24 ms) finish before the next TLS handshake starts; the dead-root target (floor + stagger +
# patience within 1.1 x (floor + patience), benchmarks/bench_dead_candidates.py) bounds it from above.
# Directory lookups (SRV, SCP) are cheap and start at once.
STAGGER = 0.04


class _State(enum.Enum):
    WAITING = "waiting"  # not started yet (see STAGGER)
    RUNNING = "running"  # an operation in flight, or held until the candidate's turn
    DONE = "done"
    NEEDS_TURN = "needs_turn"  # stopped at a step only the head may take: run again on its turn
    ABANDONED = "abandoned"


@dataclasses.dataclass(slots=True, kw_only=True)
class _Candidate:
    index: int
    method: Method
    run: Run
    flow: Flow[MethodResult]
    state: _State = _State.RUNNING
    operation: Operation | None = None
    ticket: int | None = None
    held: bool = False
    started: float = 0.0
    result: MethodResult = None
    answered_at: float | None = None
    start_at: float = 0.0
    rerun: bool = False  # started again on its turn, its speculation having read stale state


class _Round:
    """One address's candidates, merged in priority order into ``merged`` (the sequential state)."""

    def __init__(self, driver: ConcurrentDriver, address: EmailAddress) -> None:
        self.driver = driver
        self.address = address
        self.head = 0
        self.answer: _Candidate | None = None  # that answer
        base = driver.merged
        early = driver.patience is not None
        self.candidates = [
            self._new(index, method, base.fork(live=index == 0, asks_early=early))
            for index, method in enumerate(driver.methods)
        ]
        now, rank = driver.now(), 0
        for candidate in self.candidates:
            candidate.state = _State.WAITING
            if candidate.method in (Method.SRV, Method.SCP):  # a directory lookup first: cheap
                candidate.start_at = now
            else:
                candidate.start_at, rank = now + driver.stagger * rank, rank + 1
        self.start_due()

    def start_due(self) -> tuple[bool, float | None]:
        """Start the candidates whose time has come; say whether any did, and when the next one is due."""
        now = self.driver.now()
        settled = True  # every higher-priority candidate has failed
        started = False
        due: float | None = None
        for candidate in self.candidates:
            if candidate.state is _State.WAITING:
                if settled or candidate.start_at <= now:
                    candidate.state = _State.RUNNING
                    self.step(candidate, None)
                    started = True
                else:
                    due = candidate.start_at if due is None else min(due, candidate.start_at)
            # Only a failure lets the next one start early: after an answer, nothing more is needed.
            failed = candidate.state is _State.DONE and candidate.result is None
            settled = settled and (failed or candidate.state is _State.ABANDONED)
        return started, due

    def _new(self, index: int, method: Method, run: Run) -> _Candidate:
        return _Candidate(index=index, method=method, run=run, flow=method_flow(run, self.address, method))

    def step(self, candidate: _Candidate, reply: Reply | None) -> None:
        """Advance a candidate's generator with ``reply`` and start (or hold) its next operation."""
        candidate.operation = candidate.ticket = None
        try:
            operation = next(candidate.flow) if reply is None else candidate.flow.send(reply)
        except StopIteration as stop:
            candidate.state, candidate.result = _State.DONE, stop.value
            if isinstance(candidate.result, Found):
                candidate.answered_at = self.driver.now()
            return
        except SpeculationError:
            candidate.state = _State.NEEDS_TURN
            return
        candidate.operation = operation
        candidate.started = self.driver.now()
        # DESIGN §4 and the issue: with patience=None credentials go exactly where the sequential run
        # sends them, so a speculative candidate holds a credentialed request until its turn.
        needs_turn = isinstance(operation, HttpCall) and operation.request.credentials is not None
        if needs_turn and self.driver.patience is None and not candidate.run.live:
            candidate.held = True
            return
        candidate.held = False
        candidate.ticket = self.driver.start(self, candidate, operation)

    def settle(self) -> MethodResult | _Pending:
        """Merge finished candidates from the head on; return the round's outcome once it is known."""
        merged = self.driver.merged
        while self.head < len(self.candidates):
            candidate = self.candidates[self.head]
            if candidate.state is _State.ABANDONED:
                merged.add_attempts(candidate.run.attempts)
                self.head += 1
                continue
            if not candidate.run.live:
                replayed = None if candidate.state is _State.NEEDS_TURN else merged.replay(candidate.run)
                if replayed is None:
                    # Its speculation read something a higher-priority candidate changed (or it must ask
                    # the approver): run it again, now as the sequential run would. Usually that ends at
                    # once (the URL is now a loop); if patience already ran out and it needs I/O, the
                    # next pass of the loop abandons it.
                    self.candidates[self.head] = fresh = self._new(self.head, candidate.method, merged.fork(live=True))
                    fresh.rerun = True
                    self.step(fresh, None)
                    continue
                candidate.run.go_live(replayed)
                if candidate.held and candidate.operation is not None:
                    candidate.held = False
                    candidate.ticket = self.driver.start(self, candidate, candidate.operation)
            if candidate.state is _State.WAITING:  # its turn came before its start time: start it now
                candidate.state = _State.RUNNING
                self.step(candidate, None)
                continue
            if candidate.state is not _State.DONE:
                return _PENDING
            merged.absorb(candidate.run)
            if candidate.result is not None:
                return candidate.result
            self.head += 1
        return None

    def patience_ends(self) -> float | None:
        """When the higher-priority candidates still in flight must be abandoned, if a lower one answered."""
        patience = self.driver.patience
        if patience is None:
            return None
        for candidate in self.candidates[self.head + 1 :]:
            if candidate.state is _State.DONE and candidate.answered_at is not None:
                return candidate.answered_at + patience
        return None

    def abandon_before_answer(self) -> None:
        """Abandon every candidate in flight above the first lower-priority answer (patience ran out)."""
        answer = next(
            (c for c in self.candidates[self.head :] if c.state is _State.DONE and c.answered_at is not None), None
        )
        self.answer = answer
        for candidate in self.candidates[self.head : answer.index if answer is not None else None]:
            if candidate.state in (_State.RUNNING, _State.NEEDS_TURN):
                self.abandon(candidate)

    def abandon(self, candidate: _Candidate) -> None:
        """Give up on a candidate: it counts as never tried, and the trail says why."""
        now = self.driver.now()
        operation = candidate.operation
        target = target_of(operation) if operation is not None else candidate.method.value
        answer = self.answer
        why = "abandoned"
        if candidate.rerun:
            why += " after starting again on its turn (a higher-priority candidate changed what it had seen)"
        if answer is not None:
            why += f": {answer.method.name} had settings more than {self.driver.patience:g}s earlier"
        candidate.run.record(
            candidate.method, target, Outcome.ABANDONED, self.address, elapsed=round(now - candidate.started, 6),
            error=why,
        )  # fmt: skip
        candidate.state, candidate.ticket, candidate.operation = _State.ABANDONED, None, None
        candidate.flow.close()

    def stop_at_deadline(self) -> None:
        """Record the work cut short by the deadline, in priority order, into the merged trail."""
        merged = self.driver.merged
        now = self.driver.now()
        for candidate in self.candidates[self.head :]:
            merged.add_attempts(candidate.run.attempts)
            if candidate.state is _State.RUNNING and candidate.operation is not None:
                merged.add_attempts(
                    [_deadline_attempt(candidate.operation, str(self.address), round(now - candidate.started, 6))]
                )
            merged.credentials_rejected |= candidate.run.credentials_rejected
            candidate.flow.close()


class _Pending:
    pass


_PENDING = _Pending()


class ConcurrentDriver:
    """Runs every method's candidate at once and merges them in priority order (see the module docstring)."""

    def __init__(
        self,
        seams: Seams,
        run: Run,
        methods: Sequence[Method],
        *,
        patience: float | None,
        deadline: float,
        max_workers: int | None = None,
        stagger: float = STAGGER,
    ) -> None:
        self.seams = seams
        self.stagger = stagger
        self.merged = run
        self.methods = tuple(methods)
        self.patience = patience
        self.deadline = deadline
        self._tickets: dict[int, tuple[_Round, _Candidate]] = {}
        self._next_ticket = 0
        self._max_workers = max_workers
        self._executor = self._new_executor()

    def _new_executor(self) -> _Executor:
        clock = self.seams.clock
        if callable(getattr(clock, "branch", None)) and callable(getattr(clock, "advance_to", None)):
            return _SimulatedExecutor(self.seams, clock)  # type: ignore[arg-type]
        # Each candidate has at most one operation in flight, plus one for a re-run on its turn; a new
        # round gets a new pool, so work the old round left behind cannot delay it.
        return _ThreadExecutor(self.seams, self._max_workers or 2 * len(self.methods))

    def now(self) -> float:
        """The clock's time."""
        return self.seams.clock.monotonic()

    def start(self, round_: _Round, candidate: _Candidate, operation: Operation) -> int:
        """Start an operation with a timeout bounded by the time left; return its ticket."""
        ticket = self._next_ticket
        self._next_ticket += 1
        self._tickets[ticket] = (round_, candidate)
        left = max(0.0, self.deadline - self.now())
        self._executor.start(ticket, operation, min(left, self.seams.request_timeout))
        return ticket

    def drive(self, address: EmailAddress) -> Outcomes:
        """Discover for ``address``, restarting on ``redirectAddr``, until an answer or the deadline."""
        try:
            return self._drive(address)
        finally:
            self._executor.close()

    def _drive(self, address: EmailAddress) -> Outcomes:
        round_ = _Round(self, address)
        while True:
            outcome = round_.settle()
            due: float | None = None
            if isinstance(outcome, _Pending):
                started, due = round_.start_due()
                if started:
                    continue  # it may have finished at once (a loop, say): settle again before waiting
            if isinstance(outcome, Found):
                return outcome, False
            if isinstance(outcome, EmailAddress):
                self._tickets.clear()  # the old round's work is not waited for (sequential: discarded)
                if isinstance(self._executor, _ThreadExecutor):
                    self._executor.close()
                    self._executor = self._new_executor()
                round_ = _Round(self, outcome)
                continue
            if outcome is None:
                return None, False
            patience_ends = round_.patience_ends()
            until = min(t for t in (self.deadline, patience_ends, due) if t is not None)
            if patience_ends is not None and patience_ends <= self.now():
                event = self._executor.next_reply(self.now())  # a reply that is already here still counts
                if event is None:
                    round_.abandon_before_answer()
                else:
                    self._deliver(event)
                continue
            if self.now() >= self.deadline:
                if patience_ends is not None:  # the deadline ends patience too: return what we have
                    round_.abandon_before_answer()
                    outcome = round_.settle()
                    if isinstance(outcome, Found):
                        return outcome, False
                round_.stop_at_deadline()
                return None, True
            event = self._executor.next_reply(until)
            if event is not None:
                self._deliver(event)

    def _deliver(self, event: tuple[int, Reply]) -> None:
        ticket, reply = event
        owner = self._tickets.pop(ticket, None)
        if owner is not None and owner[1].ticket == ticket:  # else abandoned, discarded or replaced work
            owner[0].step(owner[1], reply)
