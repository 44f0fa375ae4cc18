"""The node's OpenPGP keyring (python-gnupg over gpg).

The node key signs audit anchors (and, with the sharing service, outgoing messages).
Its home is ``CARNET_GNUPG_HOME`` (``var/gnupg`` by default); `carnet node init-key`
creates the key, and the first anchor creates it if it is missing.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import gnupg
from django.conf import settings

_lock = threading.Lock()


@dataclass(frozen=True)
class Signed:
    text: str
    fingerprint: str


class Keyring:
    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(home, 0o700)
        self.home = home
        # Names with accents (Coopérative, practices) are UTF-8; a foreign key whose name
        # is in another charset must not break reading gpg's messages.
        self.gpg = gnupg.GPG(gnupghome=str(home), options=["--display-charset", "utf-8"])
        self.gpg.encoding = "utf-8"
        self.gpg.decode_errors = "replace"

    def secret_fingerprint(self, email: str | None = None) -> str | None:
        """The secret key for this e-mail (the node's key by default). The keyring also
        holds each practice's keys: the node key is found by its own address."""
        email = email or node_email()
        for key in self.gpg.list_keys(secret=True):
            if any(f"<{email}>" in uid for uid in key.get("uids", [])):
                return str(key["fingerprint"])
        return None

    def ensure_key(self, name: str, email: str) -> str:
        with _lock:
            existing = self.secret_fingerprint(email)
            if existing:
                return existing
            params = self.gpg.gen_key_input(
                key_type="EDDSA",
                key_curve="ed25519",
                key_usage="sign",
                subkey_type="ECDH",
                subkey_curve="cv25519",
                subkey_usage="encrypt",
                name_real=name,
                name_email=email,
                expire_date=0,
                no_protection=True,
            )
            key = self.gpg.gen_key(params)
            if not key.fingerprint:
                raise RuntimeError(f"OpenPGP key generation failed: {key.stderr}")
            return str(key.fingerprint)

    def ensure_node_key(self) -> str:
        return self.ensure_key(f"Carnet node {settings.CARNET_NODE_NAME}", node_email())

    def clearsign(self, text: str) -> Signed:
        fingerprint = self.ensure_node_key()
        signed = self.gpg.sign(text, keyid=fingerprint, clearsign=True)
        if not signed.data:
            raise RuntimeError(f"OpenPGP signing failed: {signed.stderr}")
        return Signed(text=str(signed), fingerprint=fingerprint)

    def verify_clearsigned(self, signed_text: str) -> str | None:
        """Return the signed text if the signature is valid and by this node's key."""
        verified = self.gpg.verify(signed_text)
        if not verified.valid or verified.fingerprint != self.secret_fingerprint():
            return None
        return _clearsigned_body(signed_text)


def node_email() -> str:
    return f"node@{settings.CARNET_NODE_NAME}"


def _clearsigned_body(signed_text: str) -> str:
    lines = signed_text.splitlines()
    start = lines.index("") + 1  # after the "Hash:" armor headers
    end = lines.index("-----BEGIN PGP SIGNATURE-----")
    body = [line[2:] if line.startswith("- ") else line for line in lines[start:end]]
    return "\n".join(body)


def node_keyring() -> Keyring:
    return Keyring(Path(settings.CARNET_GNUPG_HOME))
