#!/bin/bash
# Download, on a machine with PyPI, the wheels that tests/tts/test_xtts.py needs on a GPU
# machine that already has torch + torchaudio (2.11, CUDA) but no internet: coqui-tts, a
# transformers 4.x its generation code runs with, and earful's own light dependencies.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-.whl}
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --abi cp312 --abi abi3 --abi none \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
  -d "$dest" -r "$here/wheels.txt"
