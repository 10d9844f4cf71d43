"""What this installation can do: the languages it transcribes, the translation pairs its installed engines cover,
and the languages a bundled voice speaks. Built from settings once per process (API and workers alike), so what
``GET /translation/languages`` promises is exactly what a job can deliver."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from app.core.config import Settings
from app.engines.bundled import whisper_config
from app.engines.languages import model_languages
from app.engines.synthesis import VOICE_CATALOGUE
from app.engines.translation import FastTranslateEngine, TextTranslator, TranslationRouter, discover_translation_models


@dataclass(frozen=True)
class LanguageCatalog:
    settings: Settings

    @cached_property
    def transcription_languages(self) -> frozenset[str]:
        if not self.multilingual_speech:
            return frozenset({"en"})
        return model_languages(whisper_config(self.settings.whisper_model))

    @property
    def multilingual_speech(self) -> bool:
        """English-only Whisper models (``*.en``) can neither detect languages nor translate speech."""
        return not Path(self.settings.whisper_model).name.endswith(".en")

    @cached_property
    def router(self) -> TranslationRouter:
        engines: list[TextTranslator] = [FastTranslateEngine()]
        if self.settings.translation_models_dir is not None:
            engines += discover_translation_models(
                self.settings.translation_models_dir, self.settings.model_cache / "translation"
            )
        return TranslationRouter(engines, speech_to_english=self.multilingual_speech)

    @property
    def dubbing_languages(self) -> dict[str, dict[str, object]]:
        return {
            language: {"engine": choice.engine, "voice": choice.voice, "measured_wer": choice.wer}
            for language, choice in sorted(VOICE_CATALOGUE.items())
        }
