"""The node's OpenPGP keyring (python-gnupg over gpg).

The node key signs audit anchors (and, with the sharing service, outgoing messages).
Its home is ``CARNET_GNUPG_HOME`` (``var/gnupg`` by default); `carnet node_key`
creates the key, and the first anchor creates it if it is missing. `carnet node_key
rotate` replaces it: the keyring then keeps only the PUBLIC half of a retired node key
(see ``core.audit.services.node_key``).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
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
        holds each practice's keys: the node key is found by its own address. Two of them
        exist only in the middle of a rotation: the newer one is the node's key."""
        email = email or node_email()
        found = [
            key
            for key in self.gpg.list_keys(secret=True)
            if any(f"<{email}>" in uid for uid in key.get("uids", []))
        ]
        if not found:
            return None
        return str(max(found, key=lambda key: int(key.get("date") or 0))["fingerprint"])

    def ensure_key(self, name: str, email: str) -> str:
        with _lock:
            existing = self.secret_fingerprint(email)
            if existing:
                return existing
            return self.generate_key(name, email)

    def generate_key(self, name: str, email: str) -> str:
        """A new ed25519 signing key (cv25519 encryption subkey), even if one exists."""
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
        return self.clearsign_with(text, self.ensure_node_key())

    def clearsign_with(self, text: str, fingerprint: str) -> Signed:
        """Sign with one named secret key (a rotation is signed by the old and the new).

        gpg takes the key as its *default* key and, when that key has no secret half,
        silently signs with another secret key of the keyring: the signer is checked."""
        signed = self.gpg.sign(text, keyid=fingerprint, clearsign=True)
        if not signed.data:
            raise RuntimeError(f"OpenPGP signing failed: {signed.stderr}")
        if signed.fingerprint != fingerprint:
            raise RuntimeError(f"OpenPGP signing failed: {fingerprint} has no secret key here")
        return Signed(text=str(signed), fingerprint=fingerprint)

    def signed_body(self, signed_text: str) -> Signed | None:
        """The signed text and the primary key that signed it, if the signature is valid
        for a key of this keyring; None otherwise. Which keys to trust is the caller's."""
        verified = self.gpg.verify(signed_text)
        if not verified.valid or not verified.fingerprint:
            return None
        signer = str(verified.pubkey_fingerprint or verified.fingerprint)
        return Signed(text=_clearsigned_body(signed_text), fingerprint=signer)

    def public_key(self, fingerprint: str) -> str:
        return str(self.gpg.export_keys(fingerprint) or "")

    def import_public(self, armored: str) -> None:
        self.gpg.import_keys(armored)

    def has_public(self, fingerprint: str) -> bool:
        return any(key["fingerprint"] == fingerprint for key in self.gpg.list_keys())

    def created_at(self, fingerprint: str) -> datetime | None:
        for key in self.gpg.list_keys():
            if key["fingerprint"] == fingerprint and key.get("date"):
                return datetime.fromtimestamp(int(key["date"]), tz=UTC)
        return None

    def delete_secret(self, fingerprint: str) -> None:
        """Delete the secret half of a key (and its subkeys'); the public half stays."""
        result = self.gpg.delete_keys(fingerprint, secret=True, expect_passphrase=False)
        if str(result) != "ok":
            raise RuntimeError(f"OpenPGP secret key deletion failed: {result.stderr}")

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


class NotAnEncryptionKey(ValueError):
    """The text given is not one OpenPGP public key that can encrypt."""


def encrypt_for(armored_key: str, source: Path, target: Path) -> str:
    """Encrypt ``source`` to one public key given as text (a practice's own key, never
    kept: a keyring of its own for this call); its fingerprint. The node cannot read
    what it wrote."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="carnet-recipient-") as home:
        gpg = gnupg.GPG(gnupghome=home)
        imported = gpg.import_keys(armored_key.strip())
        fingerprints = [fp for fp in (imported.fingerprints or []) if fp]
        # A secret key pasted by mistake is refused: the node never handles one.
        if len(set(fingerprints)) != 1 or "PRIVATE KEY BLOCK" in armored_key:
            raise NotAnEncryptionKey("not one OpenPGP public key")
        fingerprint = fingerprints[0]
        with source.open("rb") as stream:
            result = gpg.encrypt_file(
                stream,
                recipients=[fingerprint],
                output=str(target),
                armor=False,
                always_trust=True,
            )
        if not result.ok:
            raise NotAnEncryptionKey(result.status or "encryption failed")
        return str(fingerprint)
