"""Window sharing with strangers: WER when random requests share a Whisper window.

Run: EARFUL_DATA=../shared/data .venv/bin/python benchmarks/asr_window_sharing.py
Held out: ... asr_window_sharing.py --corpus speakers50 --name asr_window_sharing_speakers50

``benchmarks/asr_batching.py`` measures the batcher under load, where which requests share a
window depends on when each arrives; with N clients walking one corpus in order, the
neighbours are nearly always the same few utterances of the same speaker. A service's
concurrent requests are strangers: other speakers, other texts. This benchmark takes timing
out of it: for each seed it shuffles the corpus, cuts the shuffled list into runs of
``size`` requests, packs each run into shared windows exactly as the batcher does
(:func:`earful.asr.packing.group`), and decodes them with
:func:`earful.asr.packing.decode_shared`. A request that the shared decode hands back (left
for a next window, or its window failed a check) is decoded in its own window, as the
batcher would once its tries run out. The control run sets
``packing.MIN_TOKENS_PER_SECOND`` to 0, turning off the check that a shared window did not
skip one request's speech.

On a corpus with references it reports corpus WER; on ``speakers50`` (50 LibriSpeech
speakers, one utterance each, no references) it reports how many words differ from the
one-at-a-time transcript (WER of one against the other), which is what sharing changes.
"""

from __future__ import annotations

import argparse
import random
from concurrent.futures import Future
from pathlib import Path

from _common import data_dir, save, table
from earful.asr import packing
from earful.asr.decoding import attach, decode_batch
from earful.asr.engines import get_model
from earful.asr.evaluate import get_normaliser, read_manifest, score
from earful.asr.options import ModelSpec, TranscribeOptions
from earful.asr.transcribe import transcribe
from earful.asr.windows import Request, Window, assemble, prepare
from earful.audio.io import load_audio

OPTS = TranscribeOptions(language="en")
#: --corpus: folder under speech/, whether it has references, how the table names it.
CORPORA = {"librispeech": ("librispeech_test_other", True,
                           "LibriSpeech test-other subset, 3 speakers (development)"),
           "read_speech": ("read_speech", True, "read sentences, 1 speaker, held out"),
           "speakers50": ("voices_librispeech", False,
                          "50 LibriSpeech speakers, held out, no references")}


def load(folder: Path, has_refs: bool) -> tuple[list[str], list[str] | None]:
    """Audio paths and, where the corpus has them, reference texts."""
    if has_refs:
        rows = read_manifest(folder / "transcripts.tsv")
        return [str(path) for path, _ in rows], [text for _, text in rows]
    return sorted(str(p) for p in folder.glob("*.flac")), None


def shared_texts(model: object, spec: ModelSpec, audios: list, alone: list[str],
                 order: list[int], size: int) -> tuple[list[str], int, int]:
    """Transcripts when the requests, in ``order``, share windows in runs of ``size``.

    Returns:
        The texts (by corpus index), requests transcribed in a shared window, and requests
        that could share but were handed back and decoded in their own window.
    """
    requests = {}
    for i in order:
        req = Request(audios[i], OPTS, Future())
        prepare(model, req)
        requests[i] = req
    shareable = [i for i in order if len(requests[i].windows) == 1
                 and packing.can_share(requests[i].windows[0])]
    handed_back: list[Window] = []
    for start in range(0, len(shareable), size):
        run = [requests[i].windows[0] for i in shareable[start:start + size]]
        groups = packing.group(run, len(run))
        handed_back += packing.decode_shared(model, groups)
    # Handed back: decoded in its own window with the batcher's own-window path.
    pending = list(handed_back)
    while pending:
        window = pending.pop(0)
        for done, rest in decode_batch(model, [window]):
            attach(done, rest)
            pending.append(rest)
    texts = []
    for i in range(len(audios)):
        if i in shareable:
            texts.append(assemble(requests[i], spec).text)
        else:
            texts.append(alone[i])  # not shareable: the batcher decodes it alone
    return texts, len(shareable) - len(handed_back), len(handed_back)


