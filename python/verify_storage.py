"""The Python half of `arches-storage verify`: Django's default_storage, as the project's settings make it.

Run with the project's own interpreter. Reads one JSON request on stdin, writes one JSON answer on stdout:

  {"action": "probe", "root": ..., "pkg": ..., "name": "arches-storage-verify/<random>.txt",
   "body": "<base64>", "backend": "storages.backends.s3.S3Storage" | null, "packages": ["Django", ...]}
      imports <pkg>.settings (the project root first on sys.path), checks what default_storage is, saves the
      probe, reads it back and gets its URL. The probe is left in place so the caller can fetch the URL.
  {"action": "delete", "root": ..., "pkg": ..., "name": "<the saved name>"}
      deletes it and says whether it is gone.

Never prints a secret: every error text is scrubbed of the string values of settings whose names hold
secrets, and no setting value is sent back but the few non-secret ones the report needs.
"""
import base64
import json
import os
import re
import sys
import traceback
import warnings

SECRET_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|CREDENTIAL|ACCOUNT_KEY|ACCESS_KEY|CONNECTION_STRING|SAS)", re.I)
_secrets = []


def scrub(text):
    text = str(text)
    for s in sorted(_secrets, key=len, reverse=True):
        text = text.replace(s, "********")
    return text


def error_of(exc):
    """Type, service error code (botocore, google, azure) and message, scrubbed."""
    out = {"type": type(exc).__module__ + "." + type(exc).__name__, "message": scrub(exc)}
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            out["code"] = str(code)
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        if status:
            out["status"] = status
    code = getattr(exc, "error_code", None) or getattr(exc, "code", None)
    if "code" not in out and isinstance(code, (str, int)):
        out["code"] = str(code)
    return out


def collect_secrets(settings):
    for name in dir(settings):
        if not name.isupper() or not SECRET_NAME.search(name):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = getattr(settings, name)
        except Exception:
            continue
        values = value.values() if isinstance(value, dict) else [value]
        for v in values:
            if isinstance(v, str) and len(v) >= 4:
                _secrets.append(v)


def versions(names):
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8
        return {n: None for n in names}
    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except Exception:
            out[n] = None
    return out


def setup(request):
    sys.path[:0] = [request["root"]]
    os.environ["DJANGO_SETTINGS_MODULE"] = request["pkg"] + ".settings"
    from django.conf import settings

    settings.INSTALLED_APPS  # imports the settings module now
    collect_secrets(settings)
    from django.core.files.storage import default_storage

    default_storage._setup()  # a LazyObject: build the configured backend now
    return settings, default_storage._wrapped


def probe(request, answer):
    try:
        import django
        answer["django"] = django.get_version()
    except Exception as exc:
        answer["importError"] = error_of(exc)
        return
    try:
        settings, storage = setup(request)
    except Exception as exc:
        answer["settingsError"] = error_of(exc)
        frames = traceback.extract_tb(exc.__traceback__)
        if frames:
            answer["settingsError"]["at"] = "%s:%s" % (frames[-1].filename, frames[-1].lineno)
        return
    cls = type(storage)
    answer["backend"] = cls.__module__ + "." + cls.__name__
    expected = request.get("backend") or "django.core.files.storage.FileSystemStorage"
    try:
        module, name = expected.rsplit(".", 1)
        __import__(module)
        answer["backendMatches"] = isinstance(storage, getattr(sys.modules[module], name))
    except Exception as exc:
        answer["backendMatches"] = False
        answer["backendImportError"] = error_of(exc)
    answer["mediaRoot"] = str(getattr(settings, "MEDIA_ROOT", "") or "")
    answer["querystringAuth"] = getattr(storage, "querystring_auth", None)
    from django.core.files.base import ContentFile

    body = base64.b64decode(request["body"])
    try:
        saved = storage.save(request["name"], ContentFile(body))
        answer["save"] = {"ok": True, "name": saved}
    except Exception as exc:
        answer["save"] = {"ok": False, "error": error_of(exc)}
        # save() asks exists() first: a HEAD, whose refusal has no body (S3 says only 403). Writing directly
        # gets the service's own reason (SignatureDoesNotMatch, AccessDenied, NoSuchBucket).
        try:
            written = storage._save(request["name"], ContentFile(body))
            try:
                storage.delete(written)
            except Exception:
                answer["save"]["leftOver"] = written
        except Exception as direct:
            answer["save"]["error"] = error_of(direct)
            answer["save"]["first"] = error_of(exc)
        return
    try:
        path = storage.path(saved)
        answer["save"]["path"] = path
        root = os.path.realpath(answer["mediaRoot"]) if answer["mediaRoot"] else None
        answer["save"]["underMediaRoot"] = bool(root) and os.path.realpath(path).startswith(root + os.sep)
    except NotImplementedError:
        pass
    except Exception as exc:
        answer["save"]["pathError"] = error_of(exc)
    try:
        with storage.open(saved, "rb") as fh:
            back = fh.read()
        answer["read"] = {"ok": back == body, "size": len(back)}
    except Exception as exc:
        answer["read"] = {"ok": False, "error": error_of(exc)}
    try:
        answer["url"] = {"ok": True, "url": storage.url(saved)}
    except Exception as exc:
        answer["url"] = {"ok": False, "error": error_of(exc)}


def delete(request, answer):
    try:
        _, storage = setup(request)
        storage.delete(request["name"])
        answer["delete"] = {"ok": True, "existsAfter": storage.exists(request["name"])}
    except Exception as exc:
        answer["delete"] = {"ok": False, "error": error_of(exc)}


def main():
    request = json.loads(sys.stdin.read())
    answer = {"python": sys.version.split()[0], "versions": versions(request.get("packages") or [])}
    if request["action"] == "probe":
        probe(request, answer)
    else:
        delete(request, answer)
    sys.stdout.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
