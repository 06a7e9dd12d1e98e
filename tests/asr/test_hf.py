"""The transformers engine, wired end to end with tiny randomly initialised models.

No pretrained Wav2Vec2 or transformers-format Whisper can be downloaded here, so these
tests build small random models, save them with ``save_pretrained`` and load them back by
folder. They prove the wiring (loading, chunking, timestamps, result shape), not accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from earful.asr.bundled import resolve_model
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.transcribe import transcribe
from earful.audio.io import load_audio
from earful.errors import InvalidOptionError, ModelNotAvailableError

transformers = pytest.importorskip("transformers", reason="needs the transformers extra")


@pytest.fixture(scope="module")
def wav2vec2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    folder = tmp_path_factory.mktemp("w2v2")
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, **{c: i + 3 for i, c in
                                                 enumerate("abcdefghijklmnopqrstuvwxyz'")}}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(folder / "vocab.json"), word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000,
                                         return_attention_mask=True)
    config = Wav2Vec2Config(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=37,
                            conv_dim=(32, 32, 32), conv_stride=(5, 4, 4),
                            conv_kernel=(10, 4, 4), num_conv_pos_embeddings=16,
                            num_conv_pos_embedding_groups=2, pad_token_id=0)
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import (
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    folder = tmp_path_factory.mktemp("whisper")
    base = Path(resolve_model("base", tmp_path_factory.mktemp("cache")))
    eot = "<|endoftext|>"
    tokenizer = WhisperTokenizerFast(tokenizer_file=str(base / "tokenizer.json"),
                                     unk_token=eot, bos_token=eot, eos_token=eot, pad_token=eot)
    config = WhisperConfig(vocab_size=len(tokenizer), d_model=32, encoder_layers=1,
                           decoder_layers=1, encoder_attention_heads=2,
                           decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                           max_source_positions=1500, max_target_positions=64,
                           decoder_start_token_id=tokenizer.convert_tokens_to_ids(
                               "<|startoftranscript|>"),
                           pad_token_id=tokenizer.pad_token_id,
                           eos_token_id=tokenizer.eos_token_id)
    model = WhisperForConditionalGeneration(config)
    # The special-token ids every released Whisper checkpoint's generation config carries.
    gen = model.generation_config
    ids = tokenizer.convert_tokens_to_ids
    gen.max_length = 16
    gen.no_timestamps_token_id = ids("<|notimestamps|>")
    gen.prev_sot_token_id = ids("<|startofprev|>")
    gen.is_multilingual = False
    gen.max_initial_timestamp_index = 50
    gen._from_model_config = False  # else it is rebuilt from the model config on load
    model.save_pretrained(folder)
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(),
                     tokenizer=tokenizer).save_pretrained(folder)
    return folder


def test_wav2vec2_ctc_from_folder(wav2vec2_dir: Path, test_data: Path) -> None:
    audio = load_audio(test_data / "jfk.wav")
    result = transcribe(audio, TranscribeOptions(word_timestamps=True),
                        ModelSpec(engine="transformers", name=str(wav2vec2_dir)))
    assert result.engine == "transformers" and result.duration == pytest.approx(11.0)
    assert isinstance(result.text, str)
    for seg in result.segments:
        assert 0 <= seg.start <= seg.end <= result.duration
        assert all(0 <= w.start <= w.end <= result.duration for w in seg.words or [])


def test_whisper_from_folder_long_form(whisper_dir: Path, test_data: Path) -> None:
    one = load_audio(test_data / "jfk.wav")
    audio = np.concatenate([one] * 4)  # 44 s: exercises the pipeline's 30 s chunking
    result = transcribe(audio, TranscribeOptions(beam_size=1),
                        ModelSpec(engine="transformers", name=str(whisper_dir)))
    assert result.engine == "transformers" and result.duration == pytest.approx(44.0)
    assert isinstance(result.text, str)
    assert all(0 <= s.start <= s.end <= 44.0 for s in result.segments)


def test_unknown_transformers_model_is_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match="save_pretrained"):
        transcribe(np.zeros(16000, np.float32), TranscribeOptions(),
                   ModelSpec(engine="transformers", name=str(tmp_path / "none")))


def test_ctc_model_refuses_a_language(wav2vec2_dir: Path) -> None:
    with pytest.raises(InvalidOptionError, match="CTC"):
        transcribe(np.zeros(16000, np.float32), TranscribeOptions(language="fr"),
                   ModelSpec(engine="transformers", name=str(wav2vec2_dir)))
