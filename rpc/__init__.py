"""XML-RPC (MNET) endpoints: the envelope, the trust gate, the dispatcher and the relay client.

Installed and imported as `aula_ws.rpc` (pyproject.toml maps this folder there).
Thin: the use cases live in aula_ws.services (usage, peers)."""
