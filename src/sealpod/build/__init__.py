"""Containerfile/Dockerfile builds: a client of :mod:`sealpod.engine` like ``cli``.

``containerfile`` parses, ``substitute`` expands variables as Docker does, ``ignore`` reads
``.containerignore``/``.dockerignore``, ``context`` finds the files COPY and ADD may read, and
``builder`` runs the steps through the engine: create, run, copy in, commit.
"""
