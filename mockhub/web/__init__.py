"""The HTTP edge: the server, request framing, middleware, routes and error rendering."""
