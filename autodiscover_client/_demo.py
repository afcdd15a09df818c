"""``autodiscover demo``: discovery over real sockets against servers the command starts itself.

Nothing leaves the machine: a DNS server and HTTPS hosts listen on 127.0.0.1 with a throwaway CA, and
the default resolver and transport (dnspython, requests) talk to them exactly as they would to the
Internet. The scenario shows Outlook's fallback: SRV points at a dead host, the root domain is a web
site, and ``autodiscover.<domain>`` answers after a 401 challenge.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Sequence

DESCRIPTION = (
    "Run discovery against servers this command starts itself: a DNS server and HTTPS hosts on 127.0.0.1 "
    "with a throwaway CA, so nothing leaves the machine. It shows Outlook's fallback: SRV points at a dead "
    "host, the root domain is a web site, and autodiscover.example.test answers after a 401 challenge. "
    "Needs the testing extra."
)
DOMAIN = "example.test"
EMAIL = f"demo.user@{DOMAIN}"


def run_demo(argv: Sequence[str]) -> int:
    """Run the demonstration; return the CLI exit code."""
    parser = argparse.ArgumentParser(prog="autodiscover demo", description=DESCRIPTION)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(list(argv))
    try:
        from .testing._builders import protocol_xml, settings_body
        from .testing._dns_server import LocalDnsServer
        from .testing._https_server import LocalAutodiscoverServer, ServerResponse, html_page
        from .testing._local import refused_port
    except ImportError as exc:
        sys.stderr.write(
            f"autodiscover demo needs the testing extra ({exc.name} is missing): "
            "pip install 'autodiscover-client[testing]'\n"
        )
        return 2
    from ._api import Discoverer
    from ._cli import print_summary, print_trail, printable
    from ._dns import DnspythonResolver
    from ._errors import DiscoveryError
    from ._http import RequestsTransport

    password = secrets.token_urlsafe(12)  # never printed: secrets stay out of output (DESIGN §4 rule 7)
    body = settings_body(
        display_name="Demo User",
        email=EMAIL,
        protocols=[
            protocol_xml(
                "EXPR",
                Server=f"mail.{DOMAIN}",
                SSL="On",
                AuthPackage="Basic",
                EwsUrl=f"https://mail.{DOMAIN}/EWS/Exchange.asmx",
                OABUrl=f"https://mail.{DOMAIN}/OAB/",
            ),
        ],
        imap=(f"imap.{DOMAIN}", 993),
        smtp=(f"smtp.{DOMAIN}", 587),
    )
    with LocalDnsServer() as dns_server, LocalAutodiscoverServer() as web:
        web.add_host(DOMAIN, html_page())
        web.add_host(
            f"autodiscover.{DOMAIN}",
            ServerResponse(status=200, headers=(("Content-Type", "text/xml"),), body=body),
            credentials=(EMAIL, password),
        )
        dead = refused_port()
        dns_server.add_srv(f"_autodiscover._tcp.{DOMAIN}", f"mail.{DOMAIN}", dead, priority=0, weight=10)
        for name in (DOMAIN, f"autodiscover.{DOMAIN}", f"mail.{DOMAIN}"):
            dns_server.add_a(name, "127.0.0.1")
        resolver = DnspythonResolver(nameservers=[dns_server.address], timeout=2.0)
        transport = RequestsTransport(ca_bundle=web.ca_bundle, connect_to=web.connect_overrides, resolver=resolver)
        if not args.json:
            host, port = dns_server.address
            print(f"Demo: DNS server on {host}:{port} (UDP+TCP); HTTPS hosts on loopback with a throwaway CA.")
            print(f"  SRV _autodiscover._tcp.{DOMAIN} -> mail.{DOMAIN}:{dead} (nothing listens there)")
            print(f"  https://{DOMAIN}/ is a web site: it answers HTML")
            print(f"  https://autodiscover.{DOMAIN}/ asks for credentials, then answers settings")
            print(f"Discovering {EMAIL} with the default resolver and transport...\n")
        with transport, Discoverer(resolver=resolver, transport=transport, timeout=20.0) as discoverer:
            try:
                settings = discoverer.discover(EMAIL, password)
            except DiscoveryError as exc:
                print(json.dumps(exc.to_dict(), indent=2) if args.json else printable(str(exc)))
                return 1
        if args.json:
            print(json.dumps(settings.to_dict(), indent=2))
            return 0
        print_summary(sys.stdout, settings)
        print()
        print_trail(sys.stdout, settings.attempts)
        hosts = sorted({f"{scheme} {host}" for scheme, host, _ in web.credentials_seen()})
        print(f"\nCredentials arrived at: {', '.join(hosts) or 'nowhere'} (and nowhere else).")
    return 0
