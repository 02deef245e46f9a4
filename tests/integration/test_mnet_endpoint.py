"""The XML-RPC endpoint in-process: the trust gate and its faults, the envelope built by hand
as Moodle builds it, answers signed and sealed back, hardening. SQLite and PostgreSQL."""

import hashlib
import io
import json
import logging
import re
import xmlrpc.client
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from aula_ws.errors import InvalidRequest
from aula_ws.rpc import envelope, server
from aula_ws.rpc.client import AnswerRefused, MnetTransport
from aula_ws.services import peers
from aula_ws.services.certificates import read_certificate
from aula_ws.services.clock import utc_now
from aula_ws.services.runtime import Services
from tests.mnet_peer import MOODLE, HandMadePeer, answer_value, method_call, moodle_peer
from tests.usage_dataset import build_usage_platform

STATS = "blocks/use_stats/rpclib.php/use_stats_rpc_get_stats"


@pytest.fixture
def moodle() -> HandMadePeer:
    return moodle_peer()


@pytest.fixture
def endpoint(engine, settings, moodle):
    build_usage_platform(engine, start=utc_now() - timedelta(hours=5))
    peers.add_peer(engine, MOODLE, moodle.certificate_pem, utc_now(), trusted_ips=["10.1.0.0/16"])
    services = Services(settings, engine)
    rpc_app = server.create_rpc_app(services)
    routes = {
        "/mnet/xmlrpc/server.php": rpc_app,
        "/xmlrpc": rpc_app,
        "/mnet/publickey.php": server.create_publickey_app(services),
    }
    return Endpoint(lambda environ, start: routes[environ["PATH_INFO"]](environ, start), engine, settings)


class Endpoint:
    def __init__(self, app, engine, settings):
        self.app, self.engine, self.settings = app, engine, settings

    @property
    def certificate_pem(self) -> str:
        return peers.current_key(
            self.engine, Services(self.settings, self.engine).key_policy, utc_now()
        ).certificate_pem

    def post(self, body: bytes, address: str = "192.0.2.7", path: str = "/mnet/xmlrpc/server.php") -> tuple[str, bytes]:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "REMOTE_ADDR": address,
        }
        status: list[str] = []
        chunks = self.app(environ, lambda s, headers: status.append(s))
        return status[0], b"".join(chunks)

    def fault(self, body: bytes, address: str = "192.0.2.7") -> object:
        status, answer = self.post(body, address)
        assert status == "200 OK"
        return answer_value(answer)


def stats_call(peer: HandMadePeer, *args: object) -> bytes:
    return method_call(STATS, peer.caller("lovecraft"), "lovecraft", "", *args)


def test_an_envelope_built_by_hand_as_moodle_builds_it_is_accepted_and_answered_sealed(endpoint, moodle):
    body = moodle.sealed(moodle.signed(stats_call(moodle, 2, 0, True)), endpoint.certificate_pem)
    status, answer = endpoint.post(body)
    assert status == "200 OK"
    assert b"<encryptedMessage>" in answer[:100]
    value = answer_value(moodle.open_answer(answer, endpoint.certificate_pem))
    decoded = json.loads(value)
    assert decoded["status"] == 200 and decoded["errors"] == []
    assert "<COURSE><NAME>Literatura &amp; &lt;Arte&gt;</NAME>" in decoded["message"]
    assert "<ELAPSED>80</ELAPSED></USER>" in decoded["message"]


def test_both_paths_and_both_names_answer_and_json_false_gives_a_struct(endpoint, moodle):
    payload = method_call("use_stats_rpc_get_stats", moodle.caller("lovecraft"), "lovecraft", "", 1, 0, False)
    body = moodle.sealed(moodle.signed(payload), endpoint.certificate_pem)
    status, answer = endpoint.post(body, path="/xmlrpc")
    value = answer_value(moodle.open_answer(answer, endpoint.certificate_pem))
    assert value["status"] == 200 and value["errors"] == []
    assert value["message"].endswith("<ELAPSED>80</ELAPSED></USER></USE_STATS>")


def test_signed_plaintext_from_a_trusted_range_is_served_and_answered_signed_only(endpoint, moodle):
    status, answer = endpoint.post(moodle.signed(stats_call(moodle, 1)), address="10.1.2.3")
    assert b"<signedMessage>" in answer[:100]
    assert json.loads(answer_value(moodle.open_answer(answer, endpoint.certificate_pem)))["status"] == 200


