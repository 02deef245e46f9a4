"""Use cases of MNET trust: our key pair and certificate, the registered peers, replays.

Our key pair and self-signed certificate (CN = our root URL) are created on
first use and rotated when older than the rotation period (or when the root
URL changed, or on `peer rotate-key`); the last `generations` keys decrypt, as
Moodle keeps its key history, so a peer silent for a whole rotation period
still reaches us (and learns our new certificate from fault 7025). A peer's
certificate that it replaced is kept in its history. Everything lives in the
database, so any number of processes share it.
"""

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from aula_ws.errors import HostRefused, InvalidRequest, NotFound
from aula_ws.services.certificates import Certificate, NotACertificate, read_certificate
from aula_ws.services.usage import Caller, authenticate_caller
from aula_ws.store import mnet
from aula_ws.store.unit_of_work import UnitOfWork

CIPHERS = ("rc4", "aes")
SERVICES = ("use_stats",)  # what we publish and subscribe to, as Moodle's mnet_service names them
CN_MAX = 64  # X.509's limit; longer root URLs are cut, the full URL is in subjectAltName

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class KeyPolicy:
    wwwroot: str
    rotation: timedelta = timedelta(days=28)
    generations: int = 3  # our keys that decrypt: the current one and the ones before it


@dataclass(frozen=True)
class OwnKey:
    generation: int
    private_key: rsa.RSAPrivateKey
    certificate_pem: str
    created_at: datetime


@dataclass(frozen=True)
class Peer:
    wwwroot: str
    certificate_pem: str
    cipher: str
    networks: tuple[Network, ...]
    published: frozenset[str] = frozenset(SERVICES)  # the services it may call on us
    subscribed: frozenset[str] = frozenset(SERVICES)  # the services we call on it

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return _certificate(self.certificate_pem).public_key

    @property
    def fingerprint(self) -> str:
        return _certificate(self.certificate_pem).sha256

    def trusts(self, address: str) -> bool:
        return _address_in(address, self.networks)


# --------------------------------------------------------------------------- our keys


def current_key(engine: Engine, policy: KeyPolicy, now: datetime) -> OwnKey:
    """Our current key pair: made on first use, remade when too old or for another root URL."""
    return _settled_key(engine, policy, now, force=False)


def rotate_key(engine: Engine, policy: KeyPolicy, now: datetime) -> OwnKey:
    """A new key pair now (`peer rotate-key`); the previous ones still decrypt."""
    return _settled_key(engine, policy, now, force=True)


def _settled_key(engine: Engine, policy: KeyPolicy, now: datetime, force: bool) -> OwnKey:
    for _attempt in range(3):
        with UnitOfWork(engine) as uow:
            keys = mnet.keys_newest_first(uow.connection)
            if keys and not force and _still_current(keys[0], policy, now):
                return _own(keys[0])
            generation = keys[0].generation + 1 if keys else 1
            fresh = _new_key(policy.wwwroot, generation, now, policy.rotation * policy.generations)
            try:
                mnet.add_key(uow.connection, fresh)
                mnet.forget_keys_before(uow.connection, generation - policy.generations + 1)
                uow.commit()
                return _own(fresh)
            except IntegrityError:
                if force:
                    raise RuntimeError("another process rotated the MNET key at the same moment") from None
                continue  # another process rotated at the same moment: read its key
    raise RuntimeError("could not settle on a current MNET key")


def decryption_keys(engine: Engine, policy: KeyPolicy, now: datetime) -> list[OwnKey]:
    """The current key first, then the older ones of the last `policy.generations`."""
    current = current_key(engine, policy, now)
    with UnitOfWork(engine) as uow:
        keys = mnet.keys_newest_first(uow.connection)
    older = [key for key in keys if key.generation < current.generation]
    return [current, *(_own(key) for key in older[: policy.generations - 1])]


def _still_current(key: mnet.KeyRecord, policy: KeyPolicy, now: datetime) -> bool:
    return (
        key.created_at + policy.rotation > now
        and _certificate(key.certificate_pem).common_name == (policy.wwwroot[:CN_MAX])
    )


def _new_key(wwwroot: str, generation: int, now: datetime, lifetime: timedelta) -> mnet.KeyRecord:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, wwwroot[:CN_MAX])])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + lifetime)
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(wwwroot)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return mnet.KeyRecord(
        generation=generation,
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        created_at=now,
    )


def _own(record: mnet.KeyRecord) -> OwnKey:
    return OwnKey(record.generation, _private_key(record.private_key_pem), record.certificate_pem, record.created_at)


@lru_cache(maxsize=16)
def _private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@lru_cache(maxsize=256)
def _certificate(certificate_pem: str) -> Certificate:
    try:
        return read_certificate(certificate_pem)
    except NotACertificate as error:
        raise InvalidRequest(str(error)) from None


# --------------------------------------------------------------------------- certificates


def checked_certificate(wwwroot: str, certificate_pem: str) -> str:
    """The PEM if it is an RSA certificate naming `wwwroot` (as Moodle checks: CN or a
    subjectAltName contained in the root URL); InvalidRequest otherwise."""
    text = certificate_pem.strip() + "\n"
    certificate = _certificate(text)
    if not certificate.names(wwwroot):
        raise InvalidRequest(f"the certificate names {certificate.common_name!r}, not {wwwroot!r}")
    return text


def fingerprint(certificate_pem: str) -> str:
    """SHA-256 of the certificate (DER), hex pairs joined by ':'."""
    return _certificate(certificate_pem).sha256


# --------------------------------------------------------------------------- peers


