"""Moodle's MNET envelope: sign (RSA PKCS#1 v1.5 with SHA-1, `<signedMessage>`) then seal
(`<encryptedMessage>`: RC4 with an RSA-wrapped key as Moodle peers expect, or AES-256-GCM
with an RSA-OAEP-wrapped key for peers configured for it).

The layout is Moodle's (mnet/lib.php: mnet_sign_message, mnet_encrypt_message); elements
are read by local name, case-insensitively, as Moodle's parser does; the sealed data is
the first CipherValue and the wrapped key the last.
"""

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

DSIG = "http://www.w3.org/2000/09/xmldsig#"
XMLENC = "http://www.w3.org/2001/04/xmlenc#"
ARCFOUR = XMLENC + "arcfour"
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
RSA_1_5 = XMLENC + "rsa-1_5"
RSA_OAEP = XMLENC + "rsa-oaep-mgf1p"
CIPHER_ALGORITHMS = {"rc4": (ARCFOUR, RSA_1_5), "aes": (AES256_GCM, RSA_OAEP)}
DECLARATION = '<?xml version="1.0" encoding="iso-8859-1"?>\n'
_UNIX_TIME = re.compile(r"-?[0-9]{1,18}")  # ASCII digits only: int() would take "١٢" too
_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


class EnvelopeError(ValueError):
    """The document is not an envelope of the expected kind."""


class Undecryptable(EnvelopeError):
    """None of the keys tried opens the sealed data."""


@dataclass(frozen=True)
class Signed:
    """A `<signedMessage>` as read: the payload and what the signature claims."""

    payload: bytes
    digest: str
    signature: bytes
    wwwroot: str
    timestamp: str

    @property
    def sent_at(self) -> int | None:
        """The timestamp in Unix seconds; None when it is not a decimal integer of at most 18 digits."""
        text = self.timestamp.strip()
        return int(text) if _UNIX_TIME.fullmatch(text) else None

    @property
    def digest_matches(self) -> bool:
        """Whether `DigestValue` is the SHA-1 of the payload, as the envelope claims."""
        return hashlib.sha1(self.payload).hexdigest() == self.digest.strip().lower()

    def verify(self, public_key: rsa.RSAPublicKey) -> bool:
        if not self.digest_matches:
            return False
        try:
            public_key.verify(self.signature, self.payload, padding.PKCS1v15(), hashes.SHA1())
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Sealed:
    """An `<encryptedMessage>` as read."""

    algorithm: str
    data: bytes
    wrapped_key: bytes
    wwwroot: str

    @property
    def cipher(self) -> str:
        return "aes" if self.algorithm == AES256_GCM else "rc4"


def sign(payload: bytes, private_key: rsa.RSAPrivateKey, wwwroot: str, timestamp: int) -> bytes:
    signature = private_key.sign(payload, padding.PKCS1v15(), hashes.SHA1())
    return (
        DECLARATION + f'<signedMessage><Signature Id="MoodleSignature" xmlns="{DSIG}"><SignedInfo>'
        '<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
        f'<SignatureMethod Algorithm="{DSIG}rsa-sha1"/>'
        f'<Reference URI="#XMLRPC-MSG"><DigestMethod Algorithm="{DSIG}sha1"/>'
        f"<DigestValue>{hashlib.sha1(payload).hexdigest()}</DigestValue></Reference></SignedInfo>"
        f"<SignatureValue>{base64.b64encode(signature).decode()}</SignatureValue>"
        f"<KeyInfo><RetrievalMethod URI={quoteattr(wwwroot + '/mnet/publickey.php')}/></KeyInfo></Signature>"
        f'<object ID="XMLRPC-MSG">{base64.b64encode(payload).decode()}</object>'
        f"<wwwroot>{escape(wwwroot)}</wwwroot><timestamp>{int(timestamp)}</timestamp></signedMessage>"
    ).encode("iso-8859-1", errors="xmlcharrefreplace")


