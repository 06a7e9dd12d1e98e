"""Hugging Face Space entry point: the earful API with the Gradio demo mounted at /.

Spaces run ``python app.py`` and expect a web server on port 7860. The demo talks to the API
over HTTP on the same port, exactly as ``earful serve`` does.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import uvicorn

from earful.cli_service import local_url
from earful.config import Settings
from earful.demo.ui import mount_demo
from earful.service.app import create_app

HOST = os.environ.get("EARFUL_HOST", "0.0.0.0")
PORT = int(os.environ.get("EARFUL_PORT", "7860"))

logging.basicConfig(level=logging.INFO)
# `pip install .` puts earful in site-packages; the keyword model ships beside this file.
KWS = Path(__file__).resolve().parent / "models" / "kws12-whisper" / "model.pt"
overrides = {"classify_model": KWS} if KWS.is_file() and "EARFUL_CLASSIFY_MODEL" not in \
    os.environ else {}
settings = Settings(host=HOST, port=PORT, **overrides)
app = create_app(settings)
mount_demo(app, local_url(HOST, PORT), settings.api_key)

if __name__ == "__main__":
    uvicorn.run(app, host=HOST, port=PORT, access_log=False)
