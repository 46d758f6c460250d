"""RSA2 (SHA256withRSA, PKCS#1 v1.5, base64) as Alipay's open platform uses it.

Requests are signed by the app over the sorted ``k=v`` pairs of every non-empty
parameter except ``sign``, joined by ``&`` (Alipay's SDKs include ``sign_type``;
the notification rule drops it too, and the stub accepts either).  Responses are
signed by the gateway over the exact text of the ``*_response`` JSON object.

Key files in a ``--keys`` directory (PEM; PKCS#8 or PKCS#1 private, SPKI public):

    gateway_private_key.pem   the stub signs responses with it
    gateway_public_key.pem    (for clients) verifies the stub's responses
    app_private_key.pem       (for clients) signs requests
    app_public_key.pem        the stub verifies requests with it
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from load.gateway.wire import sign_content
from scanrush.errors import InputError

GATEWAY_PRIVATE = "gateway_private_key.pem"
GATEWAY_PUBLIC = "gateway_public_key.pem"
APP_PRIVATE = "app_private_key.pem"
APP_PUBLIC = "app_public_key.pem"


class Signer:
    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._key = key

    def sign(self, text: str) -> str:
        raw = self._key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode("ascii")

    @property
    def public_key(self) -> Verifier:
        return Verifier(self._key.public_key())


class Verifier:
    def __init__(self, key: rsa.RSAPublicKey) -> None:
        self._key = key

    def verify(self, text: str, signature: str) -> bool:
        try:
            raw = base64.b64decode(signature.encode("ascii"), validate=True)
            self._key.verify(raw, text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error, UnicodeEncodeError, ValueError):
            return False
        return True

    def verify_request(self, params: Mapping[str, str]) -> bool:
        """A request's ``sign`` under the SDK rule, or under the notification rule (also without sign_type)."""
        signature = params.get("sign", "")
        return self.verify(sign_content(params), signature) or self.verify(
            sign_content(params, exclude=("sign", "sign_type")), signature)


@dataclass(frozen=True, slots=True)
class GatewayKeys:
    """What the stub needs: its own private key and the app's public key."""

    gateway: Signer
    app: Verifier


def generate_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def write_keys(directory: Path) -> None:
    """Make a fresh gateway key pair and app key pair in ``directory`` (tests, local set-up)."""
    directory.mkdir(parents=True, exist_ok=True)
    for private_name, public_name in ((GATEWAY_PRIVATE, GATEWAY_PUBLIC), (APP_PRIVATE, APP_PUBLIC)):
        key = generate_private_key()
        (directory / private_name).write_bytes(private_pem(key))
        (directory / public_name).write_bytes(public_pem(key))


def load_signer(path: Path) -> Signer:
    try:
        key = serialization.load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError(f"{path}: cannot load the private key ({exc})") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InputError(f"{path}: not an RSA private key (RSA2 needs one)")
    return Signer(key)


def load_verifier(path: Path) -> Verifier:
    try:
        key = serialization.load_pem_public_key(_read(path))
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InputError(f"{path}: cannot load the public key ({exc})") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise InputError(f"{path}: not an RSA public key (RSA2 needs one)")
    return Verifier(key)


def load_gateway_keys(directory: Path) -> GatewayKeys:
    """The stub's keys from ``directory`` (:data:`GATEWAY_PRIVATE`, :data:`APP_PUBLIC`)."""
    return GatewayKeys(gateway=load_signer(directory / GATEWAY_PRIVATE), app=load_verifier(directory / APP_PUBLIC))


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the key file ({exc.strerror}); "
                         f"a --keys directory holds {GATEWAY_PRIVATE} and {APP_PUBLIC}") from exc
    if b"-----BEGIN" not in data:
        raise InputError(f"{path}: not a PEM key file")
    return data
