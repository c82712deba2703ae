"""Secrets kept in the gallery as slow salted hashes: the admin PIN (core.gallery.admin) and each
person's door PIN and duress PIN (core.door.factors).

A record is JSON text carrying everything needed to check an answer later - the KDF, its cost
parameters, a per-secret random salt and the hash - so raising the cost for new secrets never
breaks old ones. scrypt is slow and memory-hard: a copied database does not give a PIN away in
seconds per guess. Answers are compared in constant time. The secret itself is never stored,
logged, or returned.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

#: scrypt cost: n=2**15, r=8 takes ~32 MB and ~0.1 s here, per guess.
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
#: checked against when a person has no such secret, so a check takes as long either way
_NOBODY = json.dumps({"kdf": "scrypt", **SCRYPT, "salt": "00" * 16, "hash": "00" * 32})


def hash_secret(secret: str) -> str:
    """The JSON record of a new salted scrypt hash of ``secret``."""
    salt = os.urandom(16)
    return json.dumps({"kdf": "scrypt", **SCRYPT, "salt": salt.hex(), "hash": _scrypt(secret, salt, SCRYPT).hex()})


def matches(record: str | None, answer: str) -> bool:
    """Whether ``answer`` is the secret of ``record`` (None: no secret, never matches, after the
    same work). A damaged record matches nothing."""
    try:
        data = json.loads(record or _NOBODY)
        params = {k: int(data[k]) for k in ("n", "r", "p")}
        expected, salt = bytes.fromhex(data["hash"]), bytes.fromhex(data["salt"])
    except (ValueError, KeyError, TypeError):
        return False
    return hmac.compare_digest(_scrypt(answer or "", salt, params), expected) and record is not None


def _scrypt(secret: str, salt: bytes, params: dict) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"),
        salt=salt,
        n=params["n"],
        r=params["r"],
        p=params["p"],
        maxmem=256 * params["n"] * params["r"] + (1 << 20),
        dklen=32,
    )
