"""The names a project settings.py reads from arches.settings, with values of the same kind."""
import os

ROOT_DIR = os.path.dirname(os.path.abspath(__file__))
STATICFILES_DIRS = ()
DATATYPE_LOCATIONS = ["arches.app.datatypes"]
FUNCTION_LOCATIONS = ["arches.app.functions"]
ETL_MODULE_LOCATIONS = ["arches.app.etl_modules"]
SEARCH_COMPONENT_LOCATIONS = ["arches.app.search.components"]
LOCALE_PATHS = []
UPLOADED_FILES_DIR = "uploadedfiles"
MEDIA_URL = "/files/"


def build_staticfiles_dirs(*args, **kwargs):
    return ()


def build_templates_config(*args, **kwargs):
    return []


def transmit_webpack_django_config(*args, **kwargs):
    return None

CELERY_SEARCH_EXPORT_EXPIRES = 24 * 3600
CELERY_SEARCH_EXPORT_CHECK = 3600
CELERY_BEAT_SCHEDULE = {}
