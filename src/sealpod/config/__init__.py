"""Configuration discovery and merging: containers.conf, storage.conf, registries.conf, paths."""
