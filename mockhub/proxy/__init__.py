"""``mockhub proxy``: forward real traffic to a target, check each exchange against the contract, record it.

The app is built by :func:`create_proxy_app` from :class:`ProxySettings`; it runs as ``serve`` does
(:mod:`mockhub.web.server`), so custom verbs such as LOOKUP pass through.
"""

from mockhub.proxy.app import create_proxy_app
from mockhub.proxy.settings import ProxySettings

__all__ = ["ProxySettings", "create_proxy_app"]
