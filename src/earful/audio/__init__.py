"""Audio basics: decoding, features, transforms and plots."""

from earful.audio.constants import SAMPLE_RATE
from earful.audio.features import (
    Feature,
    MelOptions,
    MfccOptions,
    StftOptions,
    log_mel,
    mel_spectrogram,
    mfcc,
    spectrogram,
)
from earful.audio.io import (
    AUDIO_EXTENSIONS,
    Audio,
    decode,
    encode_audio,
    load_audio,
    save_audio,
)
from earful.audio.transforms import (
    add_noise,
    gain,
    pink_noise,
    pitch_shift,
    resample,
    snr_db,
    time_shift,
    time_stretch,
    white_noise,
)

__all__ = [
    "AUDIO_EXTENSIONS", "SAMPLE_RATE", "Audio", "Feature", "MelOptions", "MfccOptions",
    "StftOptions", "add_noise", "decode", "encode_audio", "gain", "load_audio", "log_mel",
    "mel_spectrogram", "mfcc", "pink_noise", "pitch_shift", "resample", "save_audio",
    "snr_db", "spectrogram", "time_shift", "time_stretch", "white_noise",
]
