"""Numbers the whole package agrees on."""

#: The sample rate every speech model in earful works at (Whisper, Silero VAD, the
#: keyword models, the speaker encoder): audio is decoded to this before they see it.
SAMPLE_RATE = 16000
