"""Each practice of a node has its own OpenPGP key pair, kept in the node's keyring:
it signs what the practice sends and decrypts what it receives. Rotation makes a new
key; the previous one stays in the keyring to open messages already in flight."""

from __future__ import annotations

from core import openpgp


def practice_uid(node: str, slug: str) -> str:
    return f"{slug}@{node}.carnet"


def practice_fingerprint(node: str, slug: str) -> str | None:
    """The newest secret key of this practice, if any."""
    gpg = openpgp.node_keyring().gpg
    keys = [
        key
        for key in gpg.list_keys(secret=True)
        if any(practice_uid(node, slug) in uid for uid in key.get("uids", []))
    ]
    if not keys:
        return None
    newest = max(keys, key=lambda key: int(key.get("date") or 0))
    return str(newest["fingerprint"])


def ensure_practice_key(node: str, slug: str, name: str, *, rotate: bool = False) -> str:
    keyring = openpgp.node_keyring()
    existing = practice_fingerprint(node, slug)
    if existing and not rotate:
        return existing
    params = keyring.gpg.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        key_usage="sign",
        subkey_type="ECDH",
        subkey_curve="cv25519",
        subkey_usage="encrypt",
        name_real=f"Carnet — {name}",
        name_email=practice_uid(node, slug),
        expire_date=0,
        no_protection=True,
    )
    key = keyring.gpg.gen_key(params)
    if not key.fingerprint:
        raise RuntimeError(f"key generation failed: {key.stderr}")
    return str(key.fingerprint)


def public_key(fingerprint: str) -> str:
    return str(openpgp.node_keyring().gpg.export_keys(fingerprint))
