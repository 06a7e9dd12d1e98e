#!/bin/bash
# Run tests/tts/test_xtts.py (random-weight XTTS on cpu and cuda) on a GPU machine, from the
# repository root, with the wheels fetch_wheels.sh saved in .whl. The TTS conftest would skip
# the folder without Piper's voice, so pytest runs with --noconftest and the two fixtures the
# file needs come from xtts_fixtures.py. Usage: bash scripts/xtts_gpu/run.sh [OUT_DIR]
out=${1:-${OUT:-.}}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/xtts-site .whl/*.whl || exit 3
export PYTHONPATH=/tmp/xtts-site:$PWD/src:$PWD/scripts/xtts_gpu PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 - <<'PY' 2>&1 | tee "$out/versions.txt"
import sys
import tokenizers, torch, torchaudio, transformers, TTS
print("python", sys.version.split()[0], "torch", torch.__version__, "torchaudio",
      torchaudio.__version__, "transformers", transformers.__version__, "tokenizers",
      tokenizers.__version__, "coqui-tts", TTS.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
PY
python3 -m pytest --noconftest -p xtts_fixtures -p no:cacheprovider tests/tts/test_xtts.py \
  -v -rA --durations=5 2>&1 | tee "$out/pytest.log"
exit "${PIPESTATUS[0]}"
