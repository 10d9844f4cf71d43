"""Voice profiles and cloning jobs.

API side: a profile is created only with the speaker's consent and from a sample that passes the checks in
``app.pipelines.reference``; its cleaned reference and speaker embedding are computed once, there. Cloning jobs
are queued per text and voice, each recorded in the voice's audit trail (who, when, a hash of the text).
Worker side: the engine's conditioning is derived from the reference on first use per language and kept with the
profile; the text is spoken sentence by sentence; the result records how similar the output sounds to the
reference (cosine of speaker embeddings).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import soxr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import InvalidInput, ResourceNotFound
from app.db.uow import on_rollback
from app.engines.speaker.base import Diarizer, SpeakerEmbedder
from app.engines.synthesis.base import check_speed
from app.engines.voice import EngineInfo, SpeakerReference, VoiceCloner
from app.models.job import Job, JobKind
from app.models.voice import VoiceProfile, VoiceUse
from app.pipelines import cloning
from app.pipelines.audio import SAMPLE_RATE, decode_audio
from app.pipelines.cloning import CloningPipeline
from app.pipelines.encode import AudioFormat, encode_audio, encoded_rate
from app.pipelines.hooks import ProgressHook
from app.pipelines.reference import clean_reference
from app.services.jobs import JobOutcome, job_service, output_prefix
from app.services.outbox import JobOutbox
from app.services.translation import UnsupportedLanguage
from app.services.uploads import read_chunks, upload_service
from app.storage import Storage

MAX_TEXT_CHARS = 5000
MAX_PITCH_SEMITONES = 12.0


class VoiceNotFound(ResourceNotFound):
    default_message = "Voice profile not found"


class ConsentRequired(InvalidInput):
    error_code = "CONSENT_REQUIRED"
    default_message = "A voice profile needs the speaker's consent to be cloned (consent=true)"


@dataclass(frozen=True)
class ProfileFields:
    name: str
    description: str | None
    language: str
    consent: bool


@dataclass(frozen=True)
class CloneRequest:
    voice_id: int
    input_text: str
    language: str | None = None
    speed: float = 1.0
    pitch: float = 0.0
    output_format: AudioFormat = AudioFormat.WAV


class ProfileEngines(Protocol):
    def cloner_info(self) -> EngineInfo: ...

    def diarizer(self) -> Diarizer: ...

    def embedder(self) -> SpeakerEmbedder: ...


class CloningEngines(Protocol):
    def cloner(self) -> VoiceCloner: ...

    def embedder(self) -> SpeakerEmbedder: ...


@dataclass(frozen=True)
class ProfileSnapshot:
    """What a worker needs of a profile, read in its own short session."""

    id: int
    owner_id: int
    reference_key: str
    language: str
    embedding: list[float]
    conditioning: dict[str, Any]


def _language(value: str | None, field: str, engine: EngineInfo) -> str | None:
    """The requested language, if the configured cloning engine speaks it."""
    language = value.strip().lower() if value else None
    if language is not None and language not in engine.languages:
        raise UnsupportedLanguage(
            details={
                "field": field,
                "error": f"'{language}' is not supported by {engine.name}",
                "supported": sorted(engine.languages),
            }
        )
    return language


class VoiceService:
    # --- profiles -------------------------------------------------------------------------------------------

    def create_profile(
        self,
        session: Session,
        storage: Storage,
        engines: ProfileEngines,
        *,
        owner_id: int,
        fields: ProfileFields,
        file: BinaryIO,
        filename: str | None,
        max_bytes: int,
    ) -> VoiceProfile:
        """Check consent, language and the sample (422 with what to fix), then store the original, the cleaned
        reference and the embedding. A refused sample leaves nothing behind."""
        if not fields.consent:
            raise ConsentRequired(details={"field": "consent"})
        language = _language(fields.language, "language", engines.cloner_info())
        assert language is not None
        stored = upload_service.store_audio(
            session, storage, owner_id=owner_id, file=file, filename=filename, max_bytes=max_bytes
        )
        with storage.open_local(stored.key) as path:
            cleaned = clean_reference(path, engines.diarizer())
        reference_key = f"users/{owner_id}/voices/{uuid.uuid4().hex}/reference.wav"
        with tempfile.TemporaryDirectory(prefix="audio-api-voice-") as folder:
            target = Path(folder) / "reference.wav"
            encode_audio(cleaned.samples, SAMPLE_RATE, AudioFormat.WAV, target)
            with target.open("rb") as reference:
                storage.save(reference_key, read_chunks(reference))
        on_rollback(session, lambda: storage.delete(reference_key))
        embedder = engines.embedder()
        profile = VoiceProfile(
            owner_id=owner_id,
            name=fields.name,
            description=fields.description,
            language=language,
            consent=True,
            reference_key=reference_key,
            original_key=stored.key,
            original_filename=stored.filename,
            speech_seconds=cleaned.speech_seconds,
            embedding=[round(float(v), 6) for v in embedder.embed(cleaned.samples)],
            embedder=embedder.name,
            quality=cleaned.quality,
            conditioning={},
        )
        session.add(profile)
        session.flush()
        return profile

    def get_profile(self, session: Session, *, owner_id: int, voice_id: int) -> VoiceProfile:
        profile = session.get(VoiceProfile, voice_id)
        if profile is None or profile.owner_id != owner_id:
            raise VoiceNotFound(details={"voice_id": voice_id})
        return profile

    def list_profiles(
        self, session: Session, *, owner_id: int, limit: int = 100, offset: int = 0
    ) -> list[VoiceProfile]:
        query = select(VoiceProfile).where(VoiceProfile.owner_id == owner_id).order_by(VoiceProfile.id.desc())
        return list(session.scalars(query.limit(limit).offset(offset)))

    def update_profile(
        self, session: Session, *, owner_id: int, voice_id: int, changes: dict[str, Any], engine: EngineInfo
    ) -> VoiceProfile:
        profile = self.get_profile(session, owner_id=owner_id, voice_id=voice_id)
        for required in ("name", "language"):
            if required in changes and changes[required] is None:
                raise InvalidInput(f"A voice profile keeps its {required}", details={"field": required})
        if "language" in changes:
            changes["language"] = _language(changes["language"], "language", engine) or profile.language
        for field, value in changes.items():
            setattr(profile, field, value)
        session.flush()
        return profile

    def delete_profile(self, session: Session, storage: Storage, *, owner_id: int, voice_id: int) -> None:
        """Delete the profile's audio, then the profile and its audit trail.

        The audio goes first: a voice is biometric data, and if storage fails the profile stays listed, so the
        owner can delete it again (deleting what is already gone succeeds). The other order would leave its audio
        stored with no profile left to delete it by.
        """
        profile = self.get_profile(session, owner_id=owner_id, voice_id=voice_id)
        for key in (profile.reference_key, profile.original_key):
            storage.delete(key)
        session.delete(profile)
        session.flush()

    def uses(
        self, session: Session, *, owner_id: int, voice_id: int, limit: int, offset: int
    ) -> tuple[list[VoiceUse], int]:
        """A page of the audit trail of one of the owner's voices, newest first, and how long the whole trail is."""
        self.get_profile(session, owner_id=owner_id, voice_id=voice_id)
        trail = select(VoiceUse).where(VoiceUse.voice_id == voice_id)
        total = session.scalar(select(func.count()).select_from(trail.subquery())) or 0
        page = session.scalars(trail.order_by(VoiceUse.id.desc()).limit(limit).offset(offset))
        return list(page), int(total)

    # --- cloning jobs ---------------------------------------------------------------------------------------

    def submit_clone(
        self,
        session: Session,
        outbox: JobOutbox,
        *,
        owner_id: int,
        request: CloneRequest,
        engine: EngineInfo,
        batch_id: str | None = None,
    ) -> Job:
        """Check the request against the profile and the configured cloning ``engine``, then queue the job."""
        profile = self.get_profile(session, owner_id=owner_id, voice_id=request.voice_id)
        text = request.input_text.strip()
        if not text:
            raise InvalidInput("input_text is empty", details={"field": "input_text"})
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidInput(
                f"input_text holds {len(text)} characters; the limit is {MAX_TEXT_CHARS}",
                details={"field": "input_text", "max_chars": MAX_TEXT_CHARS},
            )
        check_speed(request.speed)
        if abs(request.pitch) > MAX_PITCH_SEMITONES:
            raise InvalidInput("pitch must be between -12 and +12 semitones", details={"pitch": request.pitch})
        language = _language(request.language or profile.language, "language", engine)
        assert language is not None
        params = {
            "voice_id": profile.id,
            "input_text": text,
            "language": language,
            "speed": request.speed,
            "pitch": request.pitch,
            "output_format": request.output_format.value,
            "engine": engine.name,
        }
        job = job_service.create(
            session, outbox, owner_id=owner_id, kind=JobKind.VOICE_CLONE, params=params, batch_id=batch_id
        )
        session.add(VoiceUse.of(job))
        return job

    def submit_batch(
        self,
        session: Session,
        outbox: JobOutbox,
        *,
        owner_id: int,
        voice_ids: Sequence[int],
        texts: Sequence[str],
        template: CloneRequest,
        engine: EngineInfo,
        max_jobs: int,
    ) -> tuple[str, list[Job]]:
        """One job per (voice, text): many texts in one voice, or one text in many voices. All or nothing."""
        if not voice_ids or not texts:
            raise InvalidInput("A batch needs at least one voice and one text", details={"voices": len(voice_ids)})
        if len(voice_ids) * len(texts) > max_jobs:
            raise InvalidInput(f"A batch makes at most {max_jobs} jobs", details={"jobs": len(voice_ids) * len(texts)})
        batch_id = str(uuid.uuid4())
        jobs = []
        for voice_id in voice_ids:
            for index, text in enumerate(texts):
                request = CloneRequest(
                    voice_id, text, template.language, template.speed, template.pitch, template.output_format
                )
                try:
                    jobs.append(
                        self.submit_clone(
                            session, outbox, owner_id=owner_id, request=request, engine=engine, batch_id=batch_id
                        )
                    )
                except InvalidInput as exc:
                    previous = exc.details if isinstance(exc.details, dict) else {}
                    exc.details = {**previous, "voice_id": voice_id, "text_index": index}
                    raise
        return batch_id, jobs

    # --- worker side ----------------------------------------------------------------------------------------

    def step_weights(self, job: Job) -> dict[str, float]:
        return dict(cloning.STEP_WEIGHTS)

    def process(
        self,
        job: Job,
        *,
        storage: Storage,
        engines: CloningEngines,
        load_profile: Callable[[int], ProfileSnapshot | None],
        save_conditioning: Callable[[int, str, str, dict[str, Any]], None],
        hook: ProgressHook,
    ) -> JobOutcome:
        params = job.params
        profile = load_profile(params["voice_id"])
        if profile is None or profile.owner_id != job.owner_id:
            raise VoiceNotFound("The voice profile was deleted", details={"voice_id": params["voice_id"]})
        cloner = engines.cloner()
        language = params["language"]
        with storage.open_local(profile.reference_key) as path:
            samples = decode_audio(path)
        embedding = np.asarray(profile.embedding, dtype=np.float32)
        reference = SpeakerReference(samples, embedding, profile.language)
        hook("conditioning", completed=0.0, total=1.0)
        conditioning = profile.conditioning.get(cloner.info.name, {}).get(language)
        if conditioning is None:
            conditioning = cloner.condition(reference, language)
            save_conditioning(profile.id, cloner.info.name, language, conditioning)
        hook("conditioning", completed=1.0, total=1.0)
        reference = SpeakerReference(samples, embedding, profile.language, conditioning)
        result = CloningPipeline(cloner).apply(
            params["input_text"],
            language=language,
            reference=reference,
            speed=params["speed"],
            pitch=params["pitch"],
            hook=hook,
        )
        speech = result.speech
        if speech.samples.size == 0:
            raise InvalidInput(
                f"The {cloner.info.kind} engine found nothing to speak in input_text",
                details={"field": "input_text", "language": language},
            )
        hook("scoring", completed=0.0, total=1.0)
        mono_16k = np.asarray(soxr.resample(speech.samples, speech.sample_rate, SAMPLE_RATE), dtype=np.float32)
        similarity = float(engines.embedder().embed(mono_16k) @ embedding)
        fmt = AudioFormat(params["output_format"])
        name = f"speech.{fmt.value}"
        key = f"{output_prefix(job)}/{name}"
        with tempfile.TemporaryDirectory(prefix="audio-api-clone-") as folder:
            target = Path(folder) / name
            encode_audio(speech.samples, speech.sample_rate, fmt, target)
            with target.open("rb") as file:
                storage.save(key, read_chunks(file))
        hook("scoring", completed=1.0, total=1.0)
        return JobOutcome(
            result={
                "engine": cloner.info.name,
                "engine_kind": cloner.info.kind,
                "voice_id": profile.id,
                "language": language,
                "duration": round(speech.duration, 3),
                "sample_rate": encoded_rate(fmt, speech.sample_rate),
                "sentences": result.sentences,
                "speaker_similarity": round(similarity, 4),
                "similarity_embedder": engines.embedder().name,
                "stock_voice": conditioning.get("stock_voice"),
                "format": fmt.value,
            },
            artifacts={name: key},
        )


voice_service = VoiceService()
