"""Who spoke when: offline speaker diarization.

The pipeline (:mod:`earful.diarize.pipeline`) finds speech with Silero VAD (shipped inside
faster-whisper), embeds overlapping windows of it with Resemblyzer's speaker encoder
(shipped inside its wheel; held through the model manager as ``speaker-encoder``),
clusters the embeddings (:mod:`earful.diarize.cluster`, scikit-learn) and turns the window
labels into speaker turns (:class:`~earful.diarize.result.Diarization`), moving changes
into nearby pauses and reporting overlapped speech at changes without one
(:mod:`earful.diarize.overlap`). Nothing is downloaded and no token is needed.

Also here: the speaker attribution of transcripts (:mod:`earful.diarize.attribute`), DER
and JER (:mod:`earful.diarize.metrics`, pyannote.metrics) and a seeded conversation
simulator that builds test recordings with reference RTTM (:mod:`earful.diarize.simulate`).
"""

from earful.diarize.options import DiarizeOptions
from earful.diarize.result import Diarization, Overlap, Turn

__all__ = ["Diarization", "DiarizeOptions", "Overlap", "Turn"]
