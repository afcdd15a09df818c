"""parse_email: strict address parsing before any I/O (DESIGN §3 "Input", PROTOCOL.md §1.4, §8.1, §8.4 rule 6)."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from autodiscover_client import AutodiscoverError, EmailAddress, InvalidEmailError, parse_email

_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _refuses(text: object, *fragments: str) -> str:
    """Assert ``parse_email`` refuses ``text`` with a message containing every fragment; return the message."""
    with pytest.raises(InvalidEmailError) as info:
        parse_email(text)  # type: ignore[arg-type]
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    return message


# --- the exception type --------------------------------------------------------------------------


def test_invalid_email_error_is_a_value_error_and_an_autodiscover_error() -> None:
    """InvalidEmailError can be caught as ValueError (a bad argument) and as the package's base error."""
    assert issubclass(InvalidEmailError, ValueError)
    assert issubclass(InvalidEmailError, AutodiscoverError)
    with pytest.raises(ValueError, match="@"):
        parse_email("no-at-sign.example.com")


@pytest.mark.parametrize("value", [None, 42, b"user@example.com", ["user@example.com"], 3.5])
def test_non_str_input_is_refused(value: object) -> None:
    """Anything but a str is refused with InvalidEmailError naming the type, never TypeError."""
    _refuses(value, "must be a str", type(value).__name__)


# --- the one unquoted "@" ------------------------------------------------------------------------


def test_a_plain_address_parses() -> None:
    """A plain address gives its local part and domain unchanged."""
    assert EmailAddress("user", "example.com") == parse_email("user@example.com")


@pytest.mark.parametrize("text", ["a@b@c.com", "user@evil.example@example.com", "a@@example.com", "a\\@b@example.com"])
def test_several_unquoted_at_signs_are_refused(text: str) -> None:
    """More than one unquoted '@' is refused, because guessing the domain leaked credentials in 2017."""
    _refuses(text, "unquoted '@'", "exactly one")


def test_no_at_sign_is_refused() -> None:
    """An address without '@' is refused."""
    _refuses("user.example.com", "no '@'")


def test_quoted_local_part_may_hold_an_at_sign() -> None:
    """An '@' inside a quoted local part is not the separator; the domain is what follows the quote."""
    address = parse_email('"a@b"@example.com')
    assert '"a@b"' == address.local
    assert "example.com" == address.domain


@pytest.mark.parametrize("text", ['"a\\"b"@example.com', '"a\\\\"@example.com', '"a b"@example.com', '""@example.com'])
def test_quoted_local_parts_with_escapes_and_spaces_are_kept_verbatim(text: str) -> None:
    """A well-formed quoted local part (escaped quote, escaped backslash, space, empty) is kept as written."""
    assert text.rpartition("@")[0] == parse_email(text).local


@pytest.mark.parametrize("text", ['"a@example.com', '"@example.com', '"a\\"@example.com', 'user@"example.com'])
def test_unterminated_quotes_are_refused(text: str) -> None:
    """An opening quote without its closing quote is refused."""
    _refuses(text, "unterminated")


@pytest.mark.parametrize("text", ['a"b"@example.com', 'a."b"@example.com', 'x"y"z@example.com'])
def test_unquoted_text_before_quotes_is_refused(text: str) -> None:
    """A local part that starts unquoted and then has a quote mixes the two forms and is refused."""
    _refuses(text, "mixes quoted and unquoted")


@pytest.mark.parametrize(
    "text", ['"ab"c@example.com', '"a""b"@example.com', '"a"."b"@example.com', '"a"b"@c"@example.com']
)
def test_a_quoted_local_part_must_be_one_quoted_string(text: str) -> None:
    """A local part that starts with a quote must be exactly one quoted string, with nothing around it."""
    _refuses(text, "quoted local part", "exactly one quoted string")


# --- empty parts, white space, control characters ------------------------------------------------


@pytest.mark.parametrize(("text", "fragment"), [("", "empty"), ("@example.com", "empty local"), ("@", "empty local")])
def test_empty_address_or_local_part_is_refused(text: str, fragment: str) -> None:
    """An empty address or an empty local part is refused."""
    _refuses(text, fragment)


