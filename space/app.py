"""Hugging Face Space entry point: the earful API with the Gradio demo mounted at /.

Spaces run ``python app.py`` and expect a web server on port 7860. The demo talks to the API
over HTTP on the same port, exactly as ``earful serve`` does.
"""

from __future__ import annotations

import logging
import os

from earful.config import Settings
from earful.demo.ui import mount_demo
from earful.service.address import local_url
from earful.service.app import create_app
from earful.service.server import serve

HOST = os.environ.get("EARFUL_HOST", "0.0.0.0")
PORT = int(os.environ.get("EARFUL_PORT", "7860"))

logging.basicConfig(level=logging.INFO)
# The default keyword model ships inside the installed package (package data).
settings = Settings(host=HOST, port=PORT)
app = create_app(settings)
mount_demo(app, local_url(HOST, PORT), settings.api_key)

if __name__ == "__main__":
    serve(app, HOST, PORT, settings.shutdown_grace_seconds)
