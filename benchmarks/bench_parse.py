"""Parse cost: bytes -> typed settings for a typical Exchange response, against a bare defusedxml parse.

Run: python benchmarks/bench_parse.py [--quick]
Target (issue 4): parse_response() <= 1.5 x defusedxml.ElementTree.fromstring() of the same bytes.
Both are measured side by side in this run, as medians over repetitions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import timeit
from collections.abc import Callable

import defusedxml.ElementTree

from autodiscover_client import SettingsDocument, parse_response
from autodiscover_client.testing import protocol_xml, settings_body

try:
    from _common import verdict
except ImportError:  # run as a module
    from benchmarks._common import verdict

DOMAIN = "contoso.example"


def typical_exchange_response() -> bytes:
    """An Exchange 2016-shaped Outlook response (about 6 KB): EXCH, EXPR, two EXHTTP, IMAP, SMTP."""
    paths = {
        "ASUrl": "EWS/Exchange.asmx",
        "EwsUrl": "EWS/Exchange.asmx",
        "EmwsUrl": "EWS/Exchange.asmx",
        "EcpUrl": "owa/",
        "EcpUrl-um": "?path=/options/callanswering",
        "EcpUrl-aggr": "?path=/options/connectedaccounts",
        "EcpUrl-mt": "PersonalSettings/DeliveryReport.aspx",
        "EcpUrl-ret": "?path=/options/retentionpolicies",
        "EcpUrl-sms": "?path=/options/textmessaging",
        "EcpUrl-publish": "customize/calendarpublishing.slab",
        "EcpUrl-photo": "PersonalSettings/EditAccount.aspx",
        "EcpUrl-tm": "?ftr=TeamMailbox",
        "OOFUrl": "EWS/Exchange.asmx",
        "UMUrl": "EWS/UM2007Legacy.asmx",
        "OABUrl": "OAB/0f3a2c1e/",
    }
    common: dict[str, object] = {name: f"https://mail.{DOMAIN}/{path}" for name, path in paths.items()}
    common.update(Server=f"mail.{DOMAIN}", ServerVersion="73C18880", TTL=1)
    servers = f"/o=Contoso/ou=Exchange Administrative Group/cn=Configuration/cn=Servers/cn={'A' * 16}@{DOMAIN}"
    exch = protocol_xml(
        "EXCH", ServerDN=servers, MdbDN=f"{servers}/cn=Microsoft Private MDB", PublicFolderServer=f"mail.{DOMAIN}",
        AD=f"dc1.{DOMAIN}", AuthPackage="Negotiate", **common,
    )  # fmt: skip
    outside = {"SSL": "On", "AuthPackage": "Ntlm", "CertPrincipalName": "None", **common}
    login = {"LoginName": f"someone@{DOMAIN}", "SPA": "off", "AuthRequired": "on"}
    protocols = [
        exch,
        protocol_xml("EXPR", GroupingInformation="Europe", **outside),
        protocol_xml("EXHTTP", **outside),
        protocol_xml("EXHTTP", **outside),
        protocol_xml("IMAP", Server=f"imap.{DOMAIN}", Port=993, SSL="on", **login),
        protocol_xml(
            "SMTP",
            Server=f"smtp.{DOMAIN}",
            Port=587,
            SSL="off",
            Encryption="TLS",
            UsePOPAuth="on",
            SMTPLast="off",
            **login,
        ),
    ]
    return settings_body(protocols=protocols, display_name="Someone Example", email=f"someone@{DOMAIN}")


def main(argv: list[str] | None = None) -> int:
    """Measure and print; exit 0 if the target is met, 1 if not."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    body = typical_exchange_response()
    assert isinstance(parse_response(body), SettingsDocument)
    number, repeat = (50, 21) if args.quick else (100, 61)

    def per_call(call: Callable[[], object]) -> float:
        return timeit.timeit(call, number=number) / number

    ours_runs, bare_runs, ratios = [], [], []
    for _ in range(repeat):
        # Back to back, in pairs: other load on the machine then hits both sides of each ratio alike.
        bare = per_call(lambda: defusedxml.ElementTree.fromstring(body, forbid_dtd=True))
        ours = per_call(lambda: parse_response(body))
        bare_runs.append(bare)
        ours_runs.append(ours)
        ratios.append(ours / bare)
    bare, ours, ratio = statistics.median(bare_runs), statistics.median(ours_runs), statistics.median(ratios)
    print(f"bench_parse: a typical Exchange response of {len(body)} bytes")
    print(f"  medians of {repeat} paired runs of {number} calls each")
    print(f"  defusedxml.ElementTree.fromstring   {bare * 1e6:8.1f} us")
    print(f"  parse_response (typed settings)     {ours * 1e6:8.1f} us   (median ratio {ratio:.2f} x)")
    best = min(ours_runs) / min(bare_runs)
    print(f"  best of each: {min(bare_runs) * 1e6:.1f} us vs {min(ours_runs) * 1e6:.1f} us ({best:.2f} x)")
    print(f"  load average while measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (on {os.cpu_count()} CPUs)")
    met = verdict("parse <= 1.5 x defusedxml", ratio <= 1.5, f"{ratio:.2f} x")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
