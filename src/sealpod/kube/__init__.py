"""Kubernetes YAML: ``kube generate`` (engine objects → YAML), ``kube play`` and ``kube down``
(YAML → pods, volumes and containers through the engine).  A client of ``engine``, like ``cli``."""
