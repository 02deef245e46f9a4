<?php
// The peer's web side, for `php -S 127.0.0.1:PORT server.php`: /mnet/publickey.php and
// /mnet/xmlrpc/server.php, as Moodle's mnet/xmlrpc/server.php serves them (no timestamp check).
require __DIR__ . '/lib.php';

const GET_STATS = 'blocks/use_stats/rpclib.php/use_stats_rpc_get_stats';

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/mnet/publickey.php') {
    header('Content-Type: text/plain');
    echo own_keys()[0]['certificate'];
    return true;
}
if ($path !== MNET_SERVER_PATH) {
    http_response_code(404);
    return true;
}
header('Content-Type: text/xml; charset=utf-8');
echo serve(file_get_contents('php://input'));
return true;

function serve(string $body): string {
    $keys = own_keys();
    $state = load_state();
    $peer = $state['peer'] ?? null;
    $root = texts($body)['#root'][0];
    $keyindex = null;
    if ($root === 'encryptedmessage') {
        $opened = decrypt_message($body);
        if ($opened === null) { return xmlrpc_fault(7023, 'encryption invalid'); }
        list($body, $keyindex) = $opened;
        $root = texts($body)['#root'][0];
    }
    if ($root !== 'signedmessage') {
        list($method, $params) = xmlrpc_parse($body);
        if ($method === 'system/keyswap' || $method === 'system.keyswap') {
            return xmlrpc_response($keys[0]['certificate']);
        }
        return xmlrpc_fault(7021, 'The transport method you are trying to use is not permitted.');
    }
    if ($peer === null) { return xmlrpc_fault(7020, 'wrong-wwwroot'); }
    list($payload, $verified, $wwwroot) = read_signed($body, $peer['certificate']);
    if ($wwwroot !== $peer['root']) { return xmlrpc_fault(7020, 'wrong-wwwroot'); }
    if (!$verified) {
        // the caller may have a new key: fetch it by keyswap and check again (as Moodle's server does)
        peer_log('signature failed: refreshing the caller\'s key');
        $certificate = keyswap($peer['root']);
        if ($certificate === null || !read_signed($body, $certificate)[1]) {
            return xmlrpc_fault(710, 'The signature verification failed. It appears that this payload was not signed by you.');
        }
        $peer['certificate'] = $certificate;
    }
    $signingkey = $keys[$keyindex ?? 0]['keypair_PEM'];
    if ($keyindex !== null && $keyindex > 0) {
        // sealed to an old key: the current certificate, signed with the key the caller used
        peer_log("a call sealed to our old key $keyindex: 7025");
        return encrypt_message(sign_message(xmlrpc_fault(7025, $keys[0]['certificate']), $signingkey), $peer['certificate']);
    }
    list($method, $params) = xmlrpc_parse($payload);
    peer_log("call $method");
    $answer = dispatch($method, $params);
    $signed = sign_message($answer, $signingkey);
    return $keyindex === null ? $signed : encrypt_message($signed, $peer['certificate']);
}

function dispatch(string $method, array $params): string {
    if ($method === 'system/listServices' || $method === 'system.listServices') {
        return xmlrpc_response(array(array('name' => 'use_stats', 'apiversion' => 1, 'publish' => 1, 'subscribe' => 1)));
    }
    if ($method === GET_STATS) {
        // a canned use_stats answer: who asked, for whom, from which host (the tests read these back)
        $caller = $params[0];
        $message = '<USE_STATS><USER><USERNAME>' . htmlspecialchars((string)$params[1], ENT_XML1) . '</USERNAME>'
            . '<FIRSTNAME>PHP</FIRSTNAME><LASTNAME>' . htmlspecialchars($caller['username'] . '@' . $caller['remotehostroot'], ENT_XML1)
            . '</LASTNAME><FROM>0</FROM><ELAPSED>42</ELAPSED></USER></USE_STATS>';
        return xmlrpc_response(json_encode(array('status' => 200, 'errors' => array(), 'message' => $message)));
    }
    return xmlrpc_fault(7012, 'nosuchfunction');
}