def test_unsigned_plaintext_from_an_untrusted_address_is_7021(endpoint, moodle):
    code, text = endpoint.fault(stats_call(moodle, 1))
    assert (code, text) == (7021, "The transport method you are trying to use is not permitted.")


def test_signed_plaintext_from_an_untrusted_address_is_7021(endpoint, moodle):
    assert endpoint.fault(moodle.signed(stats_call(moodle, 1)))[0] == 7021


def test_unsigned_plaintext_from_a_trusted_address_is_711(endpoint, moodle):
    assert endpoint.fault(stats_call(moodle, 1), address="10.1.0.9") == (
        711,
        "The signature verification failed. An error has occurred.",
    )


def test_a_sealed_message_that_is_not_signed_is_711(endpoint, moodle):
    assert endpoint.fault(moodle.sealed(stats_call(moodle, 1), endpoint.certificate_pem))[0] == 711


def test_a_tampered_payload_is_710(endpoint, moodle):
    signed = moodle.signed(stats_call(moodle, 1))
    other = moodle.signed(method_call(STATS, moodle.caller("root"), "lovecraft", "", 1))
    forged = signed.replace(_object(signed), _object(other))
    assert endpoint.fault(moodle.sealed(forged, endpoint.certificate_pem)) == (
        710,
        "The signature verification failed. It appears that this payload was not signed by you.",
    )


def test_a_message_signed_by_another_key_under_a_registered_name_is_710(endpoint, moodle):
    impostor = HandMadePeer(MOODLE)
    assert endpoint.fault(impostor.sealed(impostor.signed(stats_call(impostor, 1)), endpoint.certificate_pem))[0] == 710


def test_an_unknown_host_is_7020(endpoint):
    stranger = HandMadePeer("http://stranger.test")
    body = stranger.sealed(stranger.signed(stats_call(stranger, 1)), endpoint.certificate_pem)
    assert endpoint.fault(body)[0] == 7020


def test_a_message_sealed_to_someone_else_is_7023(endpoint, moodle):
    body = moodle.sealed(moodle.signed(stats_call(moodle, 1)), HandMadePeer("http://x.test").certificate_pem)
    assert endpoint.fault(body)[0] == 7023


def aes_sealed(endpoint, signed: bytes) -> bytes:
    """`signed` sealed as an aula-ws peer seals (AES-GCM): the timestamp inside cannot be changed."""
    return envelope.seal(signed, _own_public_key(endpoint), MOODLE, "aes")


def test_a_replayed_aes_envelope_within_the_drift_window_is_refused(endpoint, moodle):
    body = aes_sealed(endpoint, moodle.signed(stats_call(moodle, 1)))
    assert endpoint.post(body)[1].startswith(b'<?xml version="1.0" encoding="iso-8859-1"?>\n<encryptedMessage>')
    assert endpoint.fault(body) == (7028, "This message was already received.")


def answered_status(endpoint, moodle, answer: bytes) -> int:
    """The use_stats status in an answer sealed either way (RC4 or AES-GCM) or only signed."""
    if envelope.kind(answer) == "encrypted" and envelope.read_sealed(answer).cipher == "aes":
        answer = envelope.open_sealed(envelope.read_sealed(answer), moodle.key)
    return json.loads(answer_value(moodle.open_answer(answer, endpoint.certificate_pem)))["status"]


def test_two_identical_honest_calls_in_the_same_second_are_both_answered(endpoint, moodle):
    signed = moodle.signed(stats_call(moodle, 1), timestamp=int(datetime.now(UTC).timestamp()))
    for body in [moodle.sealed(signed, endpoint.certificate_pem)] * 2 + [aes_sealed(endpoint, signed) for _ in "12"]:
        assert answered_status(endpoint, moodle, endpoint.post(body)[1]) == 200
    for _ in range(2):  # signed plaintext from a trusted range: the very same bytes twice
        assert answered_status(endpoint, moodle, endpoint.post(signed, address="10.1.2.3")[1]) == 200


