"""Media ingestion from user URLs: social-media pages and direct links, size- and duration-capped, SSRF-safe."""

from app.ingest.errors import MediaTooLarge, MediaTooLong, UrlFetchFailed, UrlNotAllowed
from app.ingest.extractors import ExtractedMedia, FakeMediaExtractor, MediaExtractor, YtDlpExtractor
from app.ingest.fetch import FetchedMedia, fetch_media, uses_extractor
from app.ingest.ssrf import ResolvedUrl, UrlPolicy, system_resolver

__all__ = [
    "ExtractedMedia",
    "FakeMediaExtractor",
    "FetchedMedia",
    "MediaExtractor",
    "MediaTooLarge",
    "MediaTooLong",
    "ResolvedUrl",
    "UrlFetchFailed",
    "UrlNotAllowed",
    "UrlPolicy",
    "YtDlpExtractor",
    "fetch_media",
    "system_resolver",
    "uses_extractor",
]
