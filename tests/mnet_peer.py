"""A Moodle peer built by hand: key pair, certificate, and envelopes written exactly as
reference/moodle-and-educativa.md section 2 describes Moodle's (mnet_sign_message,
mnet_encrypt_message), independently of rpc/envelope.py."""

import base64
import hashlib
import os
import re
import xmlrpc.client
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher
from cryptography.x509.oid import NameOID

MOODLE = "http://moodle.test"


class HandMadePeer:
    def __init__(self, wwwroot: str = "http://moodle.test"):
        self.wwwroot = wwwroot
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, wwwroot)])
        now = datetime.now(UTC)
        self.certificate_pem = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=28))
            .sign(self.key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
            .decode()
        )

    @classmethod
    def made_by_moodle(cls) -> "HandMadePeer":
        """http://moodle.test with the key pair and serial-0 certificate PHP made as Moodle does
        (tests/fixtures/mnet/moodle_serial0.pem)."""
        text = (Path(__file__).parent / "fixtures" / "mnet" / "moodle_serial0.pem").read_text()
        split = text.index("-----BEGIN PRIVATE KEY-----")
        peer = cls.__new__(cls)
        peer.wwwroot, peer.certificate_pem = MOODLE, text[:split]
        key = serialization.load_pem_private_key(text[split:].encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        peer.key = key
        return peer

    def caller(self, username: str = "borges") -> dict[str, str]:
        return {"username": username, "remoteuserhostroot": self.wwwroot, "remotehostroot": self.wwwroot}

    def signed(self, payload: bytes, timestamp: int | None = None) -> bytes:
        signature = self.key.sign(payload, padding.PKCS1v15(), hashes.SHA1())
        stamp = int(datetime.now(UTC).timestamp()) if timestamp is None else timestamp
        return f"""<?xml version="1.0" encoding="iso-8859-1"?>
<signedMessage><Signature Id="MoodleSignature" xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>
 <CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
 <SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>
 <Reference URI="#XMLRPC-MSG"><DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/><DigestValue>{hashlib.sha1(payload).hexdigest()}</DigestValue></Reference>
</SignedInfo><SignatureValue>{base64.b64encode(signature).decode()}</SignatureValue>
<KeyInfo><RetrievalMethod URI="{self.wwwroot}/mnet/publickey.php"/></KeyInfo></Signature>
<object ID="XMLRPC-MSG">{base64.b64encode(payload).decode()}</object><wwwroot>{self.wwwroot}</wwwroot><timestamp>{stamp}</timestamp></signedMessage>""".encode()

    def sealed(self, message: bytes, recipient_certificate_pem: str, wwwroot: str | None = None) -> bytes:
        recipient = x509.load_pem_x509_certificate(recipient_certificate_pem.encode()).public_key()
        assert isinstance(recipient, rsa.RSAPublicKey)
        session_key = os.urandom(16)
        data = Cipher(ARC4(session_key), mode=None).encryptor().update(message)
        wrapped = recipient.encrypt(session_key, padding.PKCS1v15())
        return f"""<?xml version="1.0" encoding="iso-8859-1"?>
<encryptedMessage><EncryptedData Id="ED" xmlns="http://www.w3.org/2001/04/xmlenc#">
 <EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#arcfour"/>
 <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:RetrievalMethod URI="#EK" Type="http://www.w3.org/2001/04/xmlenc#EncryptedKey"/><ds:KeyName>XMLENC</ds:KeyName></ds:KeyInfo>
 <CipherData><CipherValue>{base64.b64encode(data).decode()}</CipherValue></CipherData></EncryptedData>
<EncryptedKey Id="EK" xmlns="http://www.w3.org/2001/04/xmlenc#"><EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-1_5"/>
 <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:KeyName>SSLKEY</ds:KeyName></ds:KeyInfo><CipherData><CipherValue>{base64.b64encode(wrapped).decode()}</CipherValue></CipherData>
 <ReferenceList><DataReference URI="#ED"/></ReferenceList><CarriedKeyName>XMLENC</CarriedKeyName></EncryptedKey>
<wwwroot>{wwwroot or self.wwwroot}</wwwroot></encryptedMessage>""".encode()

    def open_answer(self, answer: bytes, server_certificate_pem: str) -> bytes:
        """Decrypt (first CipherValue data, last the key) and check the signature: the XML-RPC answer."""
        if b"<encryptedMessage>" in answer[:100]:
            values = re.findall(rb"<CipherValue>([^<]*)</CipherValue>", answer)
            session_key = self.key.decrypt(base64.b64decode(values[-1]), padding.PKCS1v15())
            answer = Cipher(ARC4(session_key), mode=None).decryptor().update(base64.b64decode(values[0]))
        assert b"<signedMessage>" in answer[:100], answer[:200]
        payload = base64.b64decode(_first_group(rb"<object ID=\"XMLRPC-MSG\">([^<]*)</object>", answer))
        signature = base64.b64decode(_first_group(rb"<SignatureValue>([^<]*)</SignatureValue>", answer))
        digest = _first_group(rb"<DigestValue>([^<]*)</DigestValue>", answer).decode()
        server = x509.load_pem_x509_certificate(server_certificate_pem.encode()).public_key()
        assert isinstance(server, rsa.RSAPublicKey), type(server)
        server.verify(signature, payload, padding.PKCS1v15(), hashes.SHA1())  # raises if bad
        assert digest == hashlib.sha1(payload).hexdigest()
        return payload


def _first_group(pattern: bytes, document: bytes) -> bytes:
    found = re.search(pattern, document)
    assert found is not None, (pattern, document[:200])
    return found.group(1)


@cache
def moodle_peer() -> HandMadePeer:
    """The Moodle the tests call from (its key pair is made once per test run)."""
    return HandMadePeer(MOODLE)


def method_call(method: str, *params: Any) -> bytes:
    return xmlrpc.client.dumps(params, method).encode()


def answer_value(document: bytes) -> Any:
    """The value of a methodResponse; a fault is returned as (code, text)."""
    try:
        return xmlrpc.client.loads(document, use_builtin_types=True)[0][0]
    except xmlrpc.client.Fault as fault:
        return (fault.faultCode, fault.faultString)
