"""Officers' SSH keys and the `authorized_keys` lines written from them.

One service account serves the whole floor; each officer's key gets a line whose forced
command opens Arrears as that officer and nothing else (the gitolite/Gitea pattern). A key
is parsed, never pasted: only its type and base64 body, both re-checked, reach the file,
and the officer's name is validated again as the line is written, so neither a key file
nor a name can smuggle in options of its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from db.audit import Actor, write_transaction
from db.models import Officer, SshKey
from db.officers import OfficerError, require_role, validate_username

# Types OpenSSH accepts for user keys that `cryptography` can check. Certificates and
# security-key (sk-) types are refused: a floor's officers use plain keys.
ALGORITHMS = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")
MIN_RSA_BITS = 2048
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_COMMENT = re.compile(r"[^A-Za-z0-9@._+-]")


class SshKeyError(ValueError):
    """The key cannot be used; the message says why."""


@dataclass(frozen=True)
class PublicKey:
    algorithm: str
    blob: str
    comment: str

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.blob)


def fingerprint_of(blob: str) -> str:
    """`SHA256:…`, as `ssh-keygen -l` prints it."""
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def parse_public_key(text: str) -> PublicKey:
    """One OpenSSH public key (`type base64 [comment]`), checked down to the key material."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_ssh_public_key

    lines = [line.strip() for line in text.replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines:
        raise SshKeyError("the file holds no public key")
    if len(lines) > 1:
        raise SshKeyError("the file holds more than one line: give one public key per file")
    fields = lines[0].split()
    if len(fields) < 2:
        raise SshKeyError("this is not an OpenSSH public key (expected: type, key, optional comment)")
    algorithm, blob = fields[0], fields[1]
    if algorithm not in ALGORITHMS:
        if "PRIVATE KEY" in text:
            raise SshKeyError("this is a private key: give the public key (the .pub file)")
        if "-cert-v01@openssh.com" in algorithm:
            raise SshKeyError("certificates are not accepted: give the plain public key")
        if any(name in lines[0] for name in ALGORITHMS):
            raise SshKeyError("the line has options before the key: give the public key alone, as ssh-keygen wrote it")
        raise SshKeyError(f"key type {algorithm[:40]!r} is not accepted; use one of {', '.join(ALGORITHMS)}")
    if not _BASE64.match(blob):
        raise SshKeyError("the key is not valid base64")
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise SshKeyError("the key is not valid base64") from None
    # The blob names its own type first; it must agree with the line's.
    if len(raw) < 4 or raw[4:4 + int.from_bytes(raw[:4], "big")].decode("ascii", "replace") != algorithm:
        raise SshKeyError(f"the key's body is not a {algorithm} key")
    try:
        key = load_ssh_public_key(f"{algorithm} {blob}".encode())
    except (ValueError, TypeError) as exc:
        raise SshKeyError(f"the key cannot be read: {exc}") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise SshKeyError(f"RSA keys need at least {MIN_RSA_BITS} bits; this one has {key.key_size}")
    comment = _COMMENT.sub("", " ".join(fields[2:]).replace(" ", "_"))[:64]
    return PublicKey(algorithm, blob, comment)


def _officer(username: str) -> Officer:
    officer = Officer.get_or_none(Officer.username == username)
    if officer is None:
        raise OfficerError(f"there is no officer {username!r}")
    return officer


def add_key(actor: Actor, username: str, text: str) -> SshKey:
    """Give an officer a key (admins only). A key already given to anyone is refused."""
    require_role(actor, "admin")
    key = parse_public_key(text)
    with write_transaction(actor) as tx:
        officer = _officer(username)
        holder = SshKey.get_or_none(SshKey.fingerprint == key.fingerprint)
        if holder is not None:
            owner = "this officer" if holder.officer_id == officer.id else f"officer {holder.officer.username!r}"
            raise OfficerError(f"key {key.fingerprint} already belongs to {owner}")
        row = SshKey.create(officer=officer, algorithm=key.algorithm, blob=key.blob,
                            fingerprint=key.fingerprint, comment=key.comment)
        tx.audit("ssh_key.add", "ssh_key", row.id,
                 changes={"officer": username, "fingerprint": key.fingerprint, "type": key.algorithm})
    return row


def remove_key(actor: Actor, username: str, fingerprint: str) -> None:
    """Take a key away (admins only); `fingerprint` may be given without `SHA256:`."""
    require_role(actor, "admin")
    wanted = fingerprint if fingerprint.startswith("SHA256:") else f"SHA256:{fingerprint}"
    with write_transaction(actor) as tx:
        officer = _officer(username)
        row = SshKey.get_or_none(SshKey.officer == officer, SshKey.fingerprint == wanted)
        if row is None:
            raise OfficerError(f"officer {username!r} has no key {wanted}")
        tx.audit("ssh_key.remove", "ssh_key", row.id, changes={"officer": username, "fingerprint": wanted})
        row.delete_instance()


def keys_of(actor: Actor, username: str) -> list[SshKey]:
    require_role(actor, "admin")
    officer = _officer(username)
    return list(SshKey.select().where(SshKey.officer == officer).order_by(SshKey.id))


def authorized_keys_lines(command: str) -> list[str]:
    """One line per key of every active officer, in a stable order."""
    if not command.startswith("/") or any(ch in command for ch in '"\\') or any(ord(ch) < 32 for ch in command):
        raise ValueError("the forced command must be an absolute path without quotes, backslashes or control characters")
    lines = []
    query = (SshKey.select(SshKey, Officer).join(Officer)
             .where(Officer.active == True).order_by(Officer.username, SshKey.id))  # noqa: E712
    for key in query:
        username = validate_username(key.officer.username)  # again: it goes into a command line
        # Re-checked as written: a row altered in the database cannot add options either.
        if key.algorithm not in ALGORITHMS or not _BASE64.match(key.blob):
            raise ValueError(f"key {key.id} of {username} is damaged in the database; remove it and add it again")
        lines.append(f'restrict,pty,command="{command} tui --officer {username}" '
                     f"{key.algorithm} {key.blob} arrears:{username}:{key.id}")
    return lines


def authorized_keys_text(command: str) -> str:
    header = ("# Written by `arrears ssh authorized-keys`: each key opens Arrears as its officer and nothing else.\n"
              "# Do not edit: the next write replaces this file. Manage keys with `arrears officers key`.\n")
    return header + "".join(line + "\n" for line in authorized_keys_lines(command))


def write_authorized_keys(path: Path, text: str) -> None:
    """Replace `path` atomically with mode 0600: sshd never reads a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(prefix=".authorized_keys.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