def seal(message: bytes, public_key: rsa.RSAPublicKey, wwwroot: str, cipher: str = "rc4") -> bytes:
    algorithm, key_transport = CIPHER_ALGORITHMS[cipher]
    if cipher == "aes":
        key, nonce = os.urandom(32), os.urandom(12)
        data = nonce + AESGCM(key).encrypt(nonce, message, None)
        wrapped = public_key.encrypt(key, _OAEP)
    else:
        key = os.urandom(16)
        data = Cipher(ARC4(key), mode=None).encryptor().update(message)
        wrapped = public_key.encrypt(key, padding.PKCS1v15())
    return (
        DECLARATION + f'<encryptedMessage><EncryptedData Id="ED" xmlns="{XMLENC}">'
        f'<EncryptionMethod Algorithm="{algorithm}"/>'
        f'<ds:KeyInfo xmlns:ds="{DSIG}"><ds:RetrievalMethod URI="#EK" Type="{XMLENC}EncryptedKey"/>'
        "<ds:KeyName>XMLENC</ds:KeyName></ds:KeyInfo>"
        f"<CipherData><CipherValue>{base64.b64encode(data).decode()}</CipherValue></CipherData></EncryptedData>"
        f'<EncryptedKey Id="EK" xmlns="{XMLENC}"><EncryptionMethod Algorithm="{key_transport}"/>'
        f'<ds:KeyInfo xmlns:ds="{DSIG}"><ds:KeyName>SSLKEY</ds:KeyName></ds:KeyInfo>'
        f"<CipherData><CipherValue>{base64.b64encode(wrapped).decode()}</CipherValue></CipherData>"
        '<ReferenceList><DataReference URI="#ED"/></ReferenceList><CarriedKeyName>XMLENC</CarriedKeyName>'
        f"</EncryptedKey><wwwroot>{escape(wwwroot)}</wwwroot></encryptedMessage>"
    ).encode("iso-8859-1", errors="xmlcharrefreplace")


def kind(document: bytes) -> str:
    """'encrypted', 'signed' or 'plain', from the root element's name."""
    head = document[:300].lower()
    if b"<encryptedmessage" in head:
        return "encrypted"
    if b"<signedmessage" in head:
        return "signed"
    return "plain"


def read_signed(document: bytes) -> Signed:
    texts = _texts(document, "signedmessage")
    try:
        return Signed(
            payload=base64.b64decode(texts["object"][0], validate=False),
            digest=texts["digestvalue"][0],
            signature=base64.b64decode(texts["signaturevalue"][0], validate=False),
            wwwroot=texts["wwwroot"][-1].strip().rstrip("/"),
            timestamp=texts["timestamp"][0].strip(),
        )
    except (KeyError, IndexError, ValueError):
        raise EnvelopeError("incomplete signedMessage") from None


def read_sealed(document: bytes) -> Sealed:
    root = _parse(document, "encryptedmessage")
    texts = _collect(root)
    methods = [e.get("Algorithm", "") for e in root.iter() if _local(e) == "encryptionmethod"]
    try:
        return Sealed(
            algorithm=methods[0] if methods else ARCFOUR,
            data=base64.b64decode(texts["ciphervalue"][0]),
            wrapped_key=base64.b64decode(texts["ciphervalue"][-1]),
            wwwroot=texts["wwwroot"][-1].strip().rstrip("/"),
        )
    except (KeyError, IndexError, ValueError):
        raise EnvelopeError("incomplete encryptedMessage") from None


def open_sealed(sealed: Sealed, private_key: rsa.RSAPrivateKey) -> bytes:
    """The sealed message, Undecryptable if this key does not open it."""
    try:
        if sealed.algorithm == AES256_GCM:
            key = private_key.decrypt(sealed.wrapped_key, _OAEP)
            return AESGCM(key).decrypt(sealed.data[:12], sealed.data[12:], None)
        if sealed.algorithm != ARCFOUR:
            raise Undecryptable("unsupported cipher")
        # PKCS#1 v1.5 with implicit rejection: a wrong key gives a random key, not an error,
        # so the plaintext itself must show that it is the message
        key = private_key.decrypt(sealed.wrapped_key, padding.PKCS1v15())
        message = Cipher(ARC4(key), mode=None).decryptor().update(sealed.data)
    except (ValueError, InvalidTag):
        raise Undecryptable("wrong key") from None
    if not message.lstrip().startswith(b"<"):
        raise Undecryptable("wrong key")
    return message


def _parse(document: bytes, expected_root: str) -> Element:
    try:
        root = fromstring(document, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError, LookupError):  # LookupError: an unknown encoding
        raise EnvelopeError("not well-formed XML") from None
    if _local(root) != expected_root:
        raise EnvelopeError(f"not a {expected_root}")
    return root


def _texts(document: bytes, expected_root: str) -> dict[str, list[str]]:
    return _collect(_parse(document, expected_root))


def _collect(root: Element) -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    for element in root.iter():
        texts.setdefault(_local(element), []).append(element.text or "")
    return texts


def _local(element: Element) -> str:
    return str(element.tag).rsplit("}", 1)[-1].lower()