def token_rates(model: object, audios: list, alone: list[str]) -> list[float]:
    """Text tokens per second of VAD speech of each request that may share a window, in
    its one-at-a-time transcript: what ``packing.MIN_TOKENS_PER_SECOND`` must stay under."""
    rates = []
    for audio, text in zip(audios, alone, strict=True):
        req = Request(audio, OPTS, Future())
        prepare(model, req)
        if len(req.windows) == 1 and packing.can_share(req.windows[0]):
            speech = req.windows[0].audio
            assert speech is not None
            rates.append(len(req.tokenizer.encode(" " + text.strip())) / (len(speech) / 16000))
    return sorted(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="librispeech")
    parser.add_argument("--seeds", type=int, default=8, help="random orders per setting")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 3],
                        help="requests per run packed together")
    parser.add_argument("--name", default="asr_window_sharing",
                        help="results file name in benchmarks/results/")
    args = parser.parse_args()
    folder, has_refs, title = CORPORA[args.corpus]
    paths, refs = load(data_dir() / "speech" / folder, has_refs)
    audios = [load_audio(p) for p in paths]
    norm = get_normaliser("english")
    spec = ModelSpec()
    model = get_model(spec)
    alone = [transcribe(a, OPTS, spec).text for a in audios]
    reference = refs if refs is not None else alone
    base = score(reference, alone, norm).wer
    metric = "WER" if refs is not None else "words changed"
    check = packing.MIN_TOKENS_PER_SECOND
    rows: list[list[object]] = [["one at a time", "-", f"{100 * base:.2f}%", "-", "-", "-"]]
    raw: dict[str, object] = {"corpus": folder, "metric": metric, "one_at_a_time": base,
                              "utterances": len(audios), "settings": []}
    rates = token_rates(model, audios, alone)
    raw["token_rates"] = rates
    summary = [f"- decoded alone, the {len(rates)} requests that may share gave "
               f"{rates[0]:.2f}-{rates[-1]:.2f} text tokens per second of speech (median "
               f"{rates[len(rates) // 2]:.2f}); a shared window is decoded again when one of "
               f"its requests gets under {check:.1f}"]
    for size in args.sizes:
        for floor in (check, 0.0):
            packing.MIN_TOKENS_PER_SECOND = floor
            wers, shared, back, worst = [], 0, 0, 0.0
            for seed in range(args.seeds):
                order = list(range(len(audios)))
                random.Random(seed).shuffle(order)
                texts, n_shared, n_back = shared_texts(model, spec, audios, alone, order, size)
                wers.append(score(reference, texts, norm).wer)
                shared += n_shared
                back += n_back
                worst = max(worst, max(score([a], [t], norm).wer
                                       for a, t in zip(alone, texts, strict=True) if a.strip()))
            packing.MIN_TOKENS_PER_SECOND = check
            mean = sum(wers) / len(wers)
            how = f"runs of {size}, skip check {'on' if floor else 'off'}"
            rows.append([how, args.seeds, f"{100 * mean:.2f}% ({100 * min(wers):.2f}-"
                         f"{100 * max(wers):.2f}%)", f"{100 * (mean - base):+.2f}",
                         f"{shared}/{back}", f"{100 * worst:.0f}%"])
            raw["settings"].append({"size": size, "min_tokens_per_second": floor,  # type: ignore[attr-defined]
                                    "wers": wers, "shared": shared, "handed_back": back,
                                    "worst_request_change": worst})
            summary.append(f"- {how}: {metric} {100 * mean:.2f}% on average over {args.seeds} "
                           f"random orders, {100 * (mean - base):+.2f} points against one at a "
                           "time")
            print(rows[-1], flush=True)
    markdown = (f"### Window sharing with strangers (tiny.en int8, beam 5, {title}: "
                f"{len(audios)} utterances, {args.seeds} random orders per row)\n\n"
                + table(["how", "orders", f"{metric} mean (range)", "points vs one at a time",
                         "requests shared / handed back", "worst single request changed"],
                        rows)
                + "\n\n" + "\n".join(summary)
                + "\n\nShared / handed back count requests over all orders; handed-back ones "
                "were decoded in their own window. \"Worst single request changed\": the most "
                "words of one request's one-at-a-time transcript that differ in its shared "
                "one, over all orders (100% means a request lost its own words).")
    save(args.name, markdown, raw)


if __name__ == "__main__":
    main()
