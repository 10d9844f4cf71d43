"""Translation with a CTranslate2 model folder: Opus-MT/Marian conversions, Argos packages, NLLB-style models.

CTranslate2 and sentencepiece run these directly; argostranslate is not used because it pulls torch and stanza
and downloads sentence-splitter resources on first use.

A deployment adds a pair by dropping a folder into ``TRANSLATION_MODELS_DIR`` that holds a CTranslate2 model and
a ``audio-api-translation.json`` describing it::

    {
      "source": "de",                       # ISO 639-1 code translated from (required)
      "target": "en",                       # ISO 639-1 code translated into (required)
      "model": ".",                         # the CTranslate2 model folder, relative to this file (default ".")
      "sentencepiece": "source.spm",        # source tokenizer (default: source.spm, sentencepiece.model, ...)
      "target_sentencepiece": "target.spm", # target detokenizer (optional; default target.spm when present)
      "source_prefix": ["deu_Latn"],        # tokens before the source: NLLB's source language, Marian's >>por<<
      "source_suffix": ["</s>"],            # tokens after the source (NLLB)
      "target_prefix": ["eng_Latn"],        # tokens the output must start with, removed from it (NLLB)
      "variants": {"en": "en-US"}           # regional variant behind a code (optional)
    }
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.engines.translation.base import TranslationModelInvalid, translate_by_sentence, unsupported

logger = logging.getLogger(__name__)

METADATA_FILE = "audio-api-translation.json"
SOURCE_SENTENCEPIECE_NAMES = ("source.spm", "sentencepiece.model", "sentencepiece.bpe.model", "spm.model")
TARGET_SENTENCEPIECE_NAME = "target.spm"
MAX_WORDS = 150
"""Longest piece handed to the model; Opus-MT and NLLB are trained on sentences and drift on long inputs."""


@dataclass(frozen=True)
class CTranslate2Options:
    """How to run every model a deployment installs (the ``CTranslate2Translator`` knobs that are not per model)."""

    device: str = "cpu"
    compute_type: str = "int8"
    inter_threads: int = 1
    intra_threads: int = 0
    beam_size: int = 4

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "compute_type": self.compute_type,
            "inter_threads": self.inter_threads,
            "intra_threads": self.intra_threads,
            "beam_size": self.beam_size,
        }


class CTranslate2Translator:
    """A ``TextTranslator`` for one language pair, backed by a local CTranslate2 model folder.

    The folder's files are checked and the tokenizer loaded at construction (cheap), so a broken deployment is
    reported when models are discovered; the model itself is loaded on first use and kept.

    Args:
        model_dir: the CTranslate2 model folder (holding ``model.bin``).
        source: ISO 639-1 code translated from.
        target: ISO 639-1 code translated into.
        sentencepiece_model: the source tokenizer; by default the first of ``SOURCE_SENTENCEPIECE_NAMES`` found in
            ``model_dir`` or its parent.
        target_sentencepiece_model: a separate target detokenizer (Opus-MT conversions ship ``target.spm``); by
            default ``target.spm`` when present, else pieces are joined on the sentencepiece word marker.
        source_prefix: tokens put before every source sentence (Marian ``>>por<<``, NLLB ``deu_Latn``).
        source_suffix: tokens put after every source sentence (NLLB's ``</s>``).
        target_prefix: tokens every output must start with (NLLB ``por_Latn``); removed from the output.
        variants: the regional variant behind a code, e.g. ``{"pt": "pt-BR"}``.
        name: the engine name; defaults to ``ctranslate2:<folder name>``.
        device: ``cpu`` or ``cuda``.
        compute_type: CTranslate2 compute type, e.g. ``int8`` or ``float16``.
        inter_threads: batches translated in parallel.
        intra_threads: threads per batch; 0 lets the runtime choose.
        beam_size: beam search width.
        max_words: longest piece handed to the model; longer segments are cut at sentence boundaries.

    Raises:
        TranslationModelInvalid: ``model.bin`` or the tokenizer is missing or unreadable (on first use: the model
            does not load).
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        source: str,
        target: str,
        sentencepiece_model: Path | None = None,
        target_sentencepiece_model: Path | None = None,
        source_prefix: Sequence[str] = (),
        source_suffix: Sequence[str] = (),
        target_prefix: Sequence[str] = (),
        variants: dict[str, str] | None = None,
        name: str | None = None,
        device: str = "cpu",
        compute_type: str = "int8",
        inter_threads: int = 1,
        intra_threads: int = 0,
        beam_size: int = 4,
        max_words: int = MAX_WORDS,
    ) -> None:
        self.name = name or f"ctranslate2:{model_dir.name}"
        self.variants = dict(variants or {})
        self.source = source
        self.target = target
        self._model_dir = model_dir
        if not (model_dir / "model.bin").is_file():
            raise invalid_model(model_dir, "no CTranslate2 model.bin")
        self._source_sp = _sentencepiece(sentencepiece_model or _find_source_sentencepiece(model_dir), model_dir)
        target_sp = target_sentencepiece_model or model_dir / TARGET_SENTENCEPIECE_NAME
        self._target_sp = _sentencepiece(target_sp, model_dir) if target_sp.is_file() else None
        self._source_prefix = list(source_prefix)
        self._source_suffix = list(source_suffix)
        self._target_prefix = list(target_prefix)
        self._options = {
            "device": device,
            "compute_type": compute_type,
            "inter_threads": inter_threads,
            "intra_threads": intra_threads,
        }
        self._beam_size = beam_size
        self._max_words = max_words
        self._model: Any = None
        self._lock = threading.Lock()

    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset({(self.source, self.target)})

    def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[str]:
        """Translate segment texts: sentencepiece pieces → ``translate_batch`` → detokenized text.

        Args:
            texts: one text per transcript segment.
            source: must be this model's source language.
            target: must be this model's target language.

        Returns:
            One translation per input, in order; blank inputs give empty strings.

        Raises:
            UnsupportedLanguagePair: a pair other than this model's.
            TranslationModelInvalid: the model does not load.
        """
        if (source, target) != (self.source, self.target):
            raise unsupported(source, target, self.pairs())
        if not any(text.strip() for text in texts):
            return ["" for _ in texts]
        return translate_by_sentence(texts, self._translate_pieces, target=target, max_words=self._max_words)

    def _translate_pieces(self, pieces: list[str]) -> list[str]:
        model = self._load()
        tokens = self._source_sp.encode(pieces, out_type=str)
        batch = [[*self._source_prefix, *piece_tokens, *self._source_suffix] for piece_tokens in tokens]
        results = model.translate_batch(
            batch,
            beam_size=self._beam_size,
            max_batch_size=32,
            target_prefix=[self._target_prefix] * len(batch) if self._target_prefix else None,
        )
        return [self._detokenize(result.hypotheses[0][len(self._target_prefix) :]) for result in results]

    def _detokenize(self, pieces: list[str]) -> str:
        if self._target_sp is not None:
            return str(self._target_sp.decode(pieces)).strip()
        # Without the target model, pieces still carry sentencepiece's word marker; joining on it is exact.
        return "".join(pieces).replace("▁", " ").strip()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import ctranslate2

                try:
                    self._model = ctranslate2.Translator(str(self._model_dir), **self._options)
                except (RuntimeError, ValueError, OSError) as exc:
                    raise invalid_model(self._model_dir, "the CTranslate2 model does not load", exc) from exc
            return self._model


