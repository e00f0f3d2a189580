"""sealpod: a daemonless container engine with the Podman and Docker command line."""

__version__ = "1.0.0"
# When this release was built (seconds since the epoch): ``version`` reports it as Podman reports its
# build time, and the infra image of pods is named after version and build time, as Podman's is.
BUILT = 1764288000
