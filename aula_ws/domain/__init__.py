"""The rules of aula-ws in plain Python: no SOAP, no SQL, no I/O."""
