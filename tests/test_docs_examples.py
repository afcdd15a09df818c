"""Every code example in ``docs/`` runs, and every trail shown in the docs is what the library prints.

* Each fenced ``python`` block of each page under ``docs/`` runs, in page order, in one namespace per page
  (like a REPL session), with ``docs/examples/`` importable and every socket kept on loopback. A block
  followed by a ``text title="Output"`` block must print that output (compared like a doctest with
  ``ELLIPSIS``: ``...`` matches anything).
* A block preceded by ``<!-- no-test: REASON -->`` is only compiled; such blocks must give a reason and
  stay rare (at most two per page).
* A ``text`` block preceded by ``<!-- trail: NAME -->`` must equal what scenario ``NAME`` below prints when
  run against the kit's real local DNS and HTTPS servers, so the troubleshooting page shows real failures.
  ``python tests/test_docs_examples.py`` prints every scenario's output; ``… --write`` rewrites the blocks.

Pages written later are picked up automatically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import doctest
import importlib.util
import io
import ipaddress
import logging
import os
import re
import subprocess
import sys
import threading
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autodiscover_client import DiscoveryError, DnspythonResolver, RequestsTransport, discover
from autodiscover_client.testing import LocalAutodiscoverServer, LocalDnsServer, settings_body
from autodiscover_client.testing._https_server import RecordedRequest, ServerResponse, html_page, redirect

DOCS = Path(__file__).resolve().parent.parent / "docs"
MAX_UNTESTED_PER_PAGE = 2

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<kind>no-test|trail)\s*:\s*(?P<value>.*?)\s*-->\s*$")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """One fenced code block of a page."""

    page: str
    line: int  # 1-based line of the first code line
    language: str
    info: str
    code: str
    marker: tuple[str, str] | None  # ("no-test", reason) or ("trail", name) from the line before the fence

    @property
    def is_output(self) -> bool:
        return self.language == "text" and 'title="Output"' in self.info


def blocks_of(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, with the marker comment just above each (if any)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence, info = opening["indent"], opening["fence"], opening["info"].strip()
        previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = _MARKER.match(previous)
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        body = [line[len(indent) :] if line.startswith(indent) else line for line in lines[index + 1 : end]]
        found.append(
            Block(
                page=path.relative_to(DOCS).as_posix(),
                line=index + 2,
                language=(info.split() or [""])[0].lower(),
                info=info,
                code="\n".join(body) + "\n",
                marker=(marker["kind"], marker["value"]) if marker else None,
            )
        )
        index = end + 1
    return found


def pages() -> list[Path]:
    return sorted(path for path in DOCS.rglob("*.md") if "_hooks" not in path.parts)


def matches(expected: str, actual: str) -> bool:
    checker = doctest.OutputChecker()
    return checker.check_output(expected, actual, doctest.ELLIPSIS)


@pytest.mark.parametrize("page", pages(), ids=lambda path: path.relative_to(DOCS).as_posix())
def test_python_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every python block of the page runs in order, and prints the Output block that follows it."""
    blocks = blocks_of(page)
    monkeypatch.chdir(tmp_path)  # examples that write files write them somewhere disposable
    if (DOCS / "examples").is_dir():  # pages may import the helper modules kept in docs/examples/
        monkeypatch.syspath_prepend(str(DOCS / "examples"))
    with _logging_restored(), _loopback_only() as reached:
        try:
            _run_page(page, blocks)
        finally:
            assert [] == reached, (
                f"docs/{page.name}: an example tried to leave the machine; use the fakes or the local servers "
                "of autodiscover_client.testing, or mark the block <!-- no-test: REASON -->"
            )


class _NetworkGuard:
    """An audit hook (PEP 578) that refuses, while armed, every socket operation aimed beyond loopback.

    Examples run in this process, and one that calls ``discover()`` without fakes would otherwise query the
    system's DNS servers. The guard makes that fail loudly instead. Audit hooks cannot be removed, so the
    hook is installed once and armed only while a page runs.
    """

    def __init__(self) -> None:
        self.armed = False
        self.reached: list[str] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[object, ...]) -> None:
        if not self.armed:
            return
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg") and len(args) >= 2:
            target = args[1]
            host = target[0] if isinstance(target, tuple) and target else None
        elif event == "socket.getaddrinfo" and args:
            host = args[0]
        else:
            return
        if isinstance(host, bytes):
            host = host.decode(errors="replace")
        if host is None or not isinstance(host, str) or _is_loopback(host):
            return
        self.reached.append(f"{event} {host}")
        raise PermissionError(f"docs examples stay on loopback; {event} to {host} refused")


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a name would go to the system's resolver


_GUARD = _NetworkGuard()


