"""Hypothesis keeps its caches out of the tree (no .hypothesis folder) and no example database."""

import os
import tempfile

os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "reverso-hypothesis"))

from hypothesis import settings  # noqa: E402

settings.register_profile("reverso", database=None)
settings.load_profile("reverso")
