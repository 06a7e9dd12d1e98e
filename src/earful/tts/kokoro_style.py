"""Kokoro voices as points in a small space: mixtures of the bundled packs plus an offset.

Kokoro's voice is a style table (one 256-d row per phoneme count). Its first 128 dimensions
feed the decoder (timbre), the last 128 the prosody predictor (pitch, durations). Earful
describes any voice it makes by :class:`StyleParams`: weights over the five bundled packs for
the timbre half, separate weights for the prosody half, and one 256-d offset added to every
row. The bundled voices are the one-hot points; mixes and clones are everything else.

A *voice bank* (:func:`build_bank`) is a few hundred such points drawn at random, each with
the speaker embedding of what it says: pairs generated here, with no outside data, that turn
"which style sounds like this speaker?" into a nearest-neighbour lookup. The bank that ships
with earful (``tts/shipped/kokoro_bank.npz``) describes itself: seed, size, sentences, the
model file's size and how the points were drawn.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from earful.errors import InvalidOptionError

logger = logging.getLogger(__name__)

HALF = 128
DIM = 256
#: The bank's fixed sentences (Harvard lists 4 and 5): never the sentences a clone is
#: judged on (:data:`earful.tts.evaluate.SENTENCES`) nor those enrolment listens to.
BANK_SENTENCES = (
    "Four hours of steady work faced us.",
    "The frosty air passed through the coat.",
)
BANK_FILE = "kokoro_bank.npz"


@dataclass(frozen=True)
class StyleParams:
    """One Kokoro voice: pack weights per half plus an offset on every row."""

    timbre: np.ndarray
    """Weights over the packs for dimensions 0-127 (non-negative, summing to 1)."""
    prosody: np.ndarray
    """Weights over the packs for dimensions 128-255 (non-negative, summing to 1)."""
    offset: np.ndarray
    """Added to every row of the mixed table (256 values)."""

    def __post_init__(self) -> None:
        for name in ("timbre", "prosody"):
            w = np.asarray(getattr(self, name), dtype=np.float64)
            if w.ndim != 1 or np.any(w < -1e-6) or abs(float(w.sum()) - 1.0) > 1e-3:
                raise InvalidOptionError(f"{name} weights must be non-negative and sum to 1")
        if np.asarray(self.offset).shape != (DIM,) or not np.all(np.isfinite(self.offset)):
            raise InvalidOptionError(f"the offset must be {DIM} finite values")

    def vector(self) -> np.ndarray:
        """All parameters as one float32 vector (weights, weights, offset)."""
        return np.concatenate([self.timbre, self.prosody, self.offset]).astype(np.float32)

    @classmethod
    def from_vector(cls, vec: np.ndarray, packs: int) -> StyleParams:
        """Inverse of :meth:`vector`; weights are clipped at 0 and renormalised."""
        vec = np.asarray(vec, dtype=np.float64)
        if vec.shape != (2 * packs + DIM,):
            raise InvalidOptionError(f"a style vector has {2 * packs + DIM} values")

        def simplex(w: np.ndarray) -> np.ndarray:
            w = np.clip(w, 0.0, None)
            return w / w.sum() if w.sum() > 0 else np.full(packs, 1.0 / packs)

        return cls(simplex(vec[:packs]), simplex(vec[packs:2 * packs]), vec[2 * packs:])

    @classmethod
    def plain(cls, index: int, packs: int) -> StyleParams:
        """The bundled pack number ``index`` unchanged."""
        w = np.zeros(packs)
        w[index] = 1.0
        return cls(w, w.copy(), np.zeros(DIM))


def pack_stack(packs: dict[str, np.ndarray], names: Sequence[str] | None = None,
               ) -> tuple[list[str], np.ndarray]:
    """The packs as one ``(packs, rows, 256)`` array, in ``names`` order (default: sorted)."""
    order = list(names) if names is not None else sorted(packs)
    return order, np.stack([np.asarray(packs[n], dtype=np.float32).reshape(-1, DIM)
                            for n in order])


def style_table(stack: np.ndarray, params: StyleParams) -> np.ndarray:
    """The ``(rows, 1, 256)`` style table Kokoro reads for ``params``."""
    timbre = np.tensordot(params.timbre, stack[:, :, :HALF], axes=1)
    prosody = np.tensordot(params.prosody, stack[:, :, HALF:], axes=1)
    table = np.concatenate([timbre, prosody], axis=1) + params.offset[None, :]
    return table[:, None, :].astype(np.float32)


def offset_scale(stack: np.ndarray) -> np.ndarray:
    """How far the packs spread per dimension (std over packs of their mean rows): the unit
    that random offsets are drawn in, so they move each dimension as far as the voices do."""
    scale: np.ndarray = stack.mean(axis=1).std(axis=0)
    return scale.astype(np.float64) + 1e-6


def random_params(rng: np.random.Generator, stack: np.ndarray) -> StyleParams:
    """A random voice: Dirichlet mixes per half and a Gaussian offset of random size.

    Alpha 0.5 draws both near-pure packs and even blends; offsets up to 1.5 pack spreads
    reach timbres no mix of five voices can.
    """
    n = stack.shape[0]
    scale = offset_scale(stack)
    offset = np.concatenate([rng.uniform(0, 1.5) * rng.standard_normal(HALF),
                             rng.uniform(0, 1.0) * rng.standard_normal(HALF)]) * scale
    return StyleParams(rng.dirichlet(np.full(n, 0.5)), rng.dirichlet(np.full(n, 0.5)), offset)


@dataclass
class VoiceBank:
    """Random Kokoro voices with the speaker embeddings of what they say."""

    params: np.ndarray
    """``(size, 2 * packs + 256)`` :meth:`StyleParams.vector` rows."""
    embeddings: np.ndarray
    """``(size, 256)`` L2-normalised Resemblyzer embeddings of the bank sentences."""
    pack_names: list[str]
    """Pack order the weights refer to."""
    meta: dict[str, Any]
    """Seed, sentences, model size: how the bank was made."""

    def style(self, i: int) -> StyleParams:
        """Entry ``i`` as :class:`StyleParams`."""
        return StyleParams.from_vector(self.params[i], len(self.pack_names))

    def nearest(self, embedding: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` entries whose speaker is closest to ``embedding``: indices, cosines."""
        sims = self.embeddings @ (embedding / (np.linalg.norm(embedding) + 1e-9))
        order = np.argsort(-sims)[:k]
        return order, sims[order]

    def save(self, path: Path) -> None:
        """Write an ``.npz`` that describes itself."""
        np.savez_compressed(path, params=self.params.astype(np.float32),
                            embeddings=self.embeddings.astype(np.float32),
                            pack_names=np.array(self.pack_names),
                            meta=np.array(repr(self.meta)))

    @classmethod
    def load(cls, path: Path | None = None) -> VoiceBank:
        """Load a bank (default: the one shipped with earful)."""
        import ast

        source = path or Path(str(resources.files("earful.tts") / "shipped" / BANK_FILE))
        with np.load(source) as z:
            return cls(params=np.asarray(z["params"]), embeddings=np.asarray(z["embeddings"]),
                       pack_names=[str(n) for n in z["pack_names"]],
                       meta=ast.literal_eval(str(z["meta"])))