@pytest.mark.parametrize("offset", [-60, +60])
def test_an_aes_sealed_timestamp_beyond_the_drift_either_way_is_refused(endpoint, moodle, offset):
    stamp = int(datetime.now(UTC).timestamp()) + offset
    body = aes_sealed(endpoint, moodle.signed(stats_call(moodle, 1), timestamp=stamp))
    assert endpoint.fault(body) == (7027, "The message's timestamp is too far from this site's clock.")


@pytest.mark.parametrize("offset", [-20, +20, -86400])
def test_an_rc4_sealed_timestamp_beyond_the_drift_is_answered_and_logged(endpoint, moodle, caplog, offset):
    stamped_at = int(datetime.now(UTC).timestamp())
    stamp = stamped_at + offset
    body = moodle.sealed(moodle.signed(stats_call(moodle, 1), timestamp=stamp), endpoint.certificate_pem)
    assert answered_status(endpoint, moodle, endpoint.post(body)[1]) == 200
    answered_at = int(datetime.now(UTC).timestamp())
    drift_lines = [r.getMessage() for r in caplog.records if "its clock is" in r.getMessage()]
    assert len(drift_lines) == 1
    drift = re.fullmatch(r"MNET peer \S+: its clock is ([+-]\d+) s from ours", drift_lines[0])
    assert drift is not None
    # measured against our clock when the call arrives: the seconds the call took (the real PHP
    # peer seals it) are in it, so it lies between the stamp's offset then and at the answer
    assert stamp - answered_at <= int(drift.group(1)) <= stamp - stamped_at == offset


def test_a_digest_value_that_is_not_the_payloads_is_710(endpoint, moodle):
    signed = moodle.signed(stats_call(moodle, 1))
    digest = re.search(rb"<DigestValue>([0-9a-f]{40})</DigestValue>", signed)
    assert digest is not None
    forged = signed.replace(digest.group(1), hashlib.sha1(b"another payload").hexdigest().encode())
    assert endpoint.fault(moodle.sealed(forged, endpoint.certificate_pem)) == (
        710,
        "The signature verification failed. It appears that this payload was not signed by you.",
    )


def test_keyswap_is_answered_unsigned_with_our_certificate(endpoint, moodle):
    value = endpoint.fault(method_call("system/keyswap", MOODLE, moodle.certificate_pem, "moodle"))
    assert value == endpoint.certificate_pem
    certificate = read_certificate(value)
    assert certificate.common_name == endpoint.settings.wwwroot == certificate.uris[0]


def test_a_call_sealed_to_our_old_key_gets_7025_with_the_new_certificate_signed_by_the_old_key(endpoint, moodle):
    old = endpoint.certificate_pem
    policy = Services(endpoint.settings, endpoint.engine).key_policy
    fresh = peers.current_key(endpoint.engine, replace(policy, rotation=timedelta(0)), utc_now())
    assert fresh.certificate_pem != old
    answer = endpoint.post(moodle.sealed(moodle.signed(stats_call(moodle, 1)), old))[1]
    assert answer_value(moodle.open_answer(answer, old)) == (7025, fresh.certificate_pem)


def test_our_last_three_key_generations_decrypt_and_the_older_ones_are_forgotten(endpoint, moodle):
    first = endpoint.certificate_pem
    policy = Services(endpoint.settings, endpoint.engine).key_policy
    assert policy.generations == 3
    for _ in range(2):
        peers.rotate_key(endpoint.engine, policy, utc_now())
    assert [k.generation for k in peers.decryption_keys(endpoint.engine, policy, utc_now())] == [3, 2, 1]
    answer = endpoint.post(moodle.sealed(moodle.signed(stats_call(moodle, 1)), first))[1]
    assert answer_value(moodle.open_answer(answer, first)) == (7025, endpoint.certificate_pem)
    peers.rotate_key(endpoint.engine, policy, utc_now())
    assert [k.generation for k in peers.decryption_keys(endpoint.engine, policy, utc_now())] == [4, 3, 2]
    assert endpoint.fault(moodle.sealed(moodle.signed(stats_call(moodle, 1)), first))[0] == 7023


