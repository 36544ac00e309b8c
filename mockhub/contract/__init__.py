"""The OpenAPI contracts: loading, request checks, response conformance, the 3.2 form."""
