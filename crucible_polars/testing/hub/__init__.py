"""The parts of the local test Hub; :mod:`crucible_polars.testing.hub_server` is its entry point.

Storage and Hub semantics:

* :mod:`.storage`: blobs, files (LFS or not), commits with git-like ids, repositories
* :mod:`.repo_store`: :class:`~.repo_store.RepoStore`, the repositories a server serves
* :mod:`.payloads`: the JSON the Hub answers about repositories, commits and files
* :mod:`.context`: what a route receives (request, trace, store, settings) and returns
* :mod:`.access`: tokens, private and gated repositories, revisions
* :mod:`.api`: the route table ``(method, path pattern) -> function``, and :class:`~.api.HubApi`
* :mod:`.downloads`: the routes that serve files (``resolve``, the LFS "CDN", ``/parquet``)
* :mod:`.errors` and :mod:`.ranges`: error answers and ``Range`` headers

Serving:

* :mod:`.handler`: the HTTP transport (read, answer through the API, send, record)
* :mod:`.faults` and :mod:`.records`: injected faults, and the log of answered requests
* :mod:`.server`: :class:`~.server.HubServer`, composing the store, the API, faults and log
* :mod:`.cli`: ``python -m crucible_polars.testing.hub_server``
"""
