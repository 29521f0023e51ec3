"""Ed25519 signing keys of the platform (audit checkpoints) and signature checks.

The private key lives in a PEM file outside the database (settings.ZHIJIAN_AUDIT_KEY_FILE);
its public half is published in the PublicKey table and on the portal, so that anyone
can check a checkpoint without our code: key id = first 16 hex digits of
SHA-256(raw public key).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

AUDIT_PURPOSE = "audit-checkpoint"


def key_id_for(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def public_raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


@dataclass(frozen=True)
class LoadedKey:
    private: Ed25519PrivateKey
    key_id: str
    public_hex: str

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def keygen(path: Path) -> Path:
    """Write a new private key file (mode 0600). Refuses to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return path


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> LoadedKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    raw = public_raw(key)
    return LoadedKey(key, key_id_for(raw), raw.hex())


def load_key(path: Path) -> LoadedKey:
    """The private key in a PEM file (PKCS#8, Ed25519)."""
    return _load(str(path), path.stat().st_mtime)


def audit_key() -> LoadedKey:
    """The audit key; created on first use outside production, and published."""
    from django.conf import settings

    from .models import PublicKey

    path = Path(settings.ZHIJIAN_AUDIT_KEY_FILE)
    if not path.exists():
        if settings.PRODUCTION:
            raise FileNotFoundError(f"audit key file {path} is missing; run `zhijian audit keygen`")
        try:
            keygen(path)
        except FileExistsError:
            pass
    loaded = load_key(path)
    PublicKey.objects.get_or_create(
        key_id=loaded.key_id,
        defaults={"purpose": AUDIT_PURPOSE, "public_key": loaded.public_hex},
    )
    return loaded


def verify_with_public(public_hex: str, data: bytes, signature_hex: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(
            bytes.fromhex(signature_hex), data
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_statement(key_id: str, statement: str, signature_hex: str) -> bool:
    from .models import PublicKey

    key = PublicKey.objects.filter(key_id=key_id).first()
    return key is not None and verify_with_public(key.public_key, statement.encode(), signature_hex)