def iter_bank(speak: Callable[[np.ndarray, str], np.ndarray],
              embed: Callable[[np.ndarray], np.ndarray], packs: dict[str, np.ndarray],
              size: int, seed: int = 0, sentences: Sequence[str] = BANK_SENTENCES,
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Draw ``size`` voices (the plain packs first) and embed what each says.

    Args:
        speak: (style table, sentence) -> 24 kHz samples.
        embed: samples (24 kHz) -> L2-normalised speaker embedding.
        packs: The bundled style packs by name.
        size: Number of voices (at least the number of packs).
        seed: Seed of the random voices.
        sentences: What every voice says; their audio is joined and embedded once.

    Yields:
        Each voice's :meth:`StyleParams.vector` and embedding, in order (a caller can save
        a partial bank as it goes).
    """
    names, stack = pack_stack(packs)
    if size < len(names):
        raise InvalidOptionError(f"a bank holds at least the {len(names)} plain voices")
    rng = np.random.default_rng(seed)
    for i in range(size):
        p = StyleParams.plain(i, len(names)) if i < len(names) else random_params(rng, stack)
        table = style_table(stack, p)
        audio = np.concatenate([speak(table, s) for s in sentences])
        yield p.vector(), embed(audio)


def bank_meta(seed: int, size: int, sentences: Sequence[str] = BANK_SENTENCES
              ) -> dict[str, Any]:
    """How a bank from :func:`iter_bank` was drawn."""
    return {"seed": seed, "size": size, "sentences": list(sentences),
            "draw": "dirichlet(0.5) per half; offset N(0,1)*U(0,1.5|1.0)*pack spread"}
