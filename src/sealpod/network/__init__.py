"""Container networking: network definitions, IPAM, port mappings, network namespaces and the
netavark / aardvark-dns drivers (slirp4netns and pasta slot in beside netavark for rootless).

This package knows nothing of containers' records: ``engine.networks`` hands it names, IDs and
paths, and keeps what it returns.
"""
