"""Request bodies and query strings, checked and converted into the sandbox's own types."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.sandbox.customers import check_number
from bot.sandbox.errors import InvalidInput
from bot.sandbox.records import Category
from bot.sandbox.tariffs import check_amount
from bot.sandbox.transactions import MAX_LIMIT

MAX_BODY = 64 * 1024  # bytes; larger bodies get 413
MAX_AREA = 100  # characters
MAX_REFERENCE = 100  # characters of the caller's own reference (Loket: the conversation id)
DESCRIPTION_LENGTH = (3, 1000)  # characters, after trimming


@dataclass(frozen=True, slots=True)
class TokenRequest:
    number: str  # meter number or customer id
    amount: int
    reference: str | None = None  # the caller's own id, echoed in the payment callback


@dataclass(frozen=True, slots=True)
class ComplaintRequest:
    description: str
    category: Category
    customer_id: str | None = None
    meter_number: str | None = None
    area: str | None = None


def json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # ValueError includes UnicodeDecodeError
        raise InvalidInput("the request body must be JSON", code="invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object", code="invalid_json")
    return body


def _required(body: Mapping[str, Any], field: str) -> object:
    value = body.get(field)
    if value is None:
        raise InvalidInput(f"the field {field!r} is required", code="missing_field")
    return value


def _area(raw: object, field: str = "area") -> str:
    area = raw.strip() if isinstance(raw, str) else ""
    if not 1 <= len(area) <= MAX_AREA:
        raise InvalidInput(
            f"{field} must be an area name of 1 to {MAX_AREA} characters", code="invalid_area"
        )
    return area


def _reference(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not 1 <= len(raw) <= MAX_REFERENCE or not raw.isprintable():
        raise InvalidInput(
            f"reference must be 1 to {MAX_REFERENCE} printable characters",
            code="invalid_reference",
        )
    return raw


def token_request(body: Mapping[str, Any]) -> TokenRequest:
    number = check_number(_required(body, "meter_number"), "meter_number")
    amount = check_amount(_required(body, "amount"))
    return TokenRequest(number, amount, _reference(body.get("reference")))


def complaint_request(body: Mapping[str, Any]) -> ComplaintRequest:
    raw = _required(body, "description")
    description = raw.strip() if isinstance(raw, str) else ""
    low, high = DESCRIPTION_LENGTH
    if not low <= len(description) <= high:
        raise InvalidInput(
            f"description must be {low} to {high} characters", code="invalid_description"
        )
    raw = _required(body, "category")
    try:
        category = Category(raw)
    except ValueError:
        allowed = ", ".join(c.value for c in Category)
        raise InvalidInput(f"category must be one of {allowed}", code="invalid_category") from None
    numbers = {
        field: check_number(body[field], field)
        for field in ("customer_id", "meter_number")
        if body.get(field) is not None
    }
    area = _area(body["area"]) if body.get("area") is not None else None
    if not numbers and area is None:
        raise InvalidInput(
            "at least one of the fields 'customer_id', 'meter_number' or 'area' is required",
            code="missing_field",
        )
    return ComplaintRequest(description, category, area=area, **numbers)


def limit(query: Mapping[str, str], default: int = 3) -> int:
    raw = query.get("limit", "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a number from 1 to {MAX_LIMIT}", code="invalid_limit")
    return int(raw)


def area_query(query: Mapping[str, str]) -> str:
    if not query.get("area", "").strip():
        raise InvalidInput("the query parameter 'area' is required", code="missing_field")
    return _area(query["area"])
