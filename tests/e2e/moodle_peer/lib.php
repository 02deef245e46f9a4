<?php
// A Moodle-style MNET peer for the tests: Moodle's envelope functions (mnet/lib.php:
// mnet_generate_keypair, mnet_sign_message, mnet_encrypt_message, the server's and the
// client's checks) re-typed with PHP's own openssl_* functions. RC4 comes from OpenSSL's
// legacy provider, enabled by the OPENSSL_CONF file the test fixture writes for this process.
// State (its keys, its clock offset, the one peer it knows) lives in the directory MOODLE_PEER_STATE.

const MNET_SERVER_PATH = '/mnet/xmlrpc/server.php';
const KEY_HISTORY = 3;         // Moodle keeps its last keys in mnet/openssl_history
const DRIFT_THRESHOLD = 15;    // mnet/drift_threshold

function state_dir(): string {
    $dir = getenv('MOODLE_PEER_STATE');
    if (!$dir) { throw new RuntimeException('MOODLE_PEER_STATE is not set'); }
    return $dir;
}

function load_state(): array {
    return json_decode(file_get_contents(state_dir() . '/state.json'), true);
}

function save_state(array $state): void {
    file_put_contents(state_dir() . '/state.json', json_encode($state, JSON_PRETTY_PRINT), LOCK_EX);
}

function peer_log(string $line): void {
    file_put_contents(state_dir() . '/peer.log', date('c') . " $line\n", FILE_APPEND | LOCK_EX);
}

function now(): int {
    return time() + (int)(load_state()['clock_offset'] ?? 0);
}

// mnet_generate_keypair: the DN as Moodle writes it (subjectAltName inside the subject), serial 0
function generate_keypair(string $wwwroot, int $days = 28): array {
    $dn = array(
        "countryName" => "NZ", "stateOrProvinceName" => "Wellington", "localityName" => "Wellington",
        "organizationName" => "Moodle", "organizationalUnitName" => 'Moodle',
        "commonName" => substr($wwwroot, 0, 64), "subjectAltName" => $wwwroot, "emailAddress" => "noreply@moodle.test");
    $key = openssl_pkey_new(array('private_key_bits' => 2048, 'private_key_type' => OPENSSL_KEYTYPE_RSA));
    $csr = openssl_csr_new($dn, $key, array('private_key_bits' => 2048));
    $cert = openssl_csr_sign($csr, null, $key, $days);
    openssl_x509_export($cert, $certificate);
    openssl_pkey_export($key, $keypem);
    return array('certificate' => $certificate, 'keypair_PEM' => $keypem);
}

// the current key first, then the history (newest first)
function own_keys(): array {
    return load_state()['keys'];
}

function rotate_key(): array {
    $state = load_state();
    array_unshift($state['keys'], generate_keypair($state['wwwroot']));
    $state['keys'] = array_slice($state['keys'], 0, KEY_HISTORY);
    save_state($state);
    return $state['keys'][0];
}

// mnet_sign_message
function sign_message(string $message, string $privatekey): string {
    $state = load_state();
    openssl_sign($message, $signature, $privatekey);   // RSA PKCS#1 v1.5, SHA-1
    $digest = sha1($message);
    $wwwroot = $state['wwwroot'];
    $timestamp = now();
    return '<?xml version="1.0" encoding="iso-8859-1"?>
    <signedMessage>
        <Signature Id="MoodleSignature" xmlns="http://www.w3.org/2000/09/xmldsig#">
            <SignedInfo>
                <CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
                <SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#dsa-sha1"/>
                <Reference URI="#XMLRPC-MSG">
                    <DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>
                    <DigestValue>' . $digest . '</DigestValue>
                </Reference>
            </SignedInfo>
            <SignatureValue>' . base64_encode($signature) . '</SignatureValue>
            <KeyInfo>
                <RetrievalMethod URI="' . $wwwroot . '/mnet/publickey.php"/>
            </KeyInfo>
        </Signature>
        <object ID="XMLRPC-MSG">' . base64_encode($message) . '</object>
        <wwwroot>' . $wwwroot . '</wwwroot>
        <timestamp>' . $timestamp . '</timestamp>
    </signedMessage>';
}

