"""Lists an Arches project's stored files against its database, for `arches-storage audit`.

Run with the project's own Python (its Django, django-storages and Arches installed). Reads one JSON request
on stdin, imports the project's settings (DJANGO_SETTINGS_MODULE = <pkg>.settings unless the environment names
another module), runs django.setup() and prints one JSON answer as the last line of stdout.

Request:
    {"root": "/abs/project", "pkg": "demo_heritage",
     "prefixes": ["uploadedfiles/", "concepts/", "archestemp/"],     # the only subtrees listed or touched
     "action": "list" | "delete",
     "delete": ["uploadedfiles/x.jpg", ...],                         # action "delete": the orphans chosen
     "min_age_seconds": 604800}                                       # action "delete": checked again

"list" answers every row that names a stored object (arches.app.models.models.File.path, and the concept
image values, FileValue.value, where the model has them) and every object under the prefixes through
Django's default_storage (listdir, recursively; size and get_modified_time for the objects no row names; the
listing itself says which named objects exist, and storage.exists() only for names outside the prefixes).

"delete" reads the rows again and deletes each name only if it is still under a prefix, still named by no
row and still older than min_age_seconds; it answers what it deleted and what it kept, with why.
"""
import json
import os
import sys
import time
import traceback


def fail(kind, message):
    print(json.dumps({"error": kind, "message": message}))
    sys.exit(3)


def under(name, prefixes):
    return any(name.startswith(p) for p in prefixes)


def safe_name(name):
    """A storage name we may touch: relative, no '..' or empty segments."""
    if not name or name.startswith("/") or "\\" in name:
        return False
    parts = name.split("/")
    return all(part not in ("", ".", "..") for part in parts)


def rows():
    """Every (table, id, name) that references a stored object."""
    from arches.app.models import models

    out = []
    for fileid, name in models.File.objects.values_list("fileid", "path").iterator():
        if name:
            out.append({"table": "files", "id": str(fileid), "name": str(name)})
    file_value = getattr(models, "FileValue", None)
    if file_value is not None:
        query = file_value.objects.filter(valuetype_id="image").values_list("valueid", "value")
        for valueid, name in query.iterator():
            if name:
                out.append({"table": "values", "id": str(valueid), "name": str(name)})
    return out


def walk(storage, prefix):
    """Every file name under prefix ('uploadedfiles/'), recursively, through storage.listdir."""
    names = []
    pending = [prefix.rstrip("/")]
    while pending:
        folder = pending.pop()
        try:
            dirs, files = storage.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for d in dirs:
            pending.append(folder + "/" + d)
        for f in files:
            names.append(folder + "/" + f)
    return names


def epoch(moment):
    # Naive datetimes from FileSystemStorage are local time (USE_TZ False), which timestamp() assumes.
    return moment.timestamp()


def main():
    request = json.loads(sys.stdin.read())
    root, pkg = request["root"], request["pkg"]
    prefixes = request["prefixes"]
    sys.path.insert(0, root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", pkg + ".settings")
    try:
        import django

        django.setup()
        from django.core.files.storage import default_storage
    except Exception as error:  # noqa: BLE001 - reported, not raised
        fail("setup", "%s: %s" % (type(error).__name__, error))
    try:
        referenced = rows()
    except Exception as error:  # noqa: BLE001
        fail("rows", "%s: %s" % (type(error).__name__, error))
    storage = default_storage
    location = getattr(storage, "location", "")  # builds the lazy default_storage
    backend = type(getattr(storage, "_wrapped", storage))
    answer = {
        "backend": backend.__module__ + "." + backend.__name__,
        "location": str(location or ""),
        "django": django.get_version(),
    }
    if request["action"] == "delete":
        names = {r["name"] for r in referenced}
        now = time.time()
        deleted, kept = [], []
        for name in request["delete"]:
            why = None
            if not safe_name(name) or not under(name, prefixes):
                why = "outside the prefixes the project owns"
            elif name in names:
                why = "a row references it now"
            else:
                try:
                    age = now - epoch(storage.get_modified_time(name))
                    if age < request["min_age_seconds"]:
                        why = "younger than --min-age now"
                except FileNotFoundError:
                    why = "already gone"
            if why is None:
                storage.delete(name)
                deleted.append(name)
            else:
                kept.append({"name": name, "why": why})
        answer.update({"deleted": deleted, "kept": kept})
        print(json.dumps(answer))
        return
    listed = []
    for prefix in prefixes:
        listed.extend(walk(storage, prefix))
    listed = sorted(set(n for n in listed if under(n, prefixes)))
    present = set(listed)
    names = {r["name"] for r in referenced}
    objects = []
    for name in listed:
        if name in names:
            objects.append({"name": name, "referenced": True})
            continue
        objects.append({
            "name": name,
            "referenced": False,
            "size": storage.size(name),
            "modified": epoch(storage.get_modified_time(name)),
        })
    for r in referenced:
        r["exists"] = r["name"] in present or (not under(r["name"], prefixes) and storage.exists(r["name"]))
    answer.update({"rows": referenced, "objects": objects})
    print(json.dumps(answer))


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as error:  # noqa: BLE001 - the Node side prints one line
        sys.stderr.write(traceback.format_exc())
        fail("run", "%s: %s" % (type(error).__name__, error))