@pytest.mark.parametrize("text", ["user@", "user@."])
def test_empty_domain_is_refused(text: str) -> None:
    """An empty domain (or one that is only the root dot) is refused."""
    _refuses(text, "empty domain")


@pytest.mark.parametrize(
    "text",
    [
        " user@example.com",
        "user@example.com ",
        "us er@example.com",
        "user@exa mple.com",
        "user\t@example.com",
        "user@example.com\n",
        "user@example.com\r\n",
        "us\x00er@example.com",
        "user\x7f@example.com",
        "user\x80@example.com",
        "user@a\x85b.example",
        "user@ex\xa0ample.com",
        "user\u2028@example.com",
        "user\u3000@example.com",
        "\ud800@example.com",
        '"\udfff"@example.com',
        "user@ex\ud83dample.com",
        '"a\x01"@example.com',
    ],
)
def test_white_space_control_characters_and_lone_surrogates_are_refused(text: str) -> None:
    """White space (outside a quoted local part), C0/C1 controls, DEL and lone surrogates are refused."""
    _refuses(text, "white space, control characters or lone surrogates")


@pytest.mark.parametrize("text", ['"x"@exa mple.com', '"x"@example.com '])
def test_a_space_after_a_quoted_local_part_is_still_refused_in_the_domain(text: str) -> None:
    """The space allowed inside a quoted local part is not allowed in the domain."""
    _refuses(text, "not a valid IDNA 2008 name")


# --- the local part ------------------------------------------------------------------------------


def test_local_part_of_64_octets_is_accepted() -> None:
    """A local part of exactly 64 octets is accepted (RFC 5321 §4.5.3.1.1)."""
    assert "a" * 64 == parse_email("a" * 64 + "@example.com").local


@pytest.mark.parametrize("local", ["a" * 65, "é" * 33, '"' + "a" * 63 + '"'])
def test_local_part_over_64_octets_is_refused(local: str) -> None:
    """A local part over 64 octets, counted in UTF-8 and including quotes, is refused."""
    _refuses(local + "@example.com", "longer than 64 octets")


def test_local_part_length_counts_utf8_octets_not_characters() -> None:
    """32 two-octet characters (64 octets) are accepted where 33 (66 octets) are not."""
    assert "é" * 32 == parse_email("é" * 32 + "@example.com").local


@pytest.mark.parametrize("text", [".user@example.com", "user.@example.com", "us..er@example.com", ".@example.com"])
def test_leading_trailing_and_double_dots_in_the_local_part_are_refused(text: str) -> None:
    """Dots may only separate non-empty atoms in an unquoted local part."""
    _refuses(text, "empty dot-separated part")


@pytest.mark.parametrize("text", ["us(er@example.com", "us,er@example.com", "us[er]@example.com", "us:er@example.com"])
def test_specials_in_an_unquoted_local_part_are_refused(text: str) -> None:
    """Characters outside RFC 5322 atext need quoting, so unquoted they are refused."""
    _refuses(text, "need quoting")


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("Some.User@EXAMPLE.COM", "Some.User"),
        ("USER+Tag@Example.Com", "USER+Tag"),
        ("Jörg.ÅSE@example.com", "Jörg.ÅSE"),
        ("用户@example.com", "用户"),
        ("!#$%&'*+/=?^_`{|}~-@example.com", "!#$%&'*+/=?^_`{|}~-"),
    ],
)
def test_the_local_part_is_never_altered(text: str, local: str) -> None:
    """The local part comes back exactly as given: no case folding, no normalisation."""
    address = parse_email(text)
    assert local == address.local
    assert f"{local}@{address.domain}" == str(address)


