"""Speaker-attributed transcripts: each word gets the speaker who was talking during it,
and segments are split where the speaker changes."""

from __future__ import annotations

import re
from dataclasses import replace

from earful.asr.result import Segment, Transcript, Word
from earful.diarize.result import Diarization

_NUMBERED = re.compile(r"SPEAKER_(\d+)")


def display_name(speaker: str) -> str:
    """How a speaker is shown to people: ``SPEAKER_1`` -> ``Speaker 1``; a name as is."""
    m = _NUMBERED.fullmatch(speaker)
    return f"Speaker {m.group(1)}" if m else speaker


def _split(seg: Segment, words: list[Word], first_id: int) -> list[Segment]:
    runs: list[list[Word]] = []
    for w in words:
        if runs and runs[-1][-1].speaker == w.speaker:
            runs[-1].append(w)
        else:
            runs.append([w])
    out = []
    for i, run in enumerate(runs):
        start = seg.start if i == 0 else run[0].start
        end = seg.end if i == len(runs) - 1 else run[-1].end
        text = seg.text if len(runs) == 1 else "".join(w.word for w in run).strip()
        out.append(replace(seg, id=first_id + i, start=start, end=end, text=text, words=run,
                           speaker=run[0].speaker))
    return out


def attribute_speakers(transcript: Transcript, diarization: Diarization) -> Transcript:
    """``transcript`` with a speaker on every segment and word.

    A word goes to the speaker with the most speech during it (or the nearest turn's
    speaker, for a word in a pause); a segment with word timestamps is split into one
    segment per run of words of one speaker, a segment without them goes to the speaker
    with the most speech during it.
    """
    segments: list[Segment] = []
    for seg in transcript.segments:
        if seg.words:
            words = [replace(w, speaker=diarization.speaker_at(w.start, w.end))
                     for w in seg.words]
            segments += _split(seg, words, len(segments))
        else:
            segments.append(replace(seg, id=len(segments),
                                    speaker=diarization.speaker_at(seg.start, seg.end)))
    return replace(transcript, segments=segments)
