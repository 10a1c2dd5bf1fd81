"""Prints where an Arches project keeps its files, for `arches-storage migrate`.

Run with the project's own Python: imports `<pkg>.settings` (the project root first on sys.path) and prints
one JSON object, {"MEDIA_ROOT": "...", "UPLOADED_FILES_DIR": "..."}, as the last line of stdout. Standard
library and the project's own imports only; never writes into the project.
"""
import importlib
import json
import os
import sys

root, pkg = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", pkg + ".settings")
settings = importlib.import_module(pkg + ".settings")
print(json.dumps({
    "MEDIA_ROOT": os.path.abspath(str(getattr(settings, "MEDIA_ROOT", "") or os.path.join(root, pkg))),
    "UPLOADED_FILES_DIR": str(getattr(settings, "UPLOADED_FILES_DIR", "uploadedfiles")),
}))