# --- the domain: case, IDNA 2008, trailing dot ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("Some.User@EXAMPLE.COM", "example.com"),
        ("user@Mail.Example.Org", "mail.example.org"),
        ("user@Bücher.example", "xn--bcher-kva.example"),
        ("user@BÜCHER.EXAMPLE", "xn--bcher-kva.example"),
        ("user@XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example"),
        ("user@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\uff0e\uff43\uff4f\uff4d", "example.com"),
        ("user@\uff42ü\uff43\uff48\uff45\uff52.example", "xn--bcher-kva.example"),
        ("user@example。com", "example.com"),
        ("user@faß.de", "xn--fa-hia.de"),
        ("用户@例子.广告", "xn--fsqu00a.xn--4rr70v"),
    ],
)
def test_domains_become_lower_case_a_labels(text: str, domain: str) -> None:
    """Domains are mapped (UTS #46: case and width folding) and encoded to lower-case A-labels (IDNA 2008)."""
    assert domain == parse_email(text).domain


def test_sharp_s_is_not_mapped_to_ss() -> None:
    """IDNA 2008 is non-transitional: 'faß.de' and 'fass.de' are different domains."""
    assert parse_email("user@faß.de").domain != parse_email("user@fass.de").domain


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("user@example.com.", "example.com"),
        ("user@EXAMPLE.COM.", "example.com"),
        ("user@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\uff0e\uff43\uff4f\uff4d\uff0e", "example.com"),
        ("user@example.com\u3002", "example.com"),
    ],
)
def test_one_trailing_dot_is_dropped(text: str, domain: str) -> None:
    """One trailing root dot (in any of the forms UTS #46 maps to '.') is dropped."""
    assert domain == parse_email(text).domain


@pytest.mark.parametrize("text", ["user@example.com..", "user@.example.com", "user@example..com"])
def test_empty_labels_are_refused(text: str) -> None:
    """Empty labels (leading, double or a second trailing dot) are refused."""
    _refuses(text, "domain of")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("user@-bad.example", "hyphen"),
        ("user@bad-.example", "hyphen"),
        ("user@ab--cd.example", "hyphens in 3rd and 4th position"),
        ("user@ex_ample.com", "U+005F"),
        ("user@ex$ample.com", "U+0024"),
        ("user@a\u2620b.example", "U+2620"),
        ("user@exa\u200dmple.com", "U+200D"),
        ("user@xn--zz.example", "A-label"),
        ("user@xn--.example", "A-label"),
        ("user@\u0660\u0661.example", "directionality"),
    ],
)
def test_invalid_idna_2008_labels_are_refused_with_a_clear_message(text: str, fragment: str) -> None:
    """Labels IDNA 2008 forbids are refused; the message says so and why."""
    _refuses(text, "not a valid IDNA 2008 name", fragment)


# --- the domain: what cannot be a mail domain ----------------------------------------------------


@pytest.mark.parametrize("text", ["user@[1.2.3.4]", "user@[IPv6:2001:db8::1]"])
def test_domain_literals_are_refused(text: str) -> None:
    """Domain literals are refused: Autodiscover needs a name to build URLs from."""
    _refuses(text, "domain literal")


@pytest.mark.parametrize("text", ["user@localhost", "user@com", "a@b", "user@example."])
def test_single_label_domains_are_refused(text: str) -> None:
    """A domain with one label is refused."""
    _refuses(text, "single label")


@pytest.mark.parametrize(
    ("text", "suffix"),
    [("user@co.uk", "co.uk"), ("user@github.io", "github.io"), ("user@CO.UK", "co.uk"), ("user@foo.ck", "foo.ck")],
)
def test_public_suffix_domains_are_refused(text: str, suffix: str) -> None:
    """A domain that is a public suffix (ICANN or private section, wildcards included) is refused."""
    _refuses(text, "public suffix", repr(suffix))


@pytest.mark.parametrize("text", ["user@example.co.uk", "user@x.github.io", "user@www.ck", "user@a.b.c.example.co.uk"])
def test_domains_below_a_public_suffix_are_accepted(text: str) -> None:
    """Registrable domains and their subdomains are accepted, including a PSL exception rule (www.ck)."""
    assert text.partition("@")[2] == parse_email(text).domain


