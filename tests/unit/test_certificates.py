"""Peers' certificates as Moodle makes them (tests/fixtures/mnet/moodle_serial0.pem: certificate and
key written by PHP with generate_keypair of tests/e2e/moodle_peer/lib.php, Moodle's
mnet_generate_keypair: its DN, openssl_csr_sign with serial 0)."""

import warnings
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from aula_ws.services.certificates import NotACertificate, read_certificate

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mnet"
MOODLE_PEM = (FIXTURES / "moodle_serial0.pem").read_text()
CERTIFICATE = MOODLE_PEM[: MOODLE_PEM.index("-----BEGIN PRIVATE KEY-----")]
# openssl x509 -in moodle_serial0.pem -noout -fingerprint -sha256
OPENSSL_FINGERPRINT = "4E:13:30:37:62:D9:A0:32:18:65:2F:32:D5:3D:00:F4:87:F2:01:DA:AA:1C:8C:C5:7B:28:FF:FF:4B:F9:16:A4"


def test_cryptography_itself_warns_on_moodles_serial_0_so_we_do_not_use_its_x509_loader():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            x509.load_pem_x509_certificate(CERTIFICATE.encode())
        except ValueError:  # a later cryptography refuses them outright
            return
    assert any("serial number" in str(w.message) for w in caught)


def test_a_moodle_certificate_is_read_without_a_warning_names_its_root_and_has_its_key():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        certificate = read_certificate(CERTIFICATE)
    assert certificate.common_name == "http://moodle.test"
    assert certificate.uris == ("http://moodle.test",)  # Moodle writes subjectAltName into the subject
    assert certificate.names("http://moodle.test") and not certificate.names("http://other.test")
    assert isinstance(certificate.public_key, rsa.RSAPublicKey) and certificate.public_key.key_size == 2048
    assert certificate.sha256 == OPENSSL_FINGERPRINT.lower()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a certificate",
        MOODLE_PEM[MOODLE_PEM.index("-----BEGIN PRIVATE KEY-----") :],
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "é-----BEGIN CERTIFICATE-----",
    ],
)
def test_anything_else_is_not_a_certificate(text):
    with pytest.raises(NotACertificate):
        read_certificate(text)
