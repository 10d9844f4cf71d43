"""Language codes the Whisper engines understand (the tokenizer's own list, so it never drifts)."""

from __future__ import annotations

from faster_whisper.tokenizer import _LANGUAGE_CODES

WHISPER_LANGUAGES: frozenset[str] = frozenset(_LANGUAGE_CODES)
