"""``earful transcribe`` / ``eval-asr``: unset flags leave the library's defaults alone."""

from __future__ import annotations

import argparse

import pytest

from earful.asr.options import ModelSpec, TranscribeOptions
from earful.cli import build_parser
from earful.cli.asr import cluster_from_args, decode_choices, model_choices, options_from_args
from earful.errors import InvalidOptionError


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


@pytest.mark.parametrize("command", [["transcribe", "a.wav"], ["eval-asr", "m.tsv"]])
def test_no_flags_pass_nothing(command: list[str]) -> None:
    args = parse(*command)
    assert decode_choices(args) == {} and model_choices(args) == {}
    assert TranscribeOptions(**decode_choices(args)) == TranscribeOptions()


def test_given_flags_reach_their_fields() -> None:
    args = parse("transcribe", "a.wav", "--language", "en", "--beam-size", "2",
                 "--batch-size", "4", "--no-vad", "--prompt", "Kennedy, Berlin",
                 "--repetition-penalty", "1.2", "--word-timestamps", "--model", "base",
                 "--engine", "transformers", "--device", "cuda", "--compute-type", "float16")
    assert decode_choices(args) == {
        "language": "en", "beam_size": 2, "batch_size": 4, "vad": False,
        "initial_prompt": "Kennedy, Berlin", "repetition_penalty": 1.2,
        "word_timestamps": True}
    assert model_choices(args) == {"name": "base", "engine": "transformers",
                                   "device": "cuda", "compute_type": "float16"}
    opts = TranscribeOptions(**decode_choices(args))
    assert (opts.beam_size, opts.vad, opts.initial_prompt) == (2, False, "Kennedy, Berlin")


def test_ray_options_default_to_the_cluster_defaults() -> None:
    from earful.asr.cluster import ClusterOptions

    assert cluster_from_args(parse("transcribe", "a.wav", "--ray")) == ClusterOptions()
    wide = cluster_from_args(parse("eval-asr", "m.tsv", "--ray", "--ray-address", "auto",
                                   "--workers", "3", "--cpus-per-worker", "2",
                                   "--gpus-per-worker", "0.5"))
    assert wide == ClusterOptions(address="auto", workers=3, cpus_per_worker=2.0,
                                  gpus_per_worker=0.5)


def test_settings_fill_in_the_model_and_bad_pairs_fail_early(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from earful.config import get_settings

    monkeypatch.setenv("EARFUL_ASR_COMPUTE_TYPE", "float32")
    get_settings.cache_clear()
    try:
        opts, spec = options_from_args(parse("transcribe", "a.wav", "--model", "base",
                                             "--language", "German"))
        assert spec == ModelSpec(name="base", compute_type="float32",
                                 cache_dir=get_settings().cache_dir)
        assert opts == TranscribeOptions(language="de")
        with pytest.raises(InvalidOptionError, match="English-only"):
            options_from_args(parse("transcribe", "a.wav", "--language", "fr"))
    finally:
        get_settings.cache_clear()
