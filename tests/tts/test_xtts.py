"""XTTS-v2 wiring.

coqui-tts imports torchaudio at module level, and on machines where no torchaudio matches the
installed torch it cannot be imported at all: there the tests check earful's side (clear
errors, languages, the license gate) and the end-to-end test skips with the reason. Where it
imports, a randomly initialised small XTTS (the real classes, 2 layers) is saved, loaded
through ``load_xtts`` and made to speak: the weights are meaningless, the wiring is not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from earful.errors import DependencyMissingError, InvalidOptionError, ModelNotAvailableError
from earful.tts.xtts import CHAR_LIMITS, OUTPUT_RATE, load_xtts, xtts_language


def _coqui_importable() -> str | None:
    try:
        import TTS.tts.models.xtts  # noqa: F401
    except Exception as e:  # ImportError, or OSError from a mismatched torchaudio
        return f"{type(e).__name__}: {e}"
    return None


COQUI_ERROR = _coqui_importable()
needs_coqui = pytest.mark.skipif(
    COQUI_ERROR is not None,
    reason=f"coqui-tts cannot be imported here ({COQUI_ERROR}); install coqui-tts with a "
           "torchaudio built for this torch")


def test_languages() -> None:
    assert xtts_language("zh-cn") == "zh"
    assert xtts_language("EN") == "en"
    assert len(CHAR_LIMITS) == 17
    with pytest.raises(InvalidOptionError, match="does not speak 'xx'"):
        xtts_language("xx")


@pytest.mark.skipif(COQUI_ERROR is None, reason="coqui-tts is importable here")
def test_missing_coqui_is_a_clear_dependency_error(tmp_path: Path) -> None:
    with pytest.raises(DependencyMissingError, match=r"earful\[xtts\]"):
        load_xtts(str(tmp_path))


@needs_coqui
def test_license_must_be_accepted_before_download() -> None:
    with pytest.raises(ModelNotAvailableError, match="Coqui Public Model License"):
        load_xtts(None, accept_license=False)


@needs_coqui
def test_incomplete_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match=r"lacks config\.json, model\.pth"):
        load_xtts(str(tmp_path))


def _tiny_xtts(folder: Path) -> None:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from TTS.tts.configs.xtts_config import XttsConfig
    from TTS.tts.layers.xtts.tokenizer import VoiceBpeTokenizer
    from TTS.tts.models.xtts import Xtts, XttsArgs

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["[STOP]", "[UNK]", "[SPACE]", "[START]"] + [f"[{c}]" for c in CHAR_LIMITS]
    tok.train_from_iterator(["ask not what your country can do for you",
                             "the quick brown fox jumps over the lazy dog"] * 10,
                            trainers.BpeTrainer(special_tokens=specials, vocab_size=120))
    tok.save(str(folder / "vocab.json"))
    config = XttsConfig()
    config.model_args = XttsArgs(gpt_layers=2, gpt_n_model_channels=256, gpt_n_heads=4,
                                 decoder_input_dim=256, gpt_max_audio_tokens=120,
                                 tokenizer_file=str(folder / "vocab.json"))
    model = Xtts(config)
    model.tokenizer = VoiceBpeTokenizer(vocab_file=str(folder / "vocab.json"))
    model.init_models()
    torch.save({"model": model.state_dict()}, folder / "model.pth")
    config.save_json(str(folder / "config.json"))


def _cuda_available() -> bool:
    if COQUI_ERROR is not None:
        return False  # torch is only worth importing here when coqui can run at all
    import torch

    return bool(torch.cuda.is_available())


@needs_coqui
@pytest.mark.slow
@pytest.mark.parametrize("device", [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not _cuda_available(),
                                                  reason="no CUDA device here")),
])
def test_random_weight_xtts_speaks_through_earful(tmp_path: Path, jfk_reference: Any,
                                                  device: str) -> None:
    _tiny_xtts(tmp_path)
    engine = load_xtts(str(tmp_path), device=device)
    assert next(engine.model.parameters()).device.type == device
    long = "Ask not what your country can do for you. " * 8  # over the 250-character limit
    speech = engine.clone(long, jfk_reference, "en")
    assert speech.sample_rate == OUTPUT_RATE and speech.engine == "xtts"
    assert speech.samples.size > 0 and np.isfinite(speech.samples).all()
    engine.clone("Again.", jfk_reference, "en")
    assert engine.cache_hits == 1  # conditioning computed once per reference
