"""Language codes the Whisper engines understand (the tokenizer's own list, so it never drifts)."""

from __future__ import annotations

import json
from pathlib import Path

from faster_whisper.tokenizer import _LANGUAGE_CODES

WHISPER_LANGUAGES: frozenset[str] = frozenset(_LANGUAGE_CODES)


def model_languages(config: Path | None) -> frozenset[str]:
    """The codes one multilingual Whisper model knows, from its CTranslate2 ``config.json``.

    Its ``lang_ids`` are the language tokens in the tokenizer's order, which later models extend: every model up to
    large-v2 knows 99 languages, large-v3 adds Cantonese (``yue``). faster-whisper accepts any code of the longest
    list, so a 99-language model asked for Cantonese would decode in some other language and label it ``yue``.
    Without a readable list, every code is assumed.
    """
    try:
        known = len(json.loads(config.read_text(encoding="utf-8"))["lang_ids"]) if config else None
    except (OSError, ValueError, KeyError, TypeError):
        known = None
    return frozenset(_LANGUAGE_CODES[:known]) if known else WHISPER_LANGUAGES
