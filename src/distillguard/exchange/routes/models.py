"""Pydantic models of the small TAXII resources (envelopes are streamed as raw JSON)."""

from __future__ import annotations

from pydantic import BaseModel


class Discovery(BaseModel):
    title: str
    description: str | None = None
    contact: str | None = None
    default: str | None = None
    api_roots: list[str] = []


class ApiRoot(BaseModel):
    title: str
    description: str | None = None
    versions: list[str]
    max_content_length: int


class CollectionResource(BaseModel):
    id: str
    title: str
    description: str | None = None
    can_read: bool
    can_write: bool
    media_types: list[str]


class StatusDetail(BaseModel):
    id: str
    version: str
    message: str | None = None


class Status(BaseModel):
    id: str
    status: str
    request_timestamp: str
    total_count: int
    success_count: int
    successes: list[StatusDetail] = []
    failure_count: int
    failures: list[StatusDetail] = []
    pending_count: int
    pendings: list[StatusDetail] = []