@pytest.mark.parametrize("text", ["user@1.2.3.4", "user@example.123", "user@127.0.0.1."])
def test_numeric_top_level_labels_are_refused(text: str) -> None:
    """A domain whose last label is numeric (such as an IPv4 address) is refused."""
    _refuses(text, "numeric label")


@pytest.mark.parametrize("text", ["user@123.example", "user@1example.com", "user@example.c0m"])
def test_digits_elsewhere_in_the_domain_are_fine(text: str) -> None:
    """Digits are allowed in labels; only an all-numeric last label is refused."""
    assert text.partition("@")[2] == parse_email(text).domain


def _domain_of_length(length: int) -> str:
    labels = ["a" * 63] * 3
    labels.append("b" * (length - 3 * 64))
    return ".".join(labels)


def test_domain_of_253_octets_is_accepted() -> None:
    """A domain of exactly 253 octets is accepted (RFC 1035 §2.3.4), with or without a root dot."""
    domain = _domain_of_length(253)
    assert 253 == len(domain)
    assert domain == parse_email(f"u@{domain}").domain
    assert domain == parse_email(f"u@{domain}.").domain


def test_domain_over_253_octets_is_refused() -> None:
    """A domain of 254 octets is refused."""
    _refuses("u@" + _domain_of_length(254), "domain of", "too long")


def test_label_of_63_octets_is_accepted_and_64_refused() -> None:
    """Labels may be 63 octets, not 64 (RFC 1035 §2.3.4)."""
    assert "a" * 63 + ".com" == parse_email("user@" + "a" * 63 + ".com").domain
    _refuses("user@" + "a" * 64 + ".com", "Label too long")


def test_an_idn_label_is_measured_after_encoding() -> None:
    """The 63-octet limit applies to the A-label, so a short U-label can still be too long."""
    _refuses("user@" + "ü" * 60 + ".example", "not a valid IDNA 2008 name")


# --- EmailAddress --------------------------------------------------------------------------------


def test_email_address_is_frozen_and_hashable() -> None:
    """EmailAddress is immutable and usable as a set member or dict key."""
    address = parse_email("User@Example.com")
    with pytest.raises(AttributeError):
        address.domain = "evil.example"  # type: ignore[misc]
    assert {address} == {EmailAddress("User", "example.com")}


# --- property --------------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "@",
        '"',
        ".",
        "\\",
        " ",
        "-",
        "a",
        "Z",
        "9",
        "ü",
        "ß",
        "。",
        "\uff0e",
        "[",
        "]",
        "xn--",
        "co.uk",
        "\x00",
        "\u200d",
        "\udc00",
    ]
)
_ADDRESSY = st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=12).map("".join)
_ANY_CHARACTER = st.characters(codec=None, exclude_categories=())  # surrogates included


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(), st.text(_ANY_CHARACTER, max_size=20), _ADDRESSY, st.builds("{}@{}".format, _ADDRESSY, _ADDRESSY)
    )
)
@example("a@b@c.com")
@example('"a@b"@Bücher.example.')
@example("\ud800@example.com")
def test_parse_email_returns_a_clean_address_or_raises_invalid_email_error(text: str) -> None:
    """For any text, parse_email returns an address with an LDH lower-case domain that round-trips, or refuses it."""
    try:
        address = parse_email(text)
    except InvalidEmailError:
        return
    labels = address.domain.split(".")
    assert len(labels) >= 2
    assert all(_LDH_LABEL.fullmatch(label) for label in labels), address.domain
    assert address.domain.isascii()
    assert address.domain == address.domain.lower()
    assert len(address.domain) <= 253
    assert address.local + "@" + address.domain == str(address)
    assert text.startswith(address.local)
    assert parse_email(str(address)) == address


def test_a_huge_input_is_not_echoed_whole_in_the_error() -> None:
    """A 5 MB line is no address: the message quotes its start and says how long it was."""
    with pytest.raises(InvalidEmailError) as caught:
        parse_email("x" * 5_000_000)
    assert len(str(caught.value)) < 200
    assert "5,000,000 characters" in str(caught.value)
