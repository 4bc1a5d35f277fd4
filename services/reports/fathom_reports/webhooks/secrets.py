"""Webhook secrets sealed at rest with Fernet (AES-128-CBC + HMAC-SHA256), keyed by ``FATHOM_WEBHOOK_KEY``.

The database keeps only the sealed form, so reading a backup or a replica is not enough to forge
``Fathom-Signature``. ``FATHOM_WEBHOOK_KEY`` may list several keys, comma-separated: the first
seals, all of them open, so a key is rotated by putting the new one first (old subscriptions keep
working). A local run without the setting generates a key into ``.fathom/webhook-key`` (like the
web secret); production must set it (losing the key means every subscription must be registered again).
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from fathom_shared.auth import write_once
from fathom_shared.config import Settings


class SecretBox:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("FATHOM_WEBHOOK_KEY names no key")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as exc:
            raise ValueError("FATHOM_WEBHOOK_KEY must be Fernet keys (32 url-safe base64 bytes), comma-separated"
                             ) from exc

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret; ``ValueError`` if no configured key sealed it."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("webhook secret sealed with a key that is not configured") from exc


def secret_box(settings: Settings) -> SecretBox:
    """The configured keys, or (local runs) the key generated once into ``webhook_key_path``."""
    if settings.webhook_key:
        return SecretBox([key.strip() for key in settings.webhook_key.split(",") if key.strip()])
    write_once(settings.webhook_key_path, lambda: Fernet.generate_key().decode())
    return SecretBox([settings.webhook_key_path.read_text().strip()])
