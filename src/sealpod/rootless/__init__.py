"""Rootless operation: subordinate ids, id mappings, and the user namespace kept by a pause process.

Every sealpod command of an unprivileged user runs inside one user namespace (plus mount
namespace), where the user is root and owns its subordinate ids, so that image files keep
their owners and overlay mounts persist from one command to the next, as with Podman.
"""