@contextlib.contextmanager
def _loopback_only() -> Iterator[list[str]]:
    _GUARD.armed, _GUARD.reached = True, []
    try:
        yield _GUARD.reached
    finally:
        _GUARD.armed = False


@contextlib.contextmanager
def _logging_restored() -> Iterator[None]:
    """Undo what the logging examples configure, so one page's handlers and levels leak into no other test."""
    loggers = [logging.getLogger(), logging.getLogger("autodiscover_client")]
    saved = [(logger, logger.level, list(logger.handlers)) for logger in loggers]
    try:
        yield
    finally:
        for logger, level, handlers in saved:
            logger.setLevel(level)
            for handler in logger.handlers[:]:
                if handler not in handlers:
                    logger.removeHandler(handler)


def _run_page(page: Path, blocks: list[Block]) -> None:
    # A real module in sys.modules, so that examples defining dataclasses or pickling their own classes work.
    module = types.ModuleType(f"docs_example_{re.sub(r'[^0-9A-Za-z_]', '_', page.stem)}")
    sys.modules[module.__name__] = module
    try:
        _run_blocks(page, blocks, module.__dict__)
    finally:
        del sys.modules[module.__name__]


def _run_blocks(page: Path, blocks: list[Block], namespace: dict[str, object]) -> None:
    untested = 0
    for number, block in enumerate(blocks):
        if block.language not in ("python", "py"):
            continue
        # Offset the code so tracebacks point at the page's own line numbers.
        code = compile("\n" * (block.line - 1) + block.code, f"docs/{block.page}", "exec")
        if block.marker is not None and block.marker[0] == "no-test":
            assert block.marker[1], f"docs/{block.page}:{block.line}: <!-- no-test: --> needs a reason"
            untested += 1
            continue
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(code, namespace)  # noqa: S102 - the docs' own examples, run as tests
        following = blocks[number + 1] if number + 1 < len(blocks) else None
        if following is not None and following.is_output:
            assert matches(following.code, output.getvalue()), (
                f"docs/{block.page}:{block.line} printed:\n{output.getvalue()}\nbut the page shows:\n{following.code}"
            )
    assert untested <= MAX_UNTESTED_PER_PAGE, f"docs/{page.name}: {untested} untested blocks; keep them rare"


def test_the_site_builds_without_warnings(tmp_path: Path) -> None:
    """``mkdocs build --strict`` passes: no broken link, missing page or docstring griffe cannot parse."""
    if os.environ.get("CI") == "true":
        pytest.skip("CI builds the site with --strict as a step of its own (.ci/run); no need to do it twice")
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (it comes with the docs extra: pip install -e '.[docs]')")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=DOCS.parent,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert 0 == result.returncode, result.stderr
    assert (tmp_path / "site" / "reference" / "api" / "index.html").exists()


def test_the_docs_have_examples() -> None:
    """The harness finds python blocks (a parser that finds none would pass every page vacuously)."""
    found = [block for page in pages() for block in blocks_of(page) if block.language == "python"]
    assert len(found) >= 10
    assert {"index.md", "usage.md"} <= {block.page for block in found}


def test_untested_blocks_say_why() -> None:
    """Each no-test marker carries a reason, and the harness sees the markers it is meant to see."""
    markers = [block for page in pages() for block in blocks_of(page) if block.marker]
    for block in markers:
        assert block.marker is not None
        assert block.marker[1], f"docs/{block.page}:{block.line}"
    assert any(block.marker and block.marker[0] == "trail" for block in markers)


# --- Real failures for docs/troubleshooting.md ----------------------------------------------------------

DOMAIN = "example.test"
EMAIL = f"jane@{DOMAIN}"
PASSWORD = "her-password"
SETTINGS = ServerResponse(
    headers=(("Content-Type", "text/xml"),),
    body=settings_body(ews_url=f"https://mail.{DOMAIN}/EWS/Exchange.asmx"),
)
Setup = Callable[[LocalDnsServer, LocalAutodiscoverServer, threading.Event], None]


def _no_probe(dns_server: LocalDnsServer, web: LocalAutodiscoverServer) -> None:
    # The plain-http probe gets a 404 from a host of our own, so no scenario depends on port 80 being free.
    web.add_host(f"autodiscover.{DOMAIN}", ServerResponse(status=404), scheme="http")
    dns_server.add_a(f"autodiscover.{DOMAIN}", "127.0.0.1")


def _wrong_password(dns_server: LocalDnsServer, web: LocalAutodiscoverServer, _: threading.Event) -> None:
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS, credentials=(EMAIL, "not-her-password"))
    _no_probe(dns_server, web)


