"""The command line's question before a denied redirect is followed (DESIGN §4 rule 3, PROTOCOL.md §4).

Outlook asks "Allow this website to configure <email> server settings?" when Autodiscover is redirected
(KB 2480582); the ``autodiscover`` command asks the same, but only after a run ended with nothing but
denied redirects, and only when a person is at a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ._errors import RedirectDeniedError
from ._models import Attempt, Outcome, Settings

MAX_PROMPT_ROUNDS = 5  # each round needs a "yes"; the hop budget ends a redirect chain anyway


def run_asking(
    attempt: Callable[[Sequence[str]], Settings],
    email: str,
    *,
    interactive: bool,
    ask: Callable[[str], str] = input,
) -> Settings:
    """Run discovery; if it ends with only denied redirects and a person is at a terminal, ask and rerun.

    The question is Outlook's (PROTOCOL.md §4, KB 2480582): "Allow this website to configure <email>
    server settings?" Only an explicit "y" or "yes" allows the host; anything else keeps the denial.
    The run is repeated from the start with the approved hosts added to the allowed hosts, so the
    user's thinking time never counts against the deadline.

    Args:
        attempt: Runs discovery with these extra allowed hosts.
        email: The address, for the question.
        interactive: Whether to ask at all (standard input and output are a terminal, no ``--json``).
        ask: Shows the question and returns the answer (``input`` by default).
    """
    approved: list[str] = []
    for _round in range(MAX_PROMPT_ROUNDS):
        try:
            return attempt(tuple(approved))
        except RedirectDeniedError as exc:
            if not interactive:
                raise
            fresh = [(host, target) for host, target in denied_redirects(exc.attempts) if host not in approved]
            allowed = [host for host, target in fresh if _confirm(ask, email, target)]
            if not allowed:
                raise
            approved.extend(allowed)
    return attempt(tuple(approved))


def _confirm(ask: Callable[[str], str], email: str, target: str) -> bool:
    from ._cli import printable  # the command line's own escaping; it imports this module lazily

    # The target comes from the server: U+202E or a new line in it must not disguise what is approved.
    question = (
        f"\nAllow this website to configure {printable(email)} server settings?\n  {printable(target)}\n"
        "Your account was redirected to this website for settings. "
        "You should only allow settings from sources you know and trust. [y/N] "
    )
    try:
        answer = ask(question)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def denied_redirects(attempts: Sequence[Attempt]) -> list[tuple[str, str]]:
    """``(host, target)`` of each distinct denied redirect in the trail, in order."""
    found: list[tuple[str, str]] = []
    for attempt in attempts:
        # Refusals that no approval can lift (http targets, bad paths) have no denied_host.
        host, target = attempt.denied_host, attempt.redirect_target
        if attempt.outcome is Outcome.REDIRECT_DENIED and host and target and (host, target) not in found:
            found.append((host, target))
    return found
