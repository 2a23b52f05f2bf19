"""The shop's colours as a stylesheet: the strict CSP allows no inline style, so the brand arrives as a file."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)


@router.get("/brand.css")
async def brand_css(request: Request) -> Response:
    css = request.app.state.settings.brand.stylesheet()
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})
