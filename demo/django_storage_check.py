"""Uploads, reads back, lists, signs and deletes a file through a project's generated settings.

Run with Debian's /usr/bin/python3 (Django 3.2, django-storages 1.13, boto3). Arguments: the project root,
its package name, and a directory with a stand-in `arches` package (the real one is not installed here).
Prints one JSON object with what it observed; exits non-zero on any failure.

For a STORAGES-style block (Django >= 4.2 lines), Django 3.2 ignores STORAGES, so the backend is built from
STORAGES["default"] with its OPTIONS as keyword arguments, mapping storages.backends.s3.S3Storage (1.14+)
to storages.backends.s3boto3.S3Boto3Storage, which 1.13 has.
"""
import importlib
import json
import os
import sys

root, pkg, stub = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path[:0] = [root, stub]
os.environ["DJANGO_SETTINGS_MODULE"] = pkg + ".settings"


from django.conf import settings  # noqa: E402

# No django.setup(): the project lists apps that are not installed here, and storage needs none.
result = {"installed_apps_has_storages": "storages" in settings.INSTALLED_APPS,
          "media_url": settings.MEDIA_URL}
storages_setting = getattr(settings, "STORAGES", None)
if storages_setting is not None and isinstance(storages_setting, dict):
    result["style"] = "STORAGES"
    result["storages_keys"] = sorted(storages_setting.keys())
    default = storages_setting["default"]
    backend_path = default["BACKEND"].replace(
        "storages.backends.s3.S3Storage", "storages.backends.s3boto3.S3Boto3Storage")
    module_name, class_name = backend_path.rsplit(".", 1)
    storage = getattr(importlib.import_module(module_name), class_name)(**default.get("OPTIONS", {}))
    result["options"] = default.get("OPTIONS", {})
else:
    from django.core.files.storage import default_storage  # noqa: E402

    default_storage._setup()  # a LazyObject: build the configured backend now
    storage = default_storage._wrapped
    result["style"] = "DEFAULT_FILE_STORAGE"
    result["default_file_storage"] = settings.DEFAULT_FILE_STORAGE

from django.core.files.base import ContentFile  # noqa: E402

result["backend"] = type(storage).__module__ + "." + type(storage).__name__
body = b"Arches media probe \xe2\x9c\x93\n" * 100
name = storage.save("uploadedfiles/probe.txt", ContentFile(body))
result["saved_as"] = name
result["exists"] = storage.exists(name)
result["size"] = storage.size(name)
with storage.open(name, "rb") as fh:
    result["read_back_equal"] = fh.read() == body
second = storage.save("uploadedfiles/probe.txt", ContentFile(b"other"))
result["second_name_differs"] = second != name
result["listdir"] = storage.listdir("uploadedfiles")[1]
result["url"] = storage.url(name)
storage.delete(name)
storage.delete(second)
result["exists_after_delete"] = storage.exists(name)
print(json.dumps(result))
