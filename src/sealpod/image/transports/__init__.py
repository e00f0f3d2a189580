"""Transports: where images come from and go to (docker://, containers-storage:, ...)."""
