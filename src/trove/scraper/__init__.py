"""The web scraper behind URL assets: what may be fetched (`policy`, pure), fetching it pinned to
the checked address (`fetch`), what a page says about itself (`page`) and a screenshot through a
browser whose every request goes through the same fetcher (`browser`).

The server runs on someone's network: a URL typed by a user must never make it reach the
router's admin page, a database on the LAN or a cloud metadata endpoint. So the address is
checked after resolution, the connection goes to exactly that address, and every redirect and
every sub-request of the browser is checked again.
"""
