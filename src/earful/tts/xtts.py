"""Coqui XTTS-v2: neural voice cloning from a few seconds of reference, 17 languages.

The weights (about 1.8 GB) are under the Coqui Public Model License, which allows
non-commercial use only, so earful never fetches them on its own: point
``EARFUL_XTTS_MODEL_DIR`` at a folder holding ``config.json``, ``model.pth`` and
``vocab.json``, or set ``EARFUL_XTTS_ACCEPT_LICENSE=true`` to let coqui-tts download them
(this records your acceptance of the license).

References are decoded by earful and handed to coqui as tensors: coqui's own file loading
goes through torchaudio, which does not install beside every torch build.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from earful.audio.transforms import resample
from earful.errors import DependencyMissingError, InvalidOptionError, ModelNotAvailableError
from earful.tts.reference import Reference, ReferenceCache
from earful.tts.result import Speech
from earful.tts.text import clean_text, speakable_sentences

logger = logging.getLogger(__name__)

MODEL_NAME = "tts_models/multilingual/multi-dataset/xtts_v2"
OUTPUT_RATE = 24000
#: Characters per generation call, per language (XTTS's tokenizer limits).
CHAR_LIMITS: dict[str, int] = {
    "en": 250, "de": 253, "fr": 273, "es": 239, "it": 213, "pt": 203, "pl": 224, "zh": 82,
    "ar": 166, "cs": 186, "ru": 182, "nl": 251, "tr": 226, "ja": 71, "hu": 224, "ko": 95,
    "hi": 150,
}
LANGUAGES = tuple(CHAR_LIMITS)
#: Conditioning computed from references kept in memory (most recent first out).
LATENT_CACHE_SIZE = 32
GAP_SECONDS = 0.15


def xtts_language(language: str) -> str:
    """Normalise a language code for XTTS (``zh-cn`` -> ``zh``) and check it is supported."""
    code = language.lower().split("-")[0].split("_")[0]
    if code not in CHAR_LIMITS:
        raise InvalidOptionError(f"XTTS-v2 does not speak '{language}'; languages: "
                                 f"{', '.join(LANGUAGES)}")
    return code


def _import_coqui() -> tuple[Any, Any]:
    try:
        from TTS.tts.configs.xtts_config import XttsConfig
        from TTS.tts.models.xtts import Xtts
    except (ImportError, OSError) as e:
        # OSError: a torchaudio built for another torch fails while loading its libraries.
        raise DependencyMissingError(
            "coqui-tts (with a torchaudio matching your torch)", "xtts",
            f"XTTS-v2 voice cloning ({type(e).__name__}: {e})") from e
    return XttsConfig, Xtts


def _download(accept_license: bool) -> Path:
    if not accept_license:
        raise ModelNotAvailableError(
            "XTTS-v2 weights are not installed. They are under the Coqui Public Model License "
            "(non-commercial use only): set EARFUL_XTTS_MODEL_DIR to a folder with "
            "config.json, model.pth and vocab.json, or set EARFUL_XTTS_ACCEPT_LICENSE=true to "
            "accept the license and download them")
    from TTS.utils.manage import ModelManager

    # coqui asks for the license on stdin unless this is set; the user accepted it above.
    os.environ["COQUI_TOS_AGREED"] = "1"
    try:
        model_path, _, _ = ModelManager(progress_bar=True).download_model(MODEL_NAME)
    except Exception as e:
        raise ModelNotAvailableError(f"could not download XTTS-v2: {e}") from e
    return Path(model_path)


def load_xtts(model_dir: str | None = None, device: str = "cpu",
              accept_license: bool = False) -> XttsEngine:
    """Load XTTS-v2 (the registry's ``tts.xtts`` loader).

    Args:
        model_dir: Folder with ``config.json``, ``model.pth`` and ``vocab.json``; ``None``
            downloads the official weights when ``accept_license`` is true.
        device: ``cpu`` or ``cuda``.
        accept_license: The user accepts the Coqui Public Model License.

    Raises:
        DependencyMissingError: coqui-tts (or a working torchaudio) is not installed.
        ModelNotAvailableError: No weights and no license acceptance, or a broken folder.
    """
    config_cls, model_cls = _import_coqui()
    folder = Path(model_dir) if model_dir else _download(accept_license)
    missing = [n for n in ("config.json", "model.pth") if not (folder / n).is_file()]
    if missing:
        raise ModelNotAvailableError(f"the XTTS model folder lacks {', '.join(missing)}")
    config = config_cls()
    config.load_json(str(folder / "config.json"))
    model = model_cls(config)
    try:
        model.load_checkpoint(config, checkpoint_dir=str(folder), eval=True)
    except Exception as e:
        raise ModelNotAvailableError(f"could not load XTTS-v2 from its folder: {e}") from e
    model.to(device)
    return XttsEngine(model, device)


class XttsEngine:
    """A loaded XTTS-v2 model with a per-voice conditioning cache."""

    def __init__(self, model: Any, device: str = "cpu") -> None:
        self.model = model
        self.device = device
        self._latents: ReferenceCache[tuple[Any, Any]] = ReferenceCache(LATENT_CACHE_SIZE)

    def conditioning(self, reference: Reference) -> tuple[Any, Any]:
        """GPT conditioning latents and speaker embedding, cached by reference content."""
        return self._latents.get(reference, self._condition)

    @property
    def cache_hits(self) -> int:
        """How often a reference's conditioning came from the cache."""
        return self._latents.hits

    def _condition(self, reference: Reference) -> tuple[Any, Any]:
        import torch

        # XTTS conditions its GPT on 22.05 kHz audio and its speaker encoder on 16 kHz.
        x22 = torch.from_numpy(resample(reference.samples, reference.sample_rate, 22050))
        x16 = torch.from_numpy(resample(reference.samples, reference.sample_rate, 16000))
        with torch.inference_mode():
            gpt = self.model.get_gpt_cond_latents(x22.unsqueeze(0).to(self.device), 22050)
            speaker = self.model.get_speaker_embedding(x16.unsqueeze(0).to(self.device), 16000)
        return gpt, speaker

    def clone(self, text: str, reference: Reference, language: str = "en", speed: float = 1.0,
              *, voice: str = "reference") -> Speech:
        """Speak ``text`` in the reference's voice, one sentence per generation call."""
        import torch

        lang = xtts_language(language)
        text = clean_text(text)
        start = time.perf_counter()
        gpt, speaker = self.conditioning(reference)
        cond = time.perf_counter() - start
        gap = np.zeros(int(GAP_SECONDS * OUTPUT_RATE), dtype=np.float32)
        parts: list[np.ndarray] = []
        start = time.perf_counter()
        for sentence in speakable_sentences(text, lang, CHAR_LIMITS[lang]):
            with torch.inference_mode():
                out = self.model.inference(sentence, lang, gpt, speaker, speed=speed,
                                           enable_text_splitting=False)
            wav = out["wav"]
            wav = wav.detach().cpu().numpy() if hasattr(wav, "detach") else np.asarray(wav)
            if parts:
                parts.append(gap)
            parts.append(np.asarray(wav, dtype=np.float32).reshape(-1))
        samples = np.clip(np.concatenate(parts), -1.0, 1.0)
        return Speech(samples=samples, sample_rate=OUTPUT_RATE, text=text, voice=voice,
                      engine="xtts", timings={"conditioning": cond,
                                              "synthesis": time.perf_counter() - start})
