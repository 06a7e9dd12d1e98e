# The earful service with the web demo at / (API docs at /docs), CPU only.
#   docker build -t earful .
#   docker run -p 7860:7860 earful        # then open http://localhost:7860/
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    EARFUL_HOST=0.0.0.0 EARFUL_PORT=7860 \
    EARFUL_OUTPUT_DIR=/data/outputs EARFUL_VOICE_STORE=/data/voices
WORKDIR /app

# torch first, as a CPU build (PyPI's default torch is a multi-GB CUDA build).
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "$TORCH_INDEX" torch==2.13.0

COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY space/app.py ./app.py
RUN pip install ".[asr,classify,service,tts,demo]" && useradd --create-home earful \
    && mkdir -p /data && chown earful /data
USER earful
VOLUME /data
EXPOSE 7860
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/health')"
CMD ["python", "app.py"]
