"""Simple signing (containers-signature(5)): GPG-signed JSON claims, kept in lookaside storage.

A signature says "the manifest with digest D is the image R", signed by a key.  It is an
OpenPGP message wrapping the JSON payload; gpg makes it and gpgv checks it, each run through
:mod:`sealpod.utils.proc` against a throw-away keyring holding only the trusted keys, so the
user's own keyring never decides what a policy trusts.

Lookaside layout: ``BASE/<repository without host>@<algo>=<hex>/signature-N``, N from 1.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from sealpod.errors import CommandFailed, PolicyRejected, SignatureError
from sealpod.utils.record import dataclass

SIGNATURE_TYPE = "atomic container signature"
MAX_SIGNATURE_SIZE = 4 * 1024 * 1024
MAX_SIGNATURES = 128


@dataclass(frozen=True)
class Claim:
    """The critical part of a verified signature."""

    manifest_digest: str
    docker_reference: str
    fingerprint: str


def make_payload(manifest_digest: str, docker_reference: str, timestamp: int | None = None) -> bytes:
    """The JSON that gets signed, as containers/image writes it (sorted keys, no spaces)."""
    import json
    import time

    doc = {
        "critical": {"identity": {"docker-reference": docker_reference},
                     "image": {"docker-manifest-digest": manifest_digest}, "type": SIGNATURE_TYPE},
        "optional": {"creator": "sealpod", "timestamp": int(time.time()) if timestamp is None else timestamp},
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def parse_payload(payload: bytes) -> tuple[str, str]:
    """(manifest digest, docker reference) of a verified payload; strict, as c/image is."""
    import json

    try:
        doc = json.loads(payload)
    except ValueError as e:
        raise PolicyRejected(f"Source image rejected: Invalid signature format: {e}") from e
    critical = doc.get("critical") if isinstance(doc, dict) else None
    if not isinstance(critical, dict) or not isinstance(doc.get("optional", {}), dict):
        raise PolicyRejected('Source image rejected: Invalid signature format: "critical" field missing')
    if critical.get("type") != SIGNATURE_TYPE:
        raise PolicyRejected(f"Source image rejected: Unrecognized signature type {critical.get('type')}")
    image, identity = critical.get("image"), critical.get("identity")
    digest = image.get("docker-manifest-digest") if isinstance(image, dict) else None
    reference = identity.get("docker-reference") if isinstance(identity, dict) else None
    if not isinstance(digest, str) or not isinstance(reference, str):
        raise PolicyRejected("Source image rejected: Invalid signature format: image or identity missing")
    return digest, reference


# --- gpg ----------------------------------------------------------------------------------

@contextmanager
def _workdir() -> Iterator[Path]:
    import shutil

    path = Path(tempfile.mkdtemp(prefix="sealpod-gpg-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _gpg_env(env: Mapping[str, str], home: Path | None) -> dict[str, str]:
    keep = {k: v for k, v in env.items() if k in ("PATH", "HOME", "GNUPGHOME", "LANG", "LC_ALL", "GPG_AGENT_INFO")}
    keep.setdefault("PATH", os.environ.get("PATH", "/usr/bin:/bin"))
    keep["LC_ALL"] = "C"
    if home is not None:
        keep["GNUPGHOME"] = str(home)
    return keep


def _keyring(keys: Sequence[bytes], work: Path) -> Path:
    """One binary keyring file holding ``keys`` (armored keys are dearmored first)."""
    from sealpod.utils.proc import run

    ring = work / "trusted.gpg"
    with open(ring, "wb") as out:
        for i, key in enumerate(keys):
            if key.lstrip().startswith(b"-----BEGIN"):
                try:
                    key = run(["gpg", "--batch", "--dearmor"], input=key, env=_gpg_env({}, work / f"h{i}")).stdout
                except CommandFailed as e:
                    raise PolicyRejected(f"Source image rejected: No public keys imported: {e}") from e
            out.write(key)
    return ring


def verify(keys: Sequence[bytes], signature: bytes) -> tuple[bytes, str]:
    """The signed payload and the signing key's primary fingerprint, if one of ``keys`` made it."""
    from sealpod.utils.proc import run

    if not keys:
        raise PolicyRejected("Source image rejected: No public keys imported")
    with _workdir() as work:
        ring = _keyring(keys, work)
        sig = work / "signature"
        sig.write_bytes(signature)
        out = work / "payload"
        res = run(["gpgv", "--status-fd", "1", "--keyring", ring, "--output", out, sig], check=False,
                  env=_gpg_env({}, work))
        status = res.stdout.decode(errors="replace").splitlines()
        valid = [line.split() for line in status if line.startswith("[GNUPG:] VALIDSIG ")]
        if res.returncode != 0 or not valid or not out.exists():
            raise PolicyRejected(f"Source image rejected: Invalid GPG signature: {_gpgv_reason(status, res.stderr)}")
        return out.read_bytes(), valid[0][-1]


def _gpgv_reason(status: list[str], stderr: bytes) -> str:
    for line in status:
        words = line.split()
        if len(words) >= 3 and words[1] in ("ERRSIG", "NO_PUBKEY"):
            return f"signature by key {words[2]}, which is not trusted"
        if len(words) >= 3 and words[1] == "BADSIG":
            return f"bad signature by key {words[2]}"
    text = stderr.decode(errors="replace").strip().splitlines()
    return text[-1].removeprefix("gpgv: ") if text else "no valid OpenPGP signature found"