def load_model_folder(folder: Path, options: CTranslate2Options | None = None) -> CTranslate2Translator:
    """Build a translator from a folder described by ``audio-api-translation.json`` (see the module docstring).

    Args:
        folder: the folder holding the metadata file.
        options: how to run the model; CPU int8 by default.

    Raises:
        TranslationModelInvalid: the metadata file is missing, malformed, or points at missing files.
    """
    meta = read_json(folder / METADATA_FILE)
    try:
        source, target = _code(meta["source"]), _code(meta["target"])
        model_dir = folder / str(meta.get("model", "."))
        spm = meta.get("sentencepiece")
        target_spm = meta.get("target_sentencepiece")
        return CTranslate2Translator(
            model_dir,
            source=source,
            target=target,
            sentencepiece_model=folder / str(spm) if spm else None,
            target_sentencepiece_model=folder / str(target_spm) if target_spm else None,
            source_prefix=[str(token) for token in meta.get("source_prefix", [])],
            source_suffix=[str(token) for token in meta.get("source_suffix", [])],
            target_prefix=[str(token) for token in meta.get("target_prefix", [])],
            variants={str(k): str(v) for k, v in dict(meta.get("variants", {})).items()},
            name=f"ctranslate2:{folder.name}",
            **(options or CTranslate2Options()).as_kwargs(),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise invalid_model(folder, f"{METADATA_FILE} is malformed", exc) from exc


def read_json(path: Path) -> dict[str, Any]:
    """A model's metadata file as a dict, or ``TranslationModelInvalid`` naming what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid_model(path.parent, f"cannot read {path.name}", exc) from exc
    if not isinstance(data, dict):
        raise invalid_model(path.parent, f"{path.name} is not a JSON object")
    return data


def _code(value: Any) -> str:
    code = str(value).strip().lower()
    if not code.isalpha() or not 2 <= len(code) <= 3:
        raise ValueError(f"not a language code: {value!r}")
    return code


def _find_source_sentencepiece(model_dir: Path) -> Path:
    for folder in (model_dir, model_dir.parent):
        for name in SOURCE_SENTENCEPIECE_NAMES:
            if (folder / name).is_file():
                return folder / name
    raise invalid_model(model_dir, f"no sentencepiece model (looked for {', '.join(SOURCE_SENTENCEPIECE_NAMES)})")


def _sentencepiece(path: Path, model_dir: Path) -> Any:
    import sentencepiece

    try:
        return sentencepiece.SentencePieceProcessor(model_file=str(path))
    except (RuntimeError, OSError) as exc:
        raise invalid_model(model_dir, f"cannot load sentencepiece model {path.name}", exc) from exc


def invalid_model(folder: Path, reason: str, cause: BaseException | None = None) -> TranslationModelInvalid:
    """The error for a broken model; paths and library messages go to the log, clients see the folder's name."""
    logger.error("translation model %s is not usable: %s%s", folder, reason, f" ({cause})" if cause else "")
    return TranslationModelInvalid(details={"model": folder.name, "reason": reason})
