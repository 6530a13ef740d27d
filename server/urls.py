"""Canonical URLs: one article, one address, whatever tracking decorated the link."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, never the content.
TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid", "mc_cid",
    "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "ocid", "cmpid", "ito", "ns_campaign",
    "ns_mchannel", "ns_source", "ns_medium", "ns_linkname", "ns_fee", "sr_share", "smid", "smtyp",
    "ref_src", "ref_url", "spm", "s_cid", "guccounter", "guce_referrer", "guce_referrer_sig",
    "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4", "__twitter_impression",
}
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "oly_", "vero_")


class BadUrl(ValueError):
    pass


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def canonical_url(url: str, hint: str | None = None) -> str:
    """The address an article is known by.

    `hint` is the page's own <link rel=canonical> (or og:url); it wins when it is a usable http(s) URL,
    because publishers use it to collapse their many addresses for one article.
    """
    base = clean_url(url)
    if hint:
        try:
            return clean_url(urljoin(base, hint.strip()))
        except BadUrl:
            pass
    return base


def clean_url(url: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise BadUrl("the page has no URL")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BadUrl(f"only http and https pages can be captured, not {scheme or 'this address'}")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise BadUrl("the URL has no host")
    port = parts.port
    netloc = host if port in (None, 80 if scheme == "http" else 443) else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" + (f":{port}" if port else "")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)])
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, query, ""))


def domain_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host
