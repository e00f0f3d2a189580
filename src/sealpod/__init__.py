"""sealpod: a daemonless container engine with the Podman and Docker command line."""

__version__ = "0.1.0"
