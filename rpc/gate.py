"""The trust gate (Moodle's mnet/xmlrpc/server.php, plus what Moodle lacks for AES peers).

A call is served when it is sealed to us and signed by a registered peer, or
signed by a registered peer and sent from one of that peer's trusted IP
ranges, or is `system/keyswap`. Otherwise an XML-RPC fault, as Moodle does:

    7021 plain (or signed plaintext) from an untrusted address
    711  not signed          710 bad signature (or a DigestValue that is not the payload's)
    7020 unknown host        7023 cannot decrypt
    7025 sealed to our old key: the fault's text is our current certificate
    7027 timestamp outside the allowed drift   7028 replayed envelope (both: AES seals only)

A signature that fails against a registered peer's certificate triggers one
keyswap to that peer (`refresh`): Moodle rotates its key every 28 days and
signs its next call with the new one. The certificate it answers is stored
when it names the peer, and the signature is checked again.

Time and replay depend on what protects the timestamp. Inside an AES-GCM seal
it cannot be changed, so the drift window (both directions) and the replay
refusal hold. An RC4 seal (Moodle) or a signed plaintext leaves it open to
anyone on the way, so it is checked as Moodle's server does (not at all): a
drift past the setting is logged, and the same honest call twice is answered.

`admit` writes nothing: an AES envelope is remembered against replay by
`remember`, called once the call inside it is known to be a well-formed call of
a published method, so a refused call leaves no record behind.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from aula_ws.errors import MnetFault
from aula_ws.services import peers
from aula_ws.services.peers import KeyPolicy, OwnKey, Peer

from . import codec, envelope

KEYSWAP = ("system/keyswap", "system.keyswap")
ECHO_LIMIT = 86400  # seconds: how far behind ours an answer's timestamp may follow the caller's
REFRESH_PAUSE = 60.0  # seconds: after a keyswap that brought no new certificate, no other for that peer

log = logging.getLogger(__name__)

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
    # an RC4 or plaintext call's timestamp: our answer is stamped no later (see `answer`)
    caller_time: int | None = None


@dataclass(frozen=True)
class Gate:
    engine: Engine
    policy: KeyPolicy
    drift: timedelta
    clock: Callable[[], float] = time.time
    # one keyswap to a peer whose signature failed: the peer with its stored current certificate,
    # or why there is none (a short text, for the log)
    refresh: Callable[[Peer], Peer | str] | None = None
    _unrefreshed: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

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
        """Sign and seal the answer back when the call was.

        An answer to an RC4 or plaintext call is stamped no later than the call: Moodle's client
        refuses an answer stamped more than 15 s ahead of its own clock, so a Moodle whose clock
        is slow could never read our answers; that timestamp protects nothing there anyway."""
        if admitted.signed and admitted.key is not None:
            stamp = int(self.clock())
            if admitted.caller_time is not None:  # a caller more than a day behind gets our time
                stamp = max(min(stamp, admitted.caller_time), stamp - ECHO_LIMIT)
            document = envelope.sign(document, admitted.key.private_key, self.policy.wwwroot, stamp)
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
        signed, peer = self._verified(message, peer)
        if signed.wwwroot != sealed.wwwroot:
            raise BAD_SIGNATURE
        # each seal has a fresh session key: the same sealed bytes twice is a replay,
        # while a caller repeating a call gets a new seal
        authenticated_time = sealed.cipher == "aes"
        identity = sealed.wrapped_key + sealed.data if authenticated_time else None
        caller_time = None if authenticated_time else signed.sent_at
        admitted = Admitted(signed.payload, peer, True, True, sealed.cipher, key, identity, caller_time)
        if key.generation != keys[0].generation:
            # sealed to an old key: tell the peer our current certificate, signed with the key it knows
            raise OldKeyUsed(admitted, keys[0].certificate_pem)
        if authenticated_time:
            self._timely(signed)
        else:
            self._drift_noted(signed, peer)
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
        signed, peer = self._verified(body, peer)
        self._drift_noted(signed, peer)
        key = peers.current_key(self.engine, self.policy, self._now())
        return Admitted(signed.payload, peer, True, False, key=key, caller_time=signed.sent_at)

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

    def _verified(self, message: bytes, peer: Peer) -> tuple[envelope.Signed, Peer]:
        """The signed message and its peer (with the certificate that verified it)."""
        try:
            signed = envelope.read_signed(message)
        except envelope.EnvelopeError:
            raise NOT_SIGNED from None
        if signed.wwwroot != peer.wwwroot or not signed.digest_matches:
            raise BAD_SIGNATURE
        if signed.verify(peer.public_key):
            return signed, peer
        renewed = self._refreshed(peer)
        if isinstance(renewed, str) or not signed.verify(renewed.public_key):
            reason = renewed if isinstance(renewed, str) else "the new one fails too"
            log.warning("MNET peer %s: the signature fails against its certificate; keyswap: %s", peer.wwwroot, reason)
            raise BAD_SIGNATURE
        log.info("MNET peer %s: new certificate by keyswap, sha256 %s", peer.wwwroot, renewed.fingerprint)
        return signed, renewed

    def _refreshed(self, peer: Peer) -> Peer | str:
        """The peer with the certificate a keyswap brings when it is a new one, else why not. At
        most one keyswap per peer per REFRESH_PAUSE after one that brought nothing new (so forged
        envelopes cannot make us call a peer over and over)."""
        if self.refresh is None:
            return "not asked"
        now = self.clock()
        if now - self._unrefreshed.get(peer.wwwroot, -REFRESH_PAUSE) < REFRESH_PAUSE:
            return f"not asked again within {REFRESH_PAUSE:g} s"
        renewed = self.refresh(peer)
        if isinstance(renewed, str) or renewed.certificate_pem == peer.certificate_pem:
            self._unrefreshed[peer.wwwroot] = now
            return renewed if isinstance(renewed, str) else "the same certificate"
        self._unrefreshed.pop(peer.wwwroot, None)
        return renewed

    def remember(self, admitted: Admitted) -> None:
        """Record the envelope; the same envelope twice is refused (Moodle does not refuse it)."""
        if admitted.identity is None or admitted.peer is None:
            return
        if not peers.first_arrival(self.engine, admitted.peer.wwwroot, admitted.identity, self._now(), self.drift):
            raise REPLAYED

    def _timely(self, signed: envelope.Signed) -> None:
        """Refuse a timestamp outside the drift, either way (or one that is not a Unix time)."""
        sent = signed.sent_at
        if sent is None or abs(int(self.clock()) - sent) > self.drift.total_seconds():
            raise TIME_DRIFT

    def _drift_noted(self, signed: envelope.Signed, peer: Peer) -> None:
        """Log a timestamp outside the drift (Moodle's server does not refuse on it)."""
        sent = signed.sent_at
        if sent is None:
            log.warning("MNET peer %s: its timestamp is not a Unix time", peer.wwwroot)
        elif abs(int(self.clock()) - sent) > self.drift.total_seconds():
            log.warning("MNET peer %s: its clock is %+d s from ours", peer.wwwroot, sent - int(self.clock()))

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC).replace(tzinfo=None)


class OldKeyUsed(Exception):
    """The call was sealed to one of our old keys: answer fault 7025 carrying our current certificate."""

    def __init__(self, admitted: Admitted, certificate_pem: str):
        super().__init__("sealed to an old key")
        self.admitted = admitted
        self.certificate_pem = certificate_pem
