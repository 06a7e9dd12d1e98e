"""``earful serve``."""

from __future__ import annotations

import argparse


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from earful.config import get_settings
    from earful.service.app import create_app

    settings = get_settings()
    app = create_app(settings)
    uvicorn.run(app, host=args.host or settings.host, port=args.port or settings.port,
                log_level="info", access_log=False)
    return 0


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the HTTP service (FastAPI under uvicorn)")
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")
    p.set_defaults(handler=_cmd_serve)


REGISTRARS = [_add_serve]
