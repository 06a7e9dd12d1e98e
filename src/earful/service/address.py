"""Where a client on this machine reaches the service."""

from __future__ import annotations


def local_url(host: str, port: int) -> str:
    """The base URL a process on this machine uses to reach a server bound to ``host``.

    A wildcard bind address (``0.0.0.0``, ``::`` or empty) is where the server listens,
    not an address to connect to, so clients such as the web demo mounted in the server
    use the loopback address for it.
    """
    connect = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{connect}:{port}"
