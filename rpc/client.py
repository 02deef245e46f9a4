"""Calling an MNET peer: an xmlrpc.client transport that signs and seals each call and
checks each answer, the client integrators use, and the whereroot relay built on it.

    client = MnetClient("https://aula.example.org", wwwroot="https://lms.example.org",
                        private_key=open("lms-key.pem").read(),
                        peer_certificate_pem=open("aula.pem").read())
    client.call("use_stats_rpc_get_stats", caller, "lovecraft", "", 3, 0, True)

A successful answer must be signed by the peer (and sealed to us when the call
was sealed); a fault may come back plain (the peer refused us before knowing
us). Fault 7025 (we sealed to the peer's old key) carries its new certificate:
it is accepted when the fault came signed with the key we knew, and the call
is sent once more.
"""

import http.client
import logging
import time
import urllib.request
import xmlrpc.client
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine

from aula_ws.errors import InvalidRequest, MnetFault, RemoteFailed
from aula_ws.services import peers
from aula_ws.services.certificates import read_certificate
from aula_ws.services.peers import KeyPolicy, Peer

from . import codec, envelope

SERVER_PATH = "/mnet/xmlrpc/server.php"
MAX_ANSWER = 16 * 1024 * 1024
KEYSWAP = "system/keyswap"

log = logging.getLogger(__name__)


class AnswerRefused(Exception):
    """The peer's answer failed our checks; the message says which (it is ours, not the peer's)."""


