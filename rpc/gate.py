"""The trust gate (Moodle's mnet/xmlrpc/server.php, plus a replay check).

A call is served when it is sealed to us and signed by a registered peer, or
signed by a registered peer and sent from one of that peer's trusted IP
ranges, or is `system/keyswap`. Otherwise an XML-RPC fault, as Moodle does:

    7021 plain (or signed plaintext) from an untrusted address
    711  not signed          710 bad signature
    7020 unknown host        7023 cannot decrypt
    7025 sealed to our old key: the fault's text is our current certificate
    7027 timestamp outside the allowed drift (15 s)   7028 replayed envelope

`admit` writes nothing: the envelope is remembered against replay by `remember`,
called once the call inside it is known to be a well-formed call of a published
method, so a refused call leaves no record behind.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from aula_ws.errors import MnetFault
from aula_ws.services import peers
from aula_ws.services.peers import KeyPolicy, OwnKey, Peer

from . import codec, envelope

KEYSWAP = ("system/keyswap", "system.keyswap")

FORBIDDEN_TRANSPORT = MnetFault(7021, "The transport method you are trying to use is not permitted.")
NOT_SIGNED = MnetFault(711, "The signature verification failed. An error has occurred.")
BAD_SIGNATURE = MnetFault(710, "The signature verification failed. It appears that this payload was not signed by you.")
UNKNOWN_HOST = MnetFault(7020, "The sending host is not a registered peer of this site.")
UNDECRYPTABLE = MnetFault(7023, "The message could not be decrypted with any of the keys this site has for you.")
TIME_DRIFT = MnetFault(7027, "The message's timestamp is too far from this site's clock.")
REPLAYED = MnetFault(7028, "This message was already received.")


@dataclass(frozen=True)
class Admitted:
    """A call through the gate: its XML-RPC payload and how to answer it."""

    payload: bytes
    peer: Peer | None = None  # None: an unauthenticated keyswap
    signed: bool = False
    encrypted: bool = False
    cipher: str = "rc4"
    key: OwnKey | None = None  # the key that opened the call signs the answer
    identity: bytes | None = None  # what identifies the envelope against replay (None: not remembered)


@dataclass(frozen=True)
class Gate:
    engine: Engine
    policy: KeyPolicy
    drift: timedelta
    clock: Callable[[], float] = time.time

    def admit(self, body: bytes, address: str) -> Admitted:
        form = envelope.kind(body)
        if form == "encrypted":
            return self._sealed(body)
        if form == "signed":
            return self._signed_plaintext(body, address)
        _params, method = codec.loads_call(body)
        if method in KEYSWAP:
            return Admitted(body)
        if peers.trusted_by_any_peer(self.engine, address):
            raise NOT_SIGNED
        raise FORBIDDEN_TRANSPORT

    def answer(self, admitted: Admitted, document: bytes) -> bytes:
        """Sign and seal the answer back when the call was."""
        if admitted.signed and admitted.key is not None:
            document = envelope.sign(document, admitted.key.private_key, self.policy.wwwroot, int(self.clock()))
            if admitted.encrypted and admitted.peer is not None:
                document = envelope.seal(document, admitted.peer.public_key, self.policy.wwwroot, admitted.cipher)
        return document

    def _sealed(self, body: bytes) -> Admitted:
        try:
            sealed = envelope.read_sealed(body)
        except envelope.EnvelopeError:
            raise UNDECRYPTABLE from None
        peer = peers.find_peer(self.engine, sealed.wwwroot)
        if peer is None:
            raise UNKNOWN_HOST
        keys = peers.decryption_keys(self.engine, self.policy, self._now())
        key, message = self._open(sealed, keys)
        if envelope.kind(message) != "signed":
            raise NOT_SIGNED
        signed = self._verified(message, peer)
        if signed.wwwroot != sealed.wwwroot:
            raise BAD_SIGNATURE
        # each seal has a fresh session key: the same sealed bytes twice is a replay,
        # while a caller repeating a call gets a new seal
        admitted = Admitted(signed.payload, peer, True, True, sealed.cipher, key, sealed.wrapped_key + sealed.data)
        if key.generation != keys[0].generation:
            # sealed to an old key: tell the peer our current certificate, signed with the key it knows
            raise OldKeyUsed(admitted, keys[0].certificate_pem)
        self._timely(signed)
        return admitted

    def _signed_plaintext(self, body: bytes, address: str) -> Admitted:
        try:
            signed = envelope.read_signed(body)
        except envelope.EnvelopeError:
            raise NOT_SIGNED from None
        peer = peers.find_peer(self.engine, signed.wwwroot)
        if peer is None:
            raise UNKNOWN_HOST if peers.trusted_by_any_peer(self.engine, address) else FORBIDDEN_TRANSPORT
        if not peer.trusts(address):
            raise FORBIDDEN_TRANSPORT
        signed = self._verified(body, peer)
        self._timely(signed)
        key = peers.current_key(self.engine, self.policy, self._now())
        return Admitted(
            signed.payload, peer, True, False, key=key, identity=signed.timestamp.encode() + b"\n" + signed.signature
        )

    def _open(self, sealed: envelope.Sealed, keys: list[OwnKey]) -> tuple[OwnKey, bytes]:
        opened: tuple[OwnKey, bytes] | None = None
        for key in keys:
            try:
                message = envelope.open_sealed(sealed, key.private_key)
            except envelope.Undecryptable:
                continue
            if envelope.kind(message) == "signed":
                return key, message
            opened = opened or (key, message)
        if opened is None:
            raise UNDECRYPTABLE
        return opened

    def _verified(self, message: bytes, peer: Peer) -> envelope.Signed:
        try:
            signed = envelope.read_signed(message)
        except envelope.EnvelopeError:
            raise NOT_SIGNED from None
        if signed.wwwroot != peer.wwwroot:
            raise BAD_SIGNATURE
        if not signed.verify(peer.public_key):
            raise BAD_SIGNATURE
        return signed

    def remember(self, admitted: Admitted) -> None:
        """Record the envelope; the same envelope twice is refused (Moodle does not refuse it)."""
        if admitted.identity is None or admitted.peer is None:
            return
        if not peers.first_arrival(self.engine, admitted.peer.wwwroot, admitted.identity, self._now(), self.drift):
            raise REPLAYED

    def _timely(self, signed: envelope.Signed) -> None:
        """Refuse a timestamp outside the drift (or one that is not a Unix time)."""
        sent = signed.sent_at
        if sent is None or abs(int(self.clock()) - sent) > self.drift.total_seconds():
            raise TIME_DRIFT

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC).replace(tzinfo=None)


class OldKeyUsed(Exception):
    """The call was sealed to one of our old keys: answer fault 7025 carrying our current certificate."""

    def __init__(self, admitted: Admitted, certificate_pem: str):
        super().__init__("sealed to an old key")
        self.admitted = admitted
        self.certificate_pem = certificate_pem
