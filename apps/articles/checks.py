"""System checks (`manage.py check`, and every manage.py command's start) for the analysers' set-up."""

from pathlib import Path

from django.conf import settings
from django.core import checks

from apps.articles.analysis import finbert


@checks.register()
def finbert_model_files(app_configs=None, **kwargs):
    """NT_FINBERT_PATH, when set, names a directory with the files the model needs. (The model itself is
    loaded by the first analysis; a corrupt one is logged there and the offline rules are used.)"""
    if not settings.FINBERT_PATH:
        return []
    path = Path(settings.FINBERT_PATH).expanduser()
    missing = [name for name in finbert.FILES if not (path / name).is_file()]
    if not (path / "labels.json").is_file() and not (path / "config.json").is_file():
        missing.append("labels.json (or config.json with id2label)")
    if not path.is_dir():
        return [checks.Warning(f"NT_FINBERT_PATH={path}: no such directory", id="articles.W001",
                               hint="analyses use the offline rules until it exists; see README: FinBERT")]
    if missing:
        return [checks.Warning(f"NT_FINBERT_PATH={path} lacks {', '.join(missing)}", id="articles.W001",
                               hint="export the model as README (FinBERT) says")]
    return []
