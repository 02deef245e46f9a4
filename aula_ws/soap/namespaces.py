"""Namespace URIs, in one place."""

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
AULA = "urn:Educativa/Aula/"
AULA_ADMIN = "urn:Educativa/Aula/Admin/"
