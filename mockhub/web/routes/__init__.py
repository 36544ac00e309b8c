"""Thin handlers, one module per API: parse (done by the contract) -> store -> serialise."""