class MnetTransport(xmlrpc.client.SafeTransport):
    def __init__(
        self,
        wwwroot: str,
        private_keys: Sequence[rsa.RSAPrivateKey],
        peer_root: str,
        peer_public_key: rsa.RSAPublicKey,
        cipher: str = "rc4",
        encrypt: bool = True,
        timeout: float | None = None,
        drift: timedelta = timedelta(seconds=15),
        on_new_certificate: Callable[[str], rsa.RSAPublicKey] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        super().__init__(use_builtin_types=True)
        self.wwwroot, self.private_keys = wwwroot, list(private_keys)
        self.peer_root, self.peer_public_key = peer_root, peer_public_key
        self.cipher, self.encrypt, self.timeout, self.drift = cipher, encrypt, timeout, drift
        self.on_new_certificate, self.clock = on_new_certificate, clock
        self.https = peer_root.startswith("https://")
        self._answer_signed = False

    # an http:// peer gets Transport's plain connection: wider than SafeTransport's HTTPS one
    def make_connection(self, host: Any) -> http.client.HTTPConnection:  # type: ignore[override]
        connection: http.client.HTTPConnection
        if self.https:
            connection = super().make_connection(host)
        else:
            connection = xmlrpc.client.Transport.make_connection(self, host)
        connection.timeout = self.timeout
        return connection

    # ServerProxy always sends bytes (the marshalled call, encoded); typeshed allows any buffer
    def request(self, host: Any, handler: str, request_body: bytes, verbose: bool = False) -> Any:  # type: ignore[override]
        try:
            return super().request(host, handler, self._wrap(request_body), verbose)
        except xmlrpc.client.Fault as fault:
            if fault.faultCode != 7025 or not self._answer_signed or self.on_new_certificate is None:
                raise
            self.peer_public_key = self.on_new_certificate(fault.faultString)
            return super().request(host, handler, self._wrap(request_body), verbose)

    def parse_response(self, response: http.client.HTTPResponse) -> Any:
        data = response.read(MAX_ANSWER + 1)
        if len(data) > MAX_ANSWER:
            raise AnswerRefused("the peer's answer is too large")
        return codec.loads(self._unwrap(data))[0]

    def _wrap(self, body: bytes) -> bytes:
        signed = envelope.sign(body, self.private_keys[0], self.wwwroot, int(self.clock()))
        if not self.encrypt:
            return signed
        return envelope.seal(signed, self.peer_public_key, self.wwwroot, self.cipher)

    def _unwrap(self, data: bytes) -> bytes:
        self._answer_signed = False
        form = envelope.kind(data)
        if form == "plain":
            codec.loads(data)  # a fault raises here: a plain fault is a refusal, never data
            raise AnswerRefused("the peer's answer is not signed")
        if form == "encrypted":
            data = self._open(envelope.read_sealed(data))
        elif self.encrypt:
            raise AnswerRefused("the peer's answer is not encrypted")
        try:
            signed = envelope.read_signed(data)
        except envelope.EnvelopeError:
            raise AnswerRefused("the peer's answer is not signed") from None
        if signed.wwwroot != self.peer_root or not signed.verify(self.peer_public_key):
            raise AnswerRefused("the peer's answer failed the signature check")
        sent = signed.sent_at
        if sent is None or abs(int(self.clock()) - sent) > self.drift.total_seconds():
            # only an AES seal protects the timestamp; under RC4 it is not a reason to refuse (as the gate)
            if self.encrypt and self.cipher == "aes":
                raise AnswerRefused("the peer's clock is too far from ours")
            log.warning("MNET peer %s: its answer's timestamp is %r, our clock %d", self.peer_root, sent, self.clock())
        self._answer_signed = True
        return signed.payload

    def _open(self, sealed: envelope.Sealed) -> bytes:
        for key in self.private_keys:
            try:
                return envelope.open_sealed(sealed, key)
            except envelope.Undecryptable:
                continue
        raise AnswerRefused("the peer's answer could not be decrypted")


class MnetClient:
    """Calls `peer_url` as `wwwroot`: each call signed with `private_key` (a PEM, or the keys
    themselves, the current one first: the others only open answers) and sealed to the peer's
    certificate with `cipher` (rc4 for Moodle, aes for aula-ws peers that are told so).

    `call` returns the decoded XML-RPC value; a fault raises xmlrpc.client.Fault, an answer
    that fails our checks AnswerRefused, a network failure OSError (TimeoutError after
    `timeout` seconds per socket operation)."""

    def __init__(
        self,
        peer_url: str,
        wwwroot: str,
        private_key: str | Sequence[rsa.RSAPrivateKey],
        peer_certificate_pem: str,
        cipher: str = "rc4",
        timeout: float | None = 30.0,
        drift: timedelta = timedelta(seconds=15),
        on_new_certificate: Callable[[str], rsa.RSAPublicKey] | None = None,
    ):
        self.peer_url = peer_url.rstrip("/")
        self.wwwroot = wwwroot.rstrip("/")
        self.private_keys = [_private_key(private_key)] if isinstance(private_key, str) else list(private_key)
        self.peer_public_key = _certificate_key(peer_certificate_pem)
        self.cipher, self.timeout, self.drift = cipher, timeout, drift
        self.on_new_certificate = on_new_certificate or self._renewed

    def call(self, method: str, *params: Any) -> Any:
        transport = MnetTransport(
            self.wwwroot,
            self.private_keys,
            self.peer_url,
            self.peer_public_key,
            cipher=self.cipher,
            timeout=self.timeout,
            drift=self.drift,
            on_new_certificate=self.on_new_certificate,
        )
        try:
            with xmlrpc.client.ServerProxy(self.peer_url + SERVER_PATH, transport=transport) as proxy:
                return getattr(proxy, method)(*params)
        finally:
            self.peer_public_key = transport.peer_public_key  # a 7025 renewal holds for the next call

    def _renewed(self, certificate_pem: str) -> rsa.RSAPublicKey:
        """The key of the certificate a 7025 fault carries, when it names the peer."""
        try:
            certificate = read_certificate(certificate_pem)
        except ValueError:
            raise AnswerRefused("the peer's new certificate is not a certificate") from None
        if not certificate.names(self.peer_url):
            raise AnswerRefused("the peer's new certificate does not name it")
        return certificate.public_key


def _private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the private key is not an RSA key")
    return key


def _certificate_key(certificate_pem: str) -> rsa.RSAPublicKey:
    return read_certificate(certificate_pem).public_key


def relay_call(
    engine: Engine,
    policy: KeyPolicy,
    timeout: float,
    drift: timedelta,
    peer: Peer,
    method: str,
    params: tuple[Any, ...],
    now: Callable[[], datetime],
) -> Any:
    """Call `method` on `peer` as ourselves; any failure is RemoteFailed("REMOTE : ...")."""
    try:
        return site_client(engine, policy, peer, timeout, drift, now).call(method, *params)
    except TimeoutError:
        raise RemoteFailed(f"REMOTE : {peer.wwwroot} did not answer within {timeout:g} s") from None
    except xmlrpc.client.Fault as fault:
        raise RemoteFailed(f"REMOTE : fault {fault.faultCode}: {codec.xml_text(str(fault.faultString))}") from None
    except AnswerRefused as refused:
        raise RemoteFailed(f"REMOTE : {refused}") from None
    except MnetFault:
        raise RemoteFailed("REMOTE : the peer's answer is not XML-RPC") from None
    except InvalidRequest:
        raise RemoteFailed("REMOTE : the peer sent a new certificate that does not name it") from None
    except (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError):
        raise RemoteFailed(f"REMOTE : {peer.wwwroot} could not be reached") from None


def site_client(
    engine: Engine, policy: KeyPolicy, peer: Peer, timeout: float, drift: timedelta, now: Callable[[], datetime]
) -> MnetClient:
    """A client calling a registered peer as this site: our keys, the peer's certificate and
    cipher; a new certificate it tells us (7025) is stored."""
    keys = peers.decryption_keys(engine, policy, now())
    return MnetClient(
        peer.wwwroot,
        policy.wwwroot,
        [key.private_key for key in keys],
        peer.certificate_pem,
        cipher=peer.cipher,
        timeout=timeout,
        drift=drift,
        on_new_certificate=lambda pem: peers.renew_peer_certificate(engine, peer.wwwroot, pem, now()).public_key,
    )


def fetch_certificate(peer_root: str, our_root: str, our_certificate_pem: str, timeout: float) -> str:
    """The peer's current certificate, by `system/keyswap` (plain, as Moodle sends it).
    OSError, http.client.HTTPException, xmlrpc.client.Fault, MnetFault or AnswerRefused on failure."""
    body = codec.call(KEYSWAP, (our_root, our_certificate_pem, "moodle"))
    request = urllib.request.Request(
        peer_root + SERVER_PATH, data=body, headers={"Content-Type": "text/xml; charset=utf-8", "User-Agent": "aula-ws"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data = response.read(MAX_ANSWER + 1)
    if len(data) > MAX_ANSWER:
        raise AnswerRefused("the peer's answer is too large")
    value = codec.loads(data)[0][0]
    if not isinstance(value, str):
        raise AnswerRefused("the peer's keyswap answer is not a certificate")
    return value
