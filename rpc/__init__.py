"""XML-RPC (MNET) endpoints: the envelope, the trust gate, the dispatcher and the relay client.

Thin: the use cases live in aula_ws.services (usage, peers)."""
