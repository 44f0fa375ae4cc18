"""Where the current request comes from, for the audit trail (who, from where)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    request_id: str = ""
    ip: str = ""
    user_agent: str = ""
    channel: str = "system"  # web | api | fhir | gateway | cli | system


_NONE = RequestInfo()
_current: ContextVar[RequestInfo | None] = ContextVar("carnet_request_info", default=None)


def current() -> RequestInfo:
    return _current.get() or _NONE


def set_current(info: RequestInfo) -> object:
    return _current.set(info)


def reset(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