def test_the_signed_transport_lists_describes_and_calls_the_methods_with_aes(endpoint, moodle):
    peers.add_peer(endpoint.engine, MOODLE, moodle.certificate_pem, utc_now(), cipher="aes")
    transport = MnetTransport(
        MOODLE,
        [moodle.key],
        endpoint.settings.wwwroot,
        _own_public_key(endpoint),
        cipher="aes",
    )
    sent: list[bytes] = []

    def single_request(host: str, handler: str, body: bytes, verbose: bool = False) -> Any:
        sent.append(body)
        return _through(endpoint, transport, body)

    transport.single_request = single_request
    proxy = xmlrpc.client.ServerProxy("http://aula.test/mnet/xmlrpc/server.php", transport=transport)
    assert STATS in cast(list[str], proxy.system.listMethods())
    assert "use_stats_rpc_get_scores" in cast(list[str], proxy.system.listMethods())
    assert proxy.system.methodSignature("use_stats_rpc_get_stats") == [
        ["string", "struct", "string", "string", "int", "int", "boolean"]
    ]
    assert "whole minutes" in cast(str, proxy.system.methodHelp(STATS))
    scores = json.loads(cast(str, proxy.use_stats_rpc_get_scores(moodle.caller("lovecraft"), "lovecraft", "")))
    assert scores["status"] == 200 and "<SCORE>85.00</SCORE>" in scores["message"]
    assert all(envelope.read_sealed(body).algorithm == envelope.AES256_GCM for body in sent)


def test_unknown_methods_and_wrong_arities_are_faults(endpoint, moodle):
    def sealed(payload: bytes) -> Any:
        answer = endpoint.post(moodle.sealed(moodle.signed(payload), endpoint.certificate_pem))[1]
        return answer_value(moodle.open_answer(answer, endpoint.certificate_pem))

    assert sealed(method_call("mod/forum/lib/forum_add_instance"))[0] == 713
    assert sealed(method_call(STATS, moodle.caller("lovecraft")))[0] == -32602
    bad_caller = json.loads(sealed(method_call(STATS, "lovecraft", "lovecraft", "")))
    assert bad_caller == {"status": 501, "errors": ["Bad client user format."]}
    unknown_where = json.loads(
        sealed(method_call(STATS, moodle.caller("lovecraft"), "lovecraft", "http://nowhere.test"))
    )
    assert unknown_where == {"status": 500, "errors": ["unknown host"]}


def test_no_exception_text_or_class_name_reaches_the_caller(endpoint, moodle, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret database password in this message")

    monkeypatch.setattr("aula_ws.services.usage.get_stats", broken)
    answer = endpoint.post(moodle.sealed(moodle.signed(stats_call(moodle, 1)), endpoint.certificate_pem))[1]
    code, text = answer_value(moodle.open_answer(answer, endpoint.certificate_pem))
    assert code == 712 and "secret" not in text and "RuntimeError" not in text


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><methodCall><methodName>system/keyswap</methodName></methodCall>',
        b"<methodCall><methodName>system/keyswap</methodName>",
        b"not xml at all",
    ],
)
def test_doctypes_entities_and_malformed_xml_are_parse_errors(endpoint, body):
    assert endpoint.fault(body) == (-32700, "parse error. not well formed")


def test_a_body_over_the_limit_is_refused_unread(endpoint):
    status, answer = endpoint.post(b" " * (endpoint.settings.rpc_max_body + 1))
    assert status.startswith("413") and answer_value(answer)[0] == 413


def test_our_certificate_is_published_at_moodles_publickey_path(endpoint):
    status: list[str] = []
    body = b"".join(
        endpoint.app({"REQUEST_METHOD": "GET", "PATH_INFO": "/mnet/publickey.php"}, lambda s, h: status.append(s))
    )
    assert status == ["200 OK"] and body.decode() == endpoint.certificate_pem


def _object(signed: bytes) -> bytes:
    start = signed.index(b'<object ID="XMLRPC-MSG">')
    return signed[start : signed.index(b"</object>", start)]


def _own_public_key(endpoint):
    return peers.Peer(endpoint.settings.wwwroot, endpoint.certificate_pem, "aes", ()).public_key


def _through(endpoint, transport, body):
    status, answer = endpoint.post(body)
    return transport.parse_response(io.BytesIO(answer))


