"""Peers' X.509 certificates read as MNET needs them: the names and the RSA public key.

Moodle makes its certificates with `openssl_csr_sign(..., serial 0)`. `cryptography`
warns on such a serial (RFC 5280 wants it positive) and announces it will refuse
them; our suite turns warnings into errors, and every real Moodle peer would break
on that upgrade. So certificates are parsed with asn1crypto, which reads the DER
as it is, and only the SubjectPublicKeyInfo is handed to `cryptography`.
"""

import hashlib
from dataclasses import dataclass

from asn1crypto import pem, x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

SUBJECT_ALT_NAME_OID = "2.5.29.17"


class NotACertificate(ValueError):
    """The text is not a PEM X.509 certificate with an RSA key."""


@dataclass(frozen=True)
class Certificate:
    common_name: str
    uris: tuple[str, ...]  # the subjectAltName URIs
    public_key: rsa.RSAPublicKey
    sha256: str  # the fingerprint, hex pairs joined by ":"

    def names(self, wwwroot: str) -> bool:
        """Whether it names `wwwroot` as Moodle checks: the CN or a subjectAltName URI
        contained in the root URL."""
        return any(name and name in wwwroot for name in (self.common_name, *self.uris))


def read_certificate(certificate_pem: str) -> Certificate:
    try:
        data = certificate_pem.encode("ascii")
        if not pem.detect(data):
            raise NotACertificate("not a PEM certificate")
        kind, _headers, der = pem.unarmor(data)
        if kind != "CERTIFICATE":
            raise NotACertificate(f"a PEM {kind}, not a CERTIFICATE")
        certificate = x509.Certificate.load(der)
        subject = certificate.subject.native
        common = subject.get("common_name", "")
        # Moodle puts subjectAltName in the subject itself (an attribute of the extension's OID,
        # as openssl_csr_new writes an unknown DN key), and openssl_x509_parse reads it there
        subject_alt_name = subject.get(SUBJECT_ALT_NAME_OID)
        uris: list[str] = [subject_alt_name] if isinstance(subject_alt_name, str) else []
        alternative = certificate.subject_alt_name_value
        for general_name in alternative.native if alternative is not None else []:
            if isinstance(general_name, str) and "://" in general_name:
                uris.append(general_name)
        key = load_der_public_key(certificate.public_key.dump())
    except NotACertificate:
        raise
    except (ValueError, TypeError, KeyError, UnicodeError):  # asn1crypto's and cryptography's parse errors
        raise NotACertificate("not a PEM X.509 certificate") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise NotACertificate("the certificate's key is not an RSA key")
    return Certificate(
        common_name=common if isinstance(common, str) else str(common[-1]),
        uris=tuple(uris),
        public_key=key,
        sha256=hashlib.sha256(der).digest().hex(":"),
    )
