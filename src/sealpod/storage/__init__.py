"""Layers, images and container root filesystems on disk; never talks to registries."""
