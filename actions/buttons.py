"""Buttons the bot offers: a request's title per language, and a payload Rasa parses as that
request with its values (so the form it starts does not ask for them again)."""

from __future__ import annotations

import json

# What each request is called on a button, per language.
BUTTON_TITLES = {
    "buy_token": {"id": "Beli token", "en": "Buy a token"},
    "check_bill": {"id": "Cek tagihan", "en": "Check the bill"},
    "check_transaction": {"id": "Cek pembelian terakhir", "en": "Check the latest purchase"},
    "report_outage": {"id": "Lapor gangguan", "en": "Report an outage"},
    "check_complaint": {"id": "Cek laporan", "en": "Check the report"},
    "request_human": {"id": "Bicara dengan petugas", "en": "Talk to a person"},
    "help": {"id": "Lihat semua layanan", "en": "See everything I do"},
}


def payload(intent: str, **entities: str) -> str:
    """A button payload Rasa parses as this intent with these entities."""
    return f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"


def button(intent: str, language: str, **entities: str) -> dict[str, str]:
    return {"title": BUTTON_TITLES[intent][language], "payload": payload(intent, **entities)}