def add_peer(
    engine: Engine,
    wwwroot: str,
    certificate_pem: str,
    now: datetime,
    trusted_ips: list[str] | None = None,
    cipher: str = "rc4",
    publish: list[str] | None = None,
    subscribe: list[str] | None = None,
) -> bool:
    """Register (or update) a peer; True when it is new. A new peer gets every service published
    and subscribed unless `publish` / `subscribe` say which; an update changes only the services
    named. InvalidRequest names a bad value."""
    root = normalise_root(wwwroot)
    if cipher not in CIPHERS:
        raise InvalidRequest(f"unknown cipher {cipher!r} (rc4 or aes)")
    for service in [*(publish or []), *(subscribe or [])]:
        if service not in SERVICES:
            raise InvalidRequest(f"unknown service {service!r} ({', '.join(SERVICES)})")
    networks = [_network(text) for text in trusted_ips or []]
    record = mnet.PeerRecord(
        wwwroot=root,
        certificate_pem=checked_certificate(root, certificate_pem),
        cipher=cipher,
        trusted_ips=" ".join(str(network) for network in networks),
        created_at=now,
    )
    with UnitOfWork(engine) as uow:
        created = mnet.save_peer(uow.connection, record)
        if created or publish is not None or subscribe is not None:
            links = mnet.peer_services(uow.connection, root)
            for service in SERVICES:
                published, subscribed = links.get(service, (False, False))
                mnet.set_peer_service(
                    uow.connection,
                    root,
                    service,
                    (service in publish) if publish is not None else (published or created),
                    (service in subscribe) if subscribe is not None else (subscribed or created),
                )
        uow.commit()
    return created


def list_peers(engine: Engine) -> list[Peer]:
    with UnitOfWork(engine) as uow:
        return [_peer(uow.connection, record) for record in mnet.all_peers(uow.connection)]


def find_peer(engine: Engine, wwwroot: str) -> Peer | None:
    with UnitOfWork(engine) as uow:
        record = mnet.find_peer(uow.connection, normalise_root(wwwroot, strict=False))
        return None if record is None else _peer(uow.connection, record)


def remove_peer(engine: Engine, wwwroot: str) -> None:
    with UnitOfWork(engine) as uow:
        if not mnet.remove_peer(uow.connection, normalise_root(wwwroot, strict=False)):
            raise NotFound("peer", wwwroot)
        uow.commit()


def renew_peer_certificate(engine: Engine, wwwroot: str, certificate_pem: str, now: datetime) -> Peer:
    """A peer told us its new certificate (fault 7025, or its keyswap answer when its signature
    failed): stored when it names the peer (InvalidRequest otherwise), the old one kept in history."""
    text = checked_certificate(wwwroot, certificate_pem)
    with UnitOfWork(engine) as uow:
        mnet.replace_peer_certificate(uow.connection, wwwroot, text, now)
        uow.commit()
    peer = find_peer(engine, wwwroot)
    if peer is None:
        raise NotFound("peer", wwwroot)
    return peer


def certificate_history(engine: Engine, wwwroot: str) -> list[str]:
    """The certificates a peer had before its current one, newest first."""
    with UnitOfWork(engine) as uow:
        return mnet.peer_certificate_history(uow.connection, normalise_root(wwwroot, strict=False))


def trusted_by_any_peer(engine: Engine, address: str) -> bool:
    return any(peer.trusts(address) for peer in list_peers(engine))


def first_arrival(engine: Engine, wwwroot: str, material: bytes, now: datetime, window: timedelta) -> bool:
    """Record an envelope (what identifies it: `material`); False when it came before.

    Records older than twice the drift window are forgotten: by then the
    timestamp check refuses the envelope anyway."""
    digest = hashlib.sha256(wwwroot.encode() + b"\n" + material).hexdigest()
    with UnitOfWork(engine) as uow:
        first = mnet.remember_envelope(uow.connection, digest, now, forget_before=now - 2 * window)
        uow.commit()
    return first


def normalise_root(wwwroot: str, strict: bool = True) -> str:
    root = wwwroot.strip().rstrip("/")
    scheme, _, rest = root.partition("://")
    if strict and (scheme not in ("http", "https") or not rest or any(c.isspace() for c in root)):
        raise InvalidRequest(f"not a root URL: {wwwroot!r} (such as https://moodle.example.org)")
    return root


def _peer(connection: Connection, record: mnet.PeerRecord) -> Peer:
    networks = tuple(ipaddress.ip_network(text, strict=False) for text in record.trusted_ips.split())
    links = mnet.peer_services(connection, record.wwwroot)
    return Peer(
        record.wwwroot,
        record.certificate_pem,
        record.cipher,
        networks,
        published=frozenset(service for service, (publish, _) in links.items() if publish),
        subscribed=frozenset(service for service, (_, subscribe) in links.items() if subscribe),
    )


def _network(text: str) -> Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise InvalidRequest(f"not an IP address or range: {text!r}") from None


def _address_in(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def relay_target(engine: Engine, wwwroot: str, caller: Caller, whereroot: str, signing_host: str | None) -> Peer | None:
    """Where a use_stats call is answered (Moodle's whereroot): None here (no whereroot, or
    ours); else the registered peer it names, the call to be relayed there once the caller is
    known here (500 or 501 otherwise, as `usage.authenticate_caller`); 500 "unknown host" for
    a root that is not a registered peer."""
    root = whereroot.strip().rstrip("/")
    if not root or root == wwwroot:
        return None
    peer = find_peer(engine, root)
    if peer is None:
        raise HostRefused("unknown host")
    if "use_stats" not in peer.subscribed:
        raise HostRefused(f"This site does not subscribe to use_stats on {root}.")
    authenticate_caller(engine, caller, signing_host, wwwroot)
    return peer
