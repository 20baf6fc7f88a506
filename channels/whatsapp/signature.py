"""Meta's webhook authentication: the X-Hub-Signature-256 HMAC and the verify-token handshake."""

from __future__ import annotations

import hashlib
import hmac

from channels.whatsapp.errors import SignatureInvalid, SignatureMissing

HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends: sha256=<hex HMAC-SHA256 of the raw body, keyed by the app
    secret>."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(app_secret: str, body: bytes, header: str | None) -> None:
    """Check a webhook body against its signature header, before anything parses the body."""
    if not header:
        raise SignatureMissing(f"the {HEADER} header is missing")
    expected = sign(app_secret, body).encode("ascii")
    if not hmac.compare_digest(expected, header.strip().lower().encode("utf-8", "replace")):
        raise SignatureInvalid(f"the {HEADER} header does not match the body")


def token_matches(expected: str, given: str) -> bool:
    """Constant-time comparison of the handshake's hub.verify_token."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
