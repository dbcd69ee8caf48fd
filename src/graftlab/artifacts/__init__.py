"""graftlab.artifacts: a trained model as a directory that reproduces its predictions."""

from graftlab.artifacts.artifact import (
    FORMAT_VERSION,
    Artifact,
    load_artifact,
    load_weights,
    read_meta,
    resolve_artifact_dir,
    save_artifact,
)

__all__ = [
    "FORMAT_VERSION",
    "Artifact",
    "load_artifact",
    "load_weights",
    "read_meta",
    "resolve_artifact_dir",
    "save_artifact",
]
