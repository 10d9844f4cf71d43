from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from app.api.deps import SettingsDep, StorageDep
from app.core.errors import InvalidToken, LinkExpired, ResourceNotFound, TokenExpired
from app.services.downloads import read_download_token
from app.storage import attachment_disposition, media_type_of

router = APIRouter(prefix="/files", tags=["files"])


@router.get(
    "/{token}",
    response_class=StreamingResponse,
    responses={410: LinkExpired.openapi(), 404: ResourceNotFound.openapi()},
)
def download(token: str, settings: SettingsDep, storage: StorageDep) -> StreamingResponse:
    """Download a stored output through a signed, expiring link (local storage)."""
    try:
        key, filename = read_download_token(settings, token)
    except TokenExpired as exc:
        raise LinkExpired from exc
    except InvalidToken as exc:
        raise ResourceNotFound("Download link not found") from exc
    size = storage.size(key)
    media_type = media_type_of(filename)
    headers = {"Content-Disposition": attachment_disposition(filename), "Content-Length": str(size)}
    return StreamingResponse(storage.iter_bytes(key), media_type=media_type, headers=headers)