def sign(payload: bytes, key_id: str, env: Mapping[str, str], passphrase_file: Path | None = None) -> bytes:
    """An OpenPGP signed message of ``payload`` by ``key_id`` from the user's keyring (GNUPGHOME);
    ``passphrase_file`` (``--sign-passphrase-file``): its first line unlocks the key, else gpg's agent does."""
    from sealpod.utils.proc import run

    argv = ["gpg", "--batch", "--no-tty", "--status-fd", "2", "--local-user", key_id, "--sign", "--output", "-"]
    if passphrase_file is not None:
        argv[1:1] = ["--pinentry-mode", "loopback", "--passphrase-file", os.fspath(passphrase_file)]
    try:
        return run(argv, input=payload, env=_gpg_env(env, None)).stdout
    except CommandFailed as e:
        text = str(e)
        if "INV_SGNR" in text or "No secret key" in text or "skipped" in text:
            raise SignatureError(f'key "{key_id}" not found') from e
        raise SignatureError(f"signing with key {key_id!r}: {text.splitlines()[-1] if text else e}") from e


def key_identities(path: Path) -> list[str]:
    """The user IDs in a public key file (``image trust show``'s ID column); none if unreadable."""
    from sealpod.utils.proc import run

    with _workdir() as work:
        res = run(["gpg", "--batch", "--with-colons", "--show-keys", path], check=False, env=_gpg_env({}, work))
    ids = []
    for line in res.stdout.decode(errors="replace").splitlines():
        fields = line.split(":")
        if fields[0] == "uid" and len(fields) > 9 and fields[9]:
            uid = fields[9]
            if "<" in uid and ">" in uid.partition("<")[2]:  # "Name <email>": Podman shows the email
                uid = uid.partition("<")[2].partition(">")[0]
            ids.append(uid)
    return ids


def key_data_identities(data: bytes) -> list[str]:
    """:func:`key_identities` of a policy's inline ``keyData``."""
    with _workdir() as work:
        path = work / "key-data"
        path.write_bytes(data)
        return key_identities(path)


# --- lookaside storage --------------------------------------------------------------------

def signature_dir(base_url: str, repository: str, manifest_digest: str) -> str:
    """The URL of the directory holding one manifest's signatures (``repository`` without host)."""
    algo, _, hexpart = manifest_digest.partition(":")
    return f"{base_url.rstrip('/')}/{repository}@{algo}={hexpart}"


def read_signatures(base_url: str, repository: str, manifest_digest: str) -> list[bytes]:
    """Every ``signature-N`` there, in order, until the first missing one."""
    from urllib.parse import unquote, urlsplit

    where = signature_dir(base_url, repository, manifest_digest)
    parts = urlsplit(where)
    if parts.scheme == "file":
        return read_file_signatures(Path(unquote(parts.path)))
    if parts.scheme in ("http", "https"):
        return _read_http_signatures(where)
    raise PolicyRejected(f"Source image rejected: Unsupported scheme when reading signatures from {where}")


def read_file_signatures(directory: Path) -> list[bytes]:
    sigs: list[bytes] = []
    for n in range(1, MAX_SIGNATURES + 1):
        try:
            with open(directory / f"signature-{n}", "rb") as f:
                data = f.read(MAX_SIGNATURE_SIZE + 1)
        except FileNotFoundError:
            break
        except OSError as e:
            raise PolicyRejected(f"Source image rejected: reading signatures: {e.strerror or e}") from e
        if len(data) > MAX_SIGNATURE_SIZE:
            raise PolicyRejected(f"Source image rejected: signature-{n} is larger than {MAX_SIGNATURE_SIZE} bytes")
        sigs.append(data)
    return sigs


def _read_http_signatures(where: str) -> list[bytes]:
    from sealpod.image.registry.http import HttpPool, TransportFailure, make_ssl_context

    pool = HttpPool(make_ssl_context([], True), 30.0)
    sigs: list[bytes] = []
    try:
        for n in range(1, MAX_SIGNATURES + 1):
            url = f"{where}/signature-{n}"
            reply = pool.request("GET", url, {})
            if reply.status == 404:
                reply.read()
                break
            if reply.status != 200:
                reply.read()
                raise PolicyRejected(f"Source image rejected: reading signature from {url}: status {reply.status} "
                                     f"({reply.reason})")
            try:
                sigs.append(reply.read(MAX_SIGNATURE_SIZE))
            except ValueError as e:
                raise PolicyRejected(f"Source image rejected: reading signature from {url}: {e}") from e
    except TransportFailure as e:
        raise PolicyRejected(f"Source image rejected: reading signatures: {e}") from e
    finally:
        pool.close()
    return sigs


def write_signatures(base_url: str, repository: str, manifest_digest: str, sigs: Sequence[bytes],
                     append: bool) -> Path:
    """Store ``sigs`` under a ``file://`` lookaside: appended after the existing ones, or
    replacing them all (a push writes the image's complete set); returns the directory."""
    from urllib.parse import unquote, urlsplit

    where = signature_dir(base_url, repository, manifest_digest)
    parts = urlsplit(where)
    if parts.scheme != "file":
        raise SignatureError(f"Writing directly to a {parts.scheme} lookaside {base_url} is not supported. "
                             "Configure a lookaside-staging: location")
    directory = Path(unquote(parts.path))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        start = len(read_file_signatures(directory)) + 1 if append else 1
        for i, sig in enumerate(sigs, start):
            tmp = directory / f".signature-{i}.tmp"
            tmp.write_bytes(sig)
            os.replace(tmp, directory / f"signature-{i}")
        if not append:
            n = len(sigs) + 1
            while (directory / f"signature-{n}").exists():
                (directory / f"signature-{n}").unlink()
                n += 1
    except OSError as e:
        raise SignatureError(f"writing signatures to {directory}: {e.strerror or e}") from e
    return directory
