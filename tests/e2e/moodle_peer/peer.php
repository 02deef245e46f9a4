<?php
// The peer's command side, run by the tests (MOODLE_PEER_STATE names its state directory):
//   php peer.php init WWWROOT          a new peer: its first key pair (serial 0, as Moodle makes it)
//   php peer.php trust ROOT CERTFILE   the one peer it knows (aula-ws)
//   php peer.php clock SECONDS         its clock offset (-20: 20 s slow)
//   php peer.php rotate                a new key pair; the last 3 still decrypt
//   php peer.php call METHOD JSON      call the peer as Moodle's mnet_xmlrpc_client does; prints JSON
require __DIR__ . '/lib.php';

$command = $argv[1] ?? '';
if ($command === 'init') {
    save_state(array('wwwroot' => $argv[2], 'clock_offset' => 0, 'keys' => array(generate_keypair($argv[2]))));
    echo own_keys()[0]['certificate'];
} elseif ($command === 'trust') {
    $state = load_state();
    $state['peer'] = array('root' => rtrim($argv[2], '/'), 'certificate' => file_get_contents($argv[3]));
    save_state($state);
} elseif ($command === 'clock') {
    $state = load_state();
    $state['clock_offset'] = (int)$argv[2];
    save_state($state);
} elseif ($command === 'rotate') {
    echo rotate_key()['certificate'];
} elseif ($command === 'certificate') {
    echo own_keys()[0]['certificate'];
} elseif ($command === 'call') {
    $log = array();
    echo json_encode(call($argv[2], json_decode($argv[3], true), $log) + array('log' => $log)), "\n";
} else {
    fwrite(STDERR, "unknown command\n");
    exit(2);
}

// mnet_xmlrpc_client::send, with its 7025 re-key and its recovery from 7023 (keyswap, listServices, again)
function call(string $method, array $params, array &$log, bool $rekey = false): array {
    $answer = send($method, $params, $log);
    if (!isset($answer['fault'])) { return $answer; }
    $code = $answer['fault']['faultCode'];
    if ($code === 7025 && !$rekey) {
        $log[] = '7025: storing the new certificate and sending again';
        $state = load_state();
        $state['peer']['certificate'] = $answer['fault']['faultString'];
        save_state($state);
        return call($method, $params, $log, true);
    }
    if ($code === 7023 && !$rekey) {
        $log[] = '7023: keyswap, then system/listServices, then again';
        if (keyswap(load_state()['peer']['root']) === null) { return $answer; }
        $services = send('system/listServices', array(), $log);
        $log[] = 'listServices: ' . json_encode($services);
        if (isset($services['fault'])) { return $services; }
        return call($method, $params, $log, true);
    }
    return $answer;
}

function send(string $method, array $params, array &$log): array {
    $state = load_state();
    $peer = $state['peer'];
    $sent = now();
    $body = encrypt_message(sign_message(xmlrpc_request($method, $params), $state['keys'][0]['keypair_PEM']), $peer['certificate']);
    $answer = post($peer['root'] . MNET_SERVER_PATH, $body);
    $root = texts($answer)['#root'][0];
    if ($root === 'encryptedmessage') {
        $opened = decrypt_message($answer);
        if ($opened === null) { return array('error' => '1:Payload not decryptable'); }
        $answer = $opened[0];
        $root = texts($answer)['#root'][0];
    }
    if ($root !== 'signedmessage') {
        list(, $value) = xmlrpc_parse($answer);   // a plain fault: the peer refused us before knowing us
        return is_array($value) && isset($value['faultCode']) ? array('fault' => $value) : array('error' => '2:Payload not signed');
    }
    list($payload, $verified, , $timestamp) = read_signed($answer, $peer['certificate']);
    if (!$verified) {
        $log[] = 'answer signature failed: refreshing the peer\'s key';
        $certificate = keyswap($peer['root']);
        if ($certificate === null || !read_signed($answer, $certificate)[1]) { return array('error' => '3:Signature failed'); }
    }
    // Moodle's client: only an answer stamped more than the threshold AHEAD of our clock is refused
    $offset = $timestamp - $sent;
    if ($offset > DRIFT_THRESHOLD) {
        return array('error' => "6:Time gap ($offset seconds) is greater than the permitted maximum of " . DRIFT_THRESHOLD . ' seconds');
    }
    list(, $value) = xmlrpc_parse($payload);
    if (is_array($value) && isset($value['faultCode']) && isset($value['faultString']) && count($value) === 2) {
        return array('fault' => $value);
    }
    return array('value' => $value);
}
