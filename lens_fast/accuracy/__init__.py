"""The error objective: torch models of the space, datasets, training, evaluators."""
