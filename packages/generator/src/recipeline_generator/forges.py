"""Code forges known to serve every repository page over https: the one list the builders share."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

#: Hosts whose ``http://`` repository pages are the same pages over ``https://`` (they redirect
#: http to https themselves), so upgrading the scheme publishes no URL nobody checked.
FORGE_HOSTS: tuple[str, ...] = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org")


def https_on_forge(url: str) -> str | None:
    """``http://<forge>/...`` as ``https://<forge>/...``; ``None`` for any other URL.

    ``www.github.com`` counts as ``github.com``; credentials, ports and other hosts are not
    upgraded (an http URL elsewhere may have no https counterpart).
    """
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() != "http" or parts.username or parts.password or port is not None:
        return None
    host = host.removeprefix("www.")
    if host not in FORGE_HOSTS:
        return None
    return urlunsplit(("https", host, parts.path, parts.query, parts.fragment))
