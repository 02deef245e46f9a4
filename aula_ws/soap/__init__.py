"""SOAP adapters (Spyne): wire types, fault mapping, thin @rpc bodies."""