// mnet_encrypt_message
function encrypt_message(string $message, string $remote_certificate): string {
    $publickey = openssl_pkey_get_public($remote_certificate);
    if (!openssl_seal($message, $encryptedstring, $symmetric_keys, array($publickey), 'RC4')) {
        throw new RuntimeException('openssl_seal failed: ' . openssl_error_string());
    }
    $message = $encryptedstring;
    $symmetrickey = array_pop($symmetric_keys);
    $wwwroot = load_state()['wwwroot'];
    return '<?xml version="1.0" encoding="iso-8859-1"?>
    <encryptedMessage>
        <EncryptedData Id="ED" xmlns="http://www.w3.org/2001/04/xmlenc#">
            <EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#arcfour"/>
            <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
                <ds:RetrievalMethod URI="#EK" Type="http://www.w3.org/2001/04/xmlenc#EncryptedKey"/>
                <ds:KeyName>XMLENC</ds:KeyName>
            </ds:KeyInfo>
            <CipherData>
                <CipherValue>' . base64_encode($message) . '</CipherValue>
            </CipherData>
        </EncryptedData>
        <EncryptedKey Id="EK" xmlns="http://www.w3.org/2001/04/xmlenc#">
            <EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-1_5"/>
            <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
                <ds:KeyName>SSLKEY</ds:KeyName>
            </ds:KeyInfo>
            <CipherData>
                <CipherValue>' . base64_encode($symmetrickey) . '</CipherValue>
            </CipherData>
            <ReferenceList>
                <DataReference URI="#ED"/>
            </ReferenceList>
            <CarriedKeyName>XMLENC</CarriedKeyName>
        </EncryptedKey>
        <wwwroot>' . $wwwroot . '</wwwroot>
    </encryptedMessage>';
}

// element texts by local name, case-insensitively, as Moodle's parser collects them
function texts(string $document): array {
    $xml = simplexml_load_string($document);
    if ($xml === false) { throw new RuntimeException('not XML'); }
    $texts = array('#root' => array(strtolower($xml->getName())));
    foreach ($xml->xpath('//*') as $element) {
        $texts[strtolower($element->getName())][] = trim((string)$element);
    }
    return $texts;
}

// the decrypted message and the index of the key that opened it (0: current); null if none does
function decrypt_message(string $document): ?array {
    $texts = texts($document);
    $values = $texts['ciphervalue'];
    $data = base64_decode($values[0]);
    $envelopekey = base64_decode($values[count($values) - 1]);
    foreach (own_keys() as $index => $keypair) {
        $privatekey = openssl_pkey_get_private($keypair['keypair_PEM']);
        if (openssl_open($data, $opened, $envelopekey, $privatekey, 'RC4') && strpos(ltrim($opened), '<') === 0) {
            return array($opened, $index);
        }
    }
    return null;
}

// array(payload, verified, wwwroot, timestamp) of a signedMessage
function read_signed(string $document, string $certificate): array {
    $texts = texts($document);
    $payload = base64_decode($texts['object'][0]);
    $signature = base64_decode($texts['signaturevalue'][0]);
    $verified = sha1($payload) === strtolower($texts['digestvalue'][0])
        && openssl_verify($payload, $signature, openssl_pkey_get_public($certificate)) === 1;
    return array($payload, $verified, $texts['wwwroot'][0], (int)$texts['timestamp'][0]);
}

// ---------------------------------------------------------------- XML-RPC, as xmlrpc_encode/decode write and read it

