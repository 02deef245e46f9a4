"""The MNET envelope and the use_stats message, without a database."""

import pytest

from aula_ws.rpc import codec, envelope, messages
from aula_ws.services.usage import CourseLine, Person, StatsReport
from tests.mnet_peer import HandMadePeer, method_call, moodle_peer

PAYLOAD = method_call("use_stats_rpc_get_stats", {"username": "x"}, "lovecraft", "", 1)


@pytest.fixture(scope="module")
def us() -> HandMadePeer:
    return HandMadePeer("http://aula.test")


@pytest.fixture(scope="module")
def them() -> HandMadePeer:
    return moodle_peer()


@pytest.mark.parametrize("cipher, algorithm", [("rc4", envelope.ARCFOUR), ("aes", envelope.AES256_GCM)])
def test_what_we_sign_and_seal_opens_with_the_recipients_key_and_verifies(us, them, cipher, algorithm):
    signed = envelope.sign(PAYLOAD, us.key, us.wwwroot, 1_700_000_000)
    sealed = envelope.read_sealed(envelope.seal(signed, them.key.public_key(), us.wwwroot, cipher))
    assert (sealed.algorithm, sealed.wwwroot) == (algorithm, us.wwwroot)
    opened = envelope.read_signed(envelope.open_sealed(sealed, them.key))
    assert opened.payload == PAYLOAD and opened.timestamp == "1700000000"
    assert opened.verify(us.key.public_key()) and not opened.verify(them.key.public_key())


def test_moodles_own_answer_layout_is_read_as_moodle_reads_it(us, them):
    answer = them.sealed(them.signed(PAYLOAD), us.certificate_pem)
    opened = envelope.read_signed(envelope.open_sealed(envelope.read_sealed(answer), us.key))
    assert opened.payload == PAYLOAD and opened.wwwroot == them.wwwroot
    assert opened.verify(them.key.public_key())


@pytest.mark.parametrize("cipher", ["rc4", "aes"])
def test_the_wrong_key_does_not_open_a_seal(us, them, cipher):
    sealed = envelope.read_sealed(envelope.seal(b"<signedMessage/>", them.key.public_key(), us.wwwroot, cipher))
    with pytest.raises(envelope.Undecryptable):
        envelope.open_sealed(sealed, us.key)


def test_the_message_is_well_formed_whatever_the_names_hold():
    report = StatsReport(Person("a&b", "<script>", "x\x00y\x1b"), 0, 5, 2, [CourseLine("R&D", "c<1>", "", 5)])
    message = messages.stats_message(report)
    assert "<USERNAME>a&amp;b</USERNAME><FIRSTNAME>&lt;script&gt;</FIRSTNAME><LASTNAME>xy</LASTNAME>" in message
    assert "<NAME>R&amp;D</NAME><SHORTNAME>c&lt;1&gt;</SHORTNAME><IDNUMBER></IDNUMBER>" in message
    assert codec.loads(codec.response(message))[0] == (message,)
