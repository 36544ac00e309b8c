"""The live dashboard (``/__mockhub/ui``): a page for the people who run the mock, on ``serve`` and the proxy.

The page (:mod:`.page`: plain HTML, CSS and JavaScript from the package, no library) reads
everything through the control API, which guards it as it guards any call; requests reach it
as server-sent events (:mod:`.streams`) fed by the journal, which pays one check per request
while no dashboard is open. docs/dashboard.md is the user's side of it.
"""