function xmlrpc_value($value): string {
    if (is_bool($value)) { return '<value><boolean>' . ($value ? 1 : 0) . '</boolean></value>'; }
    if (is_int($value)) { return "<value><int>$value</int></value>"; }
    if (is_array($value) && array_is_list($value)) {
        return '<value><array><data>' . implode('', array_map('xmlrpc_value', $value)) . '</data></array></value>';
    }
    if (is_array($value)) {
        $members = '';
        foreach ($value as $name => $member) {
            $members .= '<member><name>' . htmlspecialchars($name, ENT_XML1) . '</name>' . xmlrpc_value($member) . '</member>';
        }
        return "<value><struct>$members</struct></value>";
    }
    return '<value><string>' . htmlspecialchars((string)$value, ENT_XML1) . '</string></value>';
}

function xmlrpc_request(string $method, array $params): string {
    $xml = '<?xml version="1.0" encoding="utf-8"?><methodCall><methodName>' . $method . '</methodName><params>';
    foreach ($params as $param) { $xml .= '<param>' . xmlrpc_value($param) . '</param>'; }
    return $xml . '</params></methodCall>';
}

function xmlrpc_response($value): string {
    return '<?xml version="1.0" encoding="utf-8"?><methodResponse><params><param>' . xmlrpc_value($value)
        . '</param></params></methodResponse>';
}

function xmlrpc_fault(int $code, string $text): string {
    return '<?xml version="1.0" encoding="utf-8"?><methodResponse><fault>'
        . xmlrpc_value(array('faultCode' => $code, 'faultString' => $text)) . '</fault></methodResponse>';
}

function xmlrpc_read(SimpleXMLElement $value) {
    $children = $value->children();
    if (count($children) === 0) { return (string)$value; }
    $typed = $children[0];
    switch ($typed->getName()) {
        case 'int': case 'i4': return (int)(string)$typed;
        case 'boolean': return ((string)$typed) === '1';
        case 'double': return (float)(string)$typed;
        case 'array':
            $items = array();
            foreach ($typed->data->value as $item) { $items[] = xmlrpc_read($item); }
            return $items;
        case 'struct':
            $members = array();
            foreach ($typed->member as $member) { $members[(string)$member->name] = xmlrpc_read($member->value); }
            return $members;
        default: return (string)$typed;
    }
}

// array(method name or null, params or the response value)
function xmlrpc_parse(string $document): array {
    $xml = simplexml_load_string($document);
    if ($xml === false) { throw new RuntimeException('not XML-RPC'); }
    if ($xml->getName() === 'methodCall') {
        $params = array();
        foreach ($xml->params->param ?? array() as $param) { $params[] = xmlrpc_read($param->value); }
        return array((string)$xml->methodName, $params);
    }
    if (isset($xml->fault)) { return array(null, xmlrpc_read($xml->fault->value)); }
    return array(null, xmlrpc_read($xml->params->param->value));
}

// ---------------------------------------------------------------- transport

function post(string $url, string $body): string {
    $context = stream_context_create(array('http' => array(
        'method' => 'POST', 'header' => "Content-Type: text/xml charset=UTF-8\r\nUser-Agent: Moodle\r\n",
        'content' => $body, 'timeout' => 60, 'ignore_errors' => true)));
    $answer = file_get_contents($url, false, $context);
    if ($answer === false) { throw new RuntimeException("no answer from $url"); }
    return $answer;
}

// mnet_get_public_key: the peer's certificate by an unsigned system/keyswap, checked as Moodle checks it
function keyswap(string $root): ?string {
    $state = load_state();
    $answer = post($root . MNET_SERVER_PATH, xmlrpc_request('system/keyswap',
        array($state['wwwroot'], $state['keys'][0]['certificate'], 'moodle')));
    list(, $certificate) = xmlrpc_parse($answer);
    $details = is_string($certificate) ? openssl_x509_parse($certificate) : false;
    if (!$details) { peer_log("keyswap to $root: no certificate"); return null; }
    $names = array($details['subject']['CN'] ?? '', $details['subject']['subjectAltName'] ?? '');
    foreach ($names as $name) {
        if ($name !== '' && strpos($root, $name) !== false) {
            $state['peer']['certificate'] = $certificate;
            save_state($state);
            peer_log("keyswap to $root: new certificate stored");
            return $certificate;
        }
    }
    peer_log("keyswap to $root: the certificate names someone else");
    return null;
}
