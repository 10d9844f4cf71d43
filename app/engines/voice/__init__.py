"""Voice cloning engines behind one Protocol: the bundled voice-matching engine, and XTTS v2 where its weights are
installed."""

from app.engines.voice.base import EngineInfo, SpeakerReference, VoiceCloner
from app.engines.voice.matching import VoiceMatchingCloner, stock_voices_for

__all__ = ["EngineInfo", "SpeakerReference", "VoiceCloner", "VoiceMatchingCloner", "stock_voices_for"]
