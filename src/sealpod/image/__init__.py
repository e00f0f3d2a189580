"""Image references, registries, manifests and transports; knows nothing of containers."""
