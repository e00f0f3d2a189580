"""The runtime facade (libpod): the only entry point for cli, api, kube, systemd and build."""