def _web_site_and_wrong_certificate(
    dns_server: LocalDnsServer, web: LocalAutodiscoverServer, _: threading.Event
) -> None:
    web.add_host(DOMAIN, html_page())
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS, cert_hostnames=[f"www.{DOMAIN}"])
    dns_server.add_a(DOMAIN, "127.0.0.1")
    _no_probe(dns_server, web)


def _redirect_denied(dns_server: LocalDnsServer, web: LocalAutodiscoverServer, _: threading.Event) -> None:
    web.add_host(
        f"autodiscover.{DOMAIN}", redirect("https://autodiscover.mail-host.test/autodiscover/autodiscover.xml")
    )
    _no_probe(dns_server, web)


def _srv_to_another_domain(dns_server: LocalDnsServer, web: LocalAutodiscoverServer, _: threading.Event) -> None:
    dns_server.add_srv(f"_autodiscover._tcp.{DOMAIN}", "autodiscover.mail-host.test", 443)
    web.add_host(DOMAIN, ServerResponse(status=403))
    web.add_host(f"autodiscover.{DOMAIN}", ServerResponse(status=503))
    dns_server.add_a(DOMAIN, "127.0.0.1")
    _no_probe(dns_server, web)


def _slow_server(dns_server: LocalDnsServer, web: LocalAutodiscoverServer, released: threading.Event) -> None:
    def stall(_request: RecordedRequest) -> ServerResponse:
        released.wait(5.0)  # bounded, and released as soon as the client has given up
        return SETTINGS

    web.add_host(DOMAIN, stall)
    dns_server.add_a(DOMAIN, "127.0.0.1")
    _no_probe(dns_server, web)


SCENARIOS: dict[str, tuple[Setup, float]] = {
    "wrong-password": (_wrong_password, 30.0),
    "web-site-and-wrong-certificate": (_web_site_and_wrong_certificate, 30.0),
    "redirect-denied": (_redirect_denied, 30.0),
    "srv-to-another-domain": (_srv_to_another_domain, 30.0),
    "deadline": (_slow_server, 1.0),
}


def run_scenario(name: str) -> str:
    """Run one scenario over real sockets and return what a user sees: the error's type and ``str()``."""
    setup, timeout = SCENARIOS[name]
    released = threading.Event()
    with LocalDnsServer() as dns_server, LocalAutodiscoverServer() as web:
        setup(dns_server, web, released)
        resolver = DnspythonResolver(nameservers=[dns_server.address], timeout=2.0)
        try:
            with RequestsTransport(
                ca_bundle=web.ca_bundle, connect_to=web.connect_overrides, resolver=resolver
            ) as transport:
                discover(EMAIL, PASSWORD, resolver=resolver, transport=transport, timeout=timeout)
        except DiscoveryError as error:
            return f"{type(error).__name__}: {error}\n"
        finally:
            released.set()
    raise AssertionError(f"scenario {name} found settings; it is meant to fail")


def trail_blocks() -> Iterator[Block]:
    for page in pages():
        for block in blocks_of(page):
            if block.marker is not None and block.marker[0] == "trail":
                yield block


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_troubleshooting_trails_are_real(name: str) -> None:
    """The trail the docs show for a scenario is what the library prints for it over real sockets."""
    shown = [block for block in trail_blocks() if block.marker == ("trail", name)]
    assert shown, f"no <!-- trail: {name} --> block in docs/"
    actual = run_scenario(name)
    assert PASSWORD not in actual
    for block in shown:
        assert matches(block.code, actual), (
            f"docs/{block.page}:{block.line} shows:\n{block.code}\nreal:\n{actual}\n"
            "(if the change is right, rewrite the page: python tests/test_docs_examples.py --write)"
        )


def test_every_trail_block_names_a_scenario() -> None:
    """A trail block in the docs names a scenario this file runs (so none goes unchecked)."""
    for block in trail_blocks():
        assert block.marker is not None
        assert block.marker[1] in SCENARIOS, f"docs/{block.page}:{block.line}"


def rewrite_trails() -> None:
    """Replace every trail block in docs/ with what its scenario prints now."""
    for page in pages():
        text = page.read_text(encoding="utf-8")

        def fresh(match: re.Match[str]) -> str:
            return f"{match['head']}{run_scenario(match['name'])}```"

        new = re.sub(r"(?P<head><!-- trail: (?P<name>\S+) -->\n```text\n).*?```", fresh, text, flags=re.S)
        if new != text:
            page.write_text(new, encoding="utf-8")
            print(f"rewrote the trails in {page}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        rewrite_trails()
    else:
        for scenario in sys.argv[1:] or sorted(SCENARIOS):
            print(f"<!-- trail: {scenario} -->\n```text\n{run_scenario(scenario)}```\n")