class KeyswapPeer:
    """What a peer answers to our keyswap (monkeypatched in place of the network fetch)."""

    def __init__(self, answer: str | Exception):
        self.answer, self.asked = answer, cast(list[str], [])

    def __call__(self, peer_root, our_root, our_certificate_pem, timeout):
        self.asked.append(peer_root)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_a_peer_that_rotated_its_key_is_asked_for_its_certificate_and_answered(endpoint, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    rotated = HandMadePeer(MOODLE)  # same root, a new key pair: Moodle 28 days later
    old = _stored(endpoint)
    keyswap = KeyswapPeer(rotated.certificate_pem)
    monkeypatch.setattr(server, "fetch_certificate", keyswap)
    endpoint = _fresh_app(endpoint)
    answer = endpoint.post(rotated.sealed(rotated.signed(stats_call(rotated, 1)), endpoint.certificate_pem))[1]
    assert json.loads(answer_value(rotated.open_answer(answer, endpoint.certificate_pem)))["status"] == 200
    assert keyswap.asked == [MOODLE]
    assert _stored(endpoint) == rotated.certificate_pem.strip() + "\n"
    assert peers.certificate_history(endpoint.engine, MOODLE) == [old]
    assert any("new certificate by keyswap" in r.getMessage() for r in caplog.records)
    # the next call verifies at once: no second keyswap
    endpoint.post(rotated.sealed(rotated.signed(stats_call(rotated, 1)), endpoint.certificate_pem))
    assert keyswap.asked == [MOODLE]


@pytest.mark.parametrize(
    "answer, logged",
    [
        (HandMadePeer("http://elsewhere.test").certificate_pem, "a certificate we refuse"),
        (OSError("connection refused"), "keyswap: failed: connection refused"),
        (xmlrpc.client.Fault(7021, "no"), "keyswap: failed: fault 7021"),
    ],
)
def test_a_keyswap_that_brings_no_certificate_for_the_peer_leaves_710_and_the_old_one(
    endpoint, moodle, monkeypatch, caplog, answer, logged
):
    impostor = HandMadePeer(MOODLE)
    keyswap = KeyswapPeer(answer)
    monkeypatch.setattr(server, "fetch_certificate", keyswap)
    endpoint = _fresh_app(endpoint)
    for _ in range(2):  # a second bad signature within the pause asks nothing more
        body = impostor.sealed(impostor.signed(stats_call(impostor, 1)), endpoint.certificate_pem)
        assert endpoint.fault(body)[0] == 710
    assert keyswap.asked == [MOODLE]
    assert _stored(endpoint) == moodle.certificate_pem.strip() + "\n"
    assert peers.certificate_history(endpoint.engine, MOODLE) == []
    assert sum(logged in r.getMessage() for r in caplog.records) == 1
    assert sum("not asked again within 60 s" in r.getMessage() for r in caplog.records) == 1


def _fresh_app(endpoint):
    """The endpoint rebuilt (after a monkeypatch of what create_rpc_app binds)."""
    services = Services(endpoint.settings, endpoint.engine)
    rpc_app = server.create_rpc_app(services)
    return Endpoint(lambda environ, start: rpc_app(environ, start), endpoint.engine, endpoint.settings)


def test_a_peer_with_a_certificate_made_as_moodle_makes_them_is_registered_and_served(endpoint):
    made_by_moodle = HandMadePeer.made_by_moodle()  # serial 0, subjectAltName inside the subject
    assert peers.add_peer(endpoint.engine, MOODLE, made_by_moodle.certificate_pem, utc_now()) is False  # updated
    body = made_by_moodle.sealed(made_by_moodle.signed(stats_call(made_by_moodle, 1)), endpoint.certificate_pem)
    assert answered_status(endpoint, made_by_moodle, endpoint.post(body)[1]) == 200


def _stored(endpoint) -> str:
    peer = peers.find_peer(endpoint.engine, MOODLE)
    assert peer is not None
    return peer.certificate_pem


def sealed_call(endpoint, moodle, method: str, *params: object) -> Any:
    answer = endpoint.post(moodle.sealed(moodle.signed(method_call(method, *params)), endpoint.certificate_pem))[1]
    return answer_value(moodle.open_answer(answer, endpoint.certificate_pem))


@pytest.mark.parametrize("separator", ["/", "."])
def test_the_system_methods_moodle_uses_answer_under_both_names(endpoint, moodle, separator):
    assert sealed_call(endpoint, moodle, f"system{separator}listServices") == [
        {"name": "use_stats", "apiversion": 1, "publish": 1, "subscribe": 1}
    ]
    listed = sealed_call(endpoint, moodle, f"system{separator}listMethods")
    assert {STATS, "system/listServices", "system.keyswap"} <= set(listed)
    assert sealed_call(endpoint, moodle, f"system{separator}methodSignature", STATS)[0][0] == "string"
    assert "whole minutes" in sealed_call(endpoint, moodle, f"system{separator}methodHelp", STATS)
    assert sealed_call(endpoint, moodle, f"system{separator}keyswap") == endpoint.certificate_pem


def test_a_service_not_published_to_a_peer_is_moodles_fault_and_unlisted(endpoint, moodle):
    peers.add_peer(endpoint.engine, MOODLE, moodle.certificate_pem, utc_now(), publish=[])
    code, _text = sealed_call(endpoint, moodle, STATS, moodle.caller("lovecraft"), "lovecraft", "")
    assert (code, _text) == (707, "Unable to locate function, or function prohibited for RPC.")
    assert STATS not in sealed_call(endpoint, moodle, "system/listMethods")
    assert sealed_call(endpoint, moodle, "system/listServices") == [
        {"name": "use_stats", "apiversion": 1, "publish": 0, "subscribe": 1}
    ]
    peers.add_peer(endpoint.engine, MOODLE, moodle.certificate_pem, utc_now(), publish=["use_stats"])
    answer = sealed_call(endpoint, moodle, STATS, moodle.caller("lovecraft"), "lovecraft", "")
    assert json.loads(answer)["status"] == 200


def test_a_peer_we_do_not_subscribe_to_is_not_relayed_to(endpoint, moodle):
    other = HandMadePeer("http://other.test")
    peers.add_peer(endpoint.engine, "http://other.test", other.certificate_pem, utc_now(), subscribe=[])
    answer = sealed_call(endpoint, moodle, STATS, moodle.caller("lovecraft"), "lovecraft", "http://other.test")
    assert json.loads(answer) == {
        "status": 500,
        "errors": ["This site does not subscribe to use_stats on http://other.test."],
    }


def test_a_new_peer_gets_use_stats_both_ways_and_an_update_keeps_its_services(endpoint, moodle):
    other = HandMadePeer("http://other.test")
    assert peers.add_peer(endpoint.engine, "http://other.test", other.certificate_pem, utc_now(), subscribe=[])
    peers.add_peer(endpoint.engine, "http://other.test", other.certificate_pem, utc_now(), cipher="aes")
    peer = peers.find_peer(endpoint.engine, "http://other.test")
    assert peer is not None and (peer.published, peer.subscribed, peer.cipher) == (
        frozenset({"use_stats"}),
        frozenset(),
        "aes",
    )
    with pytest.raises(InvalidRequest, match="unknown service 'forum'"):
        peers.add_peer(endpoint.engine, "http://other.test", other.certificate_pem, utc_now(), publish=["forum"])


@pytest.mark.parametrize("offset", [-60, +60])
def test_our_client_refuses_a_drifting_aes_answer_and_logs_a_drifting_rc4_one(endpoint, moodle, caplog, offset):
    """As the gate: only an AES seal protects the answer's timestamp."""
    own = peers.current_key(endpoint.engine, Services(endpoint.settings, endpoint.engine).key_policy, utc_now())
    root = endpoint.settings.wwwroot
    stamp = int(datetime.now(UTC).timestamp()) + offset
    signed = envelope.sign(xmlrpc.client.dumps(("ok",), methodresponse=True).encode(), own.private_key, root, stamp)
    for cipher in ("aes", "rc4"):
        transport = MnetTransport(MOODLE, [moodle.key], root, _own_public_key(endpoint), cipher=cipher)
        answer = io.BytesIO(envelope.seal(signed, moodle.key.public_key(), root, cipher))
        if cipher == "aes":
            with pytest.raises(AnswerRefused, match="the peer's clock is too far from ours"):
                transport.parse_response(answer)
        else:
            assert transport.parse_response(answer) == ("ok",)
    assert sum("its answer's timestamp" in r.getMessage() for r in caplog.records) == 1
