"""Which web addresses may be shown to citizens as links ("Nguồn:" lines, document pages).

A document's ``source`` comes from whoever supplied the file (an uploaded page's canonical link,
a ``.txt`` ``source:`` line), so it is untrusted: it becomes a link only when it points into an
allow-listed domain (``KB_SOURCE_LINK_DOMAINS``, ``gov.vn`` by default — the domain and its
subdomains). Anything else stays metadata text and the reply links the console's own page of
the document instead.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DEFAULT_LINK_DOMAINS = ("gov.vn",)
"""Domains (with their subdomains) whose addresses replies may link to."""

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_link_domains(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Domains from a setting: ``"gov.vn, quangbinh.gov.vn"`` → ``("gov.vn", "quangbinh.gov.vn")``.

    Internationalised names are stored in their ASCII (``xn--``) form; an empty value allows no
    domain at all (only the console's own pages are linked).

    Raises:
        ValueError: an entry that is not a bare domain name (a scheme, port, path, ``*``…).

    >>> parse_link_domains("gov.vn, Bộ-Nội-Vụ.vn")
    ('gov.vn', 'xn--b-ni-v-3n8bc5i.vn')
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        domain = item.strip().lower().rstrip(".")
        if not domain:
            continue
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_domain = ""
        labels = ascii_domain.split(".")
        if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
            raise ValueError(f"link domains are bare domain names such as gov.vn, got {item!r}")
        if ascii_domain not in out:
            out.append(ascii_domain)
    return tuple(out)


def allowed_link(url: str, domains: tuple[str, ...] = DEFAULT_LINK_DOMAINS) -> bool:
    """True when ``url`` is a plain http(s) address on one of ``domains`` or a subdomain.

    Refused: other schemes (``javascript:``, ``data:``), user info (``https://gov.vn@evil.com``),
    a port other than the scheme's own, a host that is not plain ASCII letters, digits, ``-`` and
    ``.`` (look-alike letters, percent-encoded hosts), and any space, control character or
    backslash (browsers read ``\\`` as ``/`` and drop tabs, so the host they open would differ).

    >>> allowed_link("https://quangbinh.gov.vn/tin-tuc/1331")
    True
    >>> [allowed_link(u) for u in ("https://gov.vn.evil.com/", "https://evil.com/?gov.vn",
    ...                            "https://user@gov.vn.evil.com", "javascript:alert(1)//gov.vn")]
    [False, False, False, False]
    """
    if not url or not url.isascii() or any(c <= " " or c in "\\\x7f" for c in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc.strip():
        return False
    if "@" in parts.netloc or port not in (None, _DEFAULT_PORTS[scheme]):
        return False
    host = (parts.hostname or "").rstrip(".")
    labels = host.split(".")
    if not host or not all(_LABEL.match(label) for label in labels):
        return False
    return any(host == d or host.endswith("." + d) for d in domains)
