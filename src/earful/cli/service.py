"""``earful serve`` and ``earful demo``."""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger("earful")


def _cmd_serve(args: argparse.Namespace) -> int:
    from earful.config import get_settings
    from earful.service.address import local_url
    from earful.service.app import create_app
    from earful.service.server import serve

    settings = get_settings()
    host, port = args.host or settings.host, args.port or settings.port
    app = create_app(settings)
    if settings.demo and not args.no_demo:
        from earful.demo.ui import mount_demo

        # The demo is a client of this very server, over HTTP like any other.
        url = local_url(host, port)
        if mount_demo(app, url, settings.api_key):
            logger.info("demo at %s/ , API docs at %s/docs", url, url)
    serve(app, host, port, settings.shutdown_grace_seconds)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from earful.config import get_settings
    from earful.demo.client import EarfulClient
    from earful.demo.ui import EXAMPLES, build_demo

    demo = build_demo(EarfulClient(args.api_url, get_settings().api_key))
    demo.launch(server_name=args.host, server_port=args.port, allowed_paths=[str(EXAMPLES)])
    return 0


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the HTTP service, with the web demo at /")
    p.add_argument("--host", default=None, help="bind address (default: the EARFUL_HOST "
                                                "setting, 127.0.0.1 unless set)")
    p.add_argument("--port", type=int, default=None, help="port (default: the EARFUL_PORT "
                                                         "setting, 8000 unless set)")
    p.add_argument("--no-demo", action="store_true", help="serve the API only")
    p.set_defaults(handler=_cmd_serve)


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the web demo alone against an earful API")
    p.add_argument("--api-url", default="http://127.0.0.1:8000", help="the API's base URL")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(handler=_cmd_demo)


REGISTRARS = [_add_serve, _add_demo]
