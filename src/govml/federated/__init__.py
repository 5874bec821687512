"""Federated learning across districts with Flower: raw records never leave a district.

* :mod:`~govml.federated.client_app` / :mod:`~govml.federated.server_app` — the Flower app
  (``[tool.flwr.app]`` in pyproject.toml), the same in simulation and deployment;
* :mod:`~govml.federated.task` — what a district loads and checks (node config, validation);
* :mod:`~govml.federated.classifier` — the demand classifier (hashed features, softmax regression);
* :mod:`~govml.federated.benchmark` — cross-community benchmarking from secure sums;
* :mod:`~govml.federated.secagg` — pairwise-masked secure sums (X25519 + ChaCha20);
* :mod:`~govml.federated.dp` — distributed DP noise and its (ε, δ);
* :mod:`~govml.federated.wire` — the wire guard and recorder mods;
* :mod:`~govml.federated.grid` / :mod:`~govml.federated.simulation` — in-process simulation.

See docs/federated.md for the design and why.
"""
