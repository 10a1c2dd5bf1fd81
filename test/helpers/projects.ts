/**
 * Fixture Arches projects for tests: one per release line the generator supports. Each one is a trimmed copy of
 * what that line's project template (`arches/install/arches-templates`) generates. Every structural element a
 * settings/requirements editor depends on is kept, and most of the body is left out. See notes/arches-research.md
 * for the sources.
 */
import fs from 'node:fs';
import path from 'node:path';

export type FixtureId = '6.2' | '7.3' | '7.4' | '7.5' | '7.6' | '7.6-upgraded' | '8.0' | '8.1';

export interface FixtureInfo {
  id: FixtureId;
  /** The Arches release the fixture declares by default, e.g. '7.4.4'. */
  release: string;
  djangoStyle: 'DEFAULT_FILE_STORAGE' | 'STORAGES';
  /** The file that declares the arches dependency (for '7.6-upgraded': the authoritative one). */
  depFile: 'pyproject.toml' | '<pkg>/install/requirements.txt' | null;
  /**
   * Whether the project's .gitignore lists `<pkg>/settings_local.py`. Every upstream template does, on every line
   * (see notes/arches-research.md). Pass `gitignoreSettingsLocal: false` to writeProject to get a project without it.
   */
  settingsLocalIgnored: boolean;
  /** Where package.json lives. */
  packageJson: 'package.json' | '<pkg>/package.json';
  /** The Django requirement that arches itself declares at `release`. */
  archesDjango: string;
  /** Every file writeProject writes, relative to the project root, with `<pkg>` for the package directory. */
  files: readonly string[];
}

export interface WriteProjectOptions {
  /** Package (Django project) name; default 'demo_heritage'. */
  pkg?: string;
  /** Override the declared release, e.g. '7.4.1'. */
  release?: string;
  /** Keep the `<pkg>/settings_local.py` line in .gitignore (default: the fixture's settingsLocalIgnored). */
  gitignoreSettingsLocal?: boolean;
}

const COMMON_FILES = [
  'manage.py',
  '.gitignore',
  '<pkg>/__init__.py',
  '<pkg>/settings.py',
  '<pkg>/settings_local.py',
];

export const FIXTURES: readonly FixtureInfo[] = [
  {
    id: '6.2',
    release: '6.2.9',
    djangoStyle: 'DEFAULT_FILE_STORAGE',
    depFile: null,
    settingsLocalIgnored: true,
    packageJson: '<pkg>/package.json',
    archesDjango: '==3.2.25',
    files: [...COMMON_FILES, '__init__.py', '<pkg>/package.json'],
  },
  {
    id: '7.3',
    release: '7.3.0',
    djangoStyle: 'DEFAULT_FILE_STORAGE',
    depFile: null,
    settingsLocalIgnored: true,
    packageJson: '<pkg>/package.json',
    archesDjango: '==3.2.15',
    files: [...COMMON_FILES, '__init__.py', '<pkg>/package.json'],
  },
  {
    id: '7.4',
    release: '7.4.4',
    djangoStyle: 'DEFAULT_FILE_STORAGE',
    depFile: '<pkg>/install/requirements.txt',
    settingsLocalIgnored: true,
    packageJson: '<pkg>/package.json',
    archesDjango: '==3.2.24',
    files: [...COMMON_FILES, '__init__.py', '<pkg>/package.json', '<pkg>/install/requirements.txt'],
  },
  {
    id: '7.5',
    release: '7.5.5',
    djangoStyle: 'STORAGES',
    depFile: '<pkg>/install/requirements.txt',
    settingsLocalIgnored: true,
    packageJson: '<pkg>/package.json',
    archesDjango: '>=4.2.16,<5.0.0',
    files: [...COMMON_FILES, '__init__.py', '<pkg>/package.json', '<pkg>/install/requirements.txt'],
  },
  {
    id: '7.6',
    release: '7.6.10',
    djangoStyle: 'STORAGES',
    depFile: 'pyproject.toml',
    settingsLocalIgnored: true,
    packageJson: 'package.json',
    archesDjango: '>=4.2.21,<5.0.0',
    files: [...COMMON_FILES, 'package.json', 'pyproject.toml'],
  },
  {
    id: '7.6-upgraded',
    release: '7.6.0',
    djangoStyle: 'STORAGES',
    depFile: 'pyproject.toml',
    settingsLocalIgnored: true,
    packageJson: 'package.json',
    archesDjango: '>=4.2.16,<5.0.0',
    files: [...COMMON_FILES, 'package.json', 'pyproject.toml', '<pkg>/install/requirements.txt'],
  },
  {
    id: '8.0',
    release: '8.0.10',
    djangoStyle: 'STORAGES',
    depFile: 'pyproject.toml',
    settingsLocalIgnored: true,
    packageJson: 'package.json',
    archesDjango: '>=5.2.3,<6.0.0',
    files: [...COMMON_FILES, 'package.json', 'pyproject.toml'],
  },
  {
    id: '8.1',
    release: '8.1.5',
    djangoStyle: 'STORAGES',
    depFile: 'pyproject.toml',
    settingsLocalIgnored: true,
    packageJson: 'package.json',
    archesDjango: '>=5.2.3,<6.0.0',
    files: [...COMMON_FILES, 'package.json', 'pyproject.toml'],
  },
];

export function fixtureInfo(id: FixtureId): FixtureInfo {
  const info = FIXTURES.find((f) => f.id === id);
  if (!info) throw new Error(`unknown fixture ${id}`);
  return info;
}

/** `7.6.10` → `7.7.0` (the template's `arches_next_minor_version`). */
function nextMinor(release: string): string {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) throw new Error(`cannot read a major.minor from release ${release}`);
  return `${m[1]}.${Number(m[2]) + 1}.0`;
}

// ---------------------------------------------------------------------------------------------------------------
// settings.py pieces

function settingsImports(id: FixtureId): string {
  switch (id) {
    case '6.2':
      return 'import os\nimport arches\nimport inspect\nfrom django.utils.translation import gettext_lazy as _\n';
    case '7.3':
      return 'import json\nimport os\nimport sys\nimport arches\nimport inspect\nfrom django.utils.translation import gettext_lazy as _\n';
    case '7.4':
      return 'import json\nimport os\nimport sys\nimport arches\nimport inspect\nimport semantic_version\nfrom django.utils.translation import gettext_lazy as _\n';
    case '7.5':
    case '7.6-upgraded':
      // an upgraded project usually keeps its old imports
      return 'import json\nimport os\nimport sys\nimport arches\nimport inspect\nimport semantic_version\nfrom datetime import datetime, timedelta\nfrom django.utils.translation import gettext_lazy as _\n';
    default:
      return 'import os\nimport inspect\nimport semantic_version\nfrom datetime import datetime, timedelta\nfrom django.utils.translation import gettext_lazy as _\n';
  }
}

function installedApps(id: FixtureId, pkg: string): string {
  const is8 = id === '8.0' || id === '8.1';
  const is76 = id === '7.6' || id === '7.6-upgraded';
  const apps: string[] = [];
  if (id !== '6.2') apps.push('"webpack_loader",');
  if (!is8) apps.push('"django.contrib.admin",');
  apps.push(
    '"django.contrib.auth",',
    '"django.contrib.contenttypes",',
    '"django.contrib.sessions",',
    '"django.contrib.messages",',
    '"django.contrib.staticfiles",',
    '"django.contrib.gis",',
  );
  if (is76 || is8) apps.push('"django_hosts",');
  apps.push(
    '"arches",',
    '"arches.app.models",',
    '"arches.management",',
    '"guardian",',
    is8 ? '"django_recaptcha",' : '"captcha",',
    '"revproxy",',
    '"corsheaders",',
    '"oauth2_provider",',
    '"django_celery_results",',
  );
  if (!is76 && !is8) apps.push('"compressor",');
  if (is8) apps.push('"django_migrate_sql",', '"pgtrigger",');
  apps.push('# "silk",');
  apps.push(
    is76 || is8
      ? `"${pkg}",  # Ensure the project is listed before any other arches applications`
      : `"${pkg}",`,
  );
  let out = `INSTALLED_APPS = (\n${apps.map((a) => `    ${a}`).join('\n')}\n)\n`;
  if (id === '7.6') {
    out +=
      '\n# Placing this last ensures any templates provided by Arches Applications\n' +
      '# take precedence over core arches templates in arches/app/templates.\n' +
      'INSTALLED_APPS += ("arches.app",)\n';
  } else if (id === '7.6-upgraded') {
    // added by hand from the 7.6.0 upgrade notes, without the template's comment
    out += '\nINSTALLED_APPS += ("arches.app",)\n';
  } else if (is8) {
    out +=
      '\n# Placing this last ensures any templates provided by Arches Applications\n' +
      '# take precedence over core arches templates in arches/app/templates.\n' +
      'INSTALLED_APPS += (\n    "arches.app",\n    "django.contrib.admin",\n)\n';
  }
  if (id === '7.5') out += '\nARCHES_APPLICATIONS = ()\n';
  return out;
}

function middleware(id: FixtureId): string {
  const modern = id === '7.6' || id === '7.6-upgraded' || id === '8.0' || id === '8.1';
  let out =
    'MIDDLEWARE = [\n' +
    '    "corsheaders.middleware.CorsMiddleware",\n' +
    '    "django.middleware.security.SecurityMiddleware",\n' +
    '    "django.contrib.sessions.middleware.SessionMiddleware",\n' +
    '    "django.middleware.locale.LocaleMiddleware",\n' +
    '    "django.middleware.common.CommonMiddleware",\n' +
    '    "django.middleware.csrf.CsrfViewMiddleware",\n' +
    '    "oauth2_provider.middleware.OAuth2TokenMiddleware",\n' +
    '    "django.contrib.auth.middleware.AuthenticationMiddleware",\n' +
    '    "django.contrib.messages.middleware.MessageMiddleware",\n' +
    (modern
      ? '    "django.middleware.clickjacking.XFrameOptionsMiddleware",\n'
      : '    # "django.middleware.clickjacking.XFrameOptionsMiddleware",\n') +
    '    "arches.app.utils.middleware.SetAnonymousUser",\n' +
    ']\n';
  if (modern) {
    out +=
      '\nMIDDLEWARE.insert(  # this must resolve to first MIDDLEWARE entry\n' +
      '    0,\n    "django_hosts.middleware.HostsRequestMiddleware"\n)\n' +
      '\nMIDDLEWARE.append(  # this must resolve last MIDDLEWARE entry\n' +
      '    "django_hosts.middleware.HostsResponseMiddleware"\n)\n';
  }
  return out;
}

/** The package_settings / settings_local tail. `trailingSpace` mirrors the `try: ` lines of the 7.1–7.4 template. */
function settingsTail(id: FixtureId): string {
  if (id === '6.2') {
    return (
      '\ntry:\n    from .package_settings import *\nexcept ImportError:\n    pass\n' +
      '\ntry:\n    from .settings_local import *\nexcept ImportError:\n    pass\n'
    );
  }
  const sp = id === '7.3' || id === '7.4' ? ' ' : '';
  let out =
    '\ntry:\n    from .package_settings import *\nexcept ImportError:\n' +
    `    try:${sp}\n        from package_settings import *\n    except ImportError as e:\n        pass\n` +
    '\ntry:\n    from .settings_local import *\nexcept ImportError as e:\n' +
    `    try:${sp}\n        from settings_local import *\n    except ImportError as e:\n        pass\n`;
  if (id === '7.3' || id === '7.4') {
    out +=
      '\n# returns an output that can be read by NODEJS\n' +
      'if __name__ == "__main__":\n' +
      '    print(\n' +
      '        json.dumps({\n' +
      "            'STATIC_URL': STATIC_URL,\n" +
      "            'ROOT_DIR': ROOT_DIR,\n" +
      "            'APP_ROOT': APP_ROOT,\n" +
      "            'WEBPACK_DEVELOPMENT_SERVER_PORT': WEBPACK_DEVELOPMENT_SERVER_PORT,\n" +
      '        })\n' +
      '    )\n' +
      '    sys.stdout.flush()\n';
  } else if (id === '7.5') {
    out +=
      '\n# returns an output that can be read by NODEJS\n' +
      'if __name__ == "__main__":\n' +
      '    transmit_webpack_django_config(\n' +
      '        root_dir=ROOT_DIR,\n' +
      '        app_root=APP_ROOT,\n' +
      '        arches_applications=ARCHES_APPLICATIONS,\n' +
      '        static_url=STATIC_URL,\n' +
      '        webpack_development_server_port=WEBPACK_DEVELOPMENT_SERVER_PORT,\n' +
      '    )\n';
  }
  return out;
}

function settingsPy(id: FixtureId, pkg: string): string {
  const v75plus = id !== '6.2' && id !== '7.3' && id !== '7.4';
  const modern = id === '7.6' || id === '7.6-upgraded' || id === '8.0' || id === '8.1';
  let s = `"""\nDjango settings for ${pkg} project.\n"""\n\n`;
  s += settingsImports(id);
  s += '\ntry:\n    from arches.settings import *\nexcept ImportError:\n    pass\n\n';
  s += `APP_NAME = '${pkg}'\n`;
  if (id !== '6.2' && id !== '7.3')
    s += 'APP_VERSION = semantic_version.Version(major=0, minor=0, patch=0)\n';
  s += 'APP_ROOT = os.path.dirname(os.path.abspath(inspect.getfile(inspect.currentframe())))\n';
  if (id === '7.5') s += 'MIN_ARCHES_VERSION = arches.__version__\nMAX_ARCHES_VERSION = arches.__version__\n';
  if (id === '6.2') {
    s += "STATICFILES_DIRS =  (os.path.join(APP_ROOT, 'media'),) + STATICFILES_DIRS\n";
  } else if (id === '7.3' || id === '7.4') {
    s +=
      "STATICFILES_DIRS =  (\n    os.path.join(APP_ROOT, 'media', 'build'),\n    os.path.join(APP_ROOT, 'media'),\n) + STATICFILES_DIRS\n";
  }
  if (id !== '6.2') {
    const stats = modern
      ? "os.path.join(APP_ROOT, '..', 'webpack/webpack-stats.json')"
      : "os.path.join(APP_ROOT, 'webpack/webpack-stats.json')";
    s += `\nWEBPACK_LOADER = {\n    "DEFAULT": {\n        "STATS_FILE": ${stats},\n    },\n}\n`;
  }
  s += `\nDATATYPE_LOCATIONS.append('${pkg}.datatypes')\nFUNCTION_LOCATIONS.append('${pkg}.functions')\n`;
  s += modern
    ? "\nLOCALE_PATHS.insert(0, os.path.join(APP_ROOT, 'locale'))\n"
    : "\nLOCALE_PATHS.append(os.path.join(APP_ROOT, 'locale'))\n";
  s += '\nFILE_TYPE_CHECKING = False\n';
  s +=
    'FILE_TYPES = ["bmp", "gif", "jpg", "jpeg", "pdf", "png", "psd", "rtf", "tif", "tiff", "xlsx", "csv", "zip"]\n';
  if (v75plus) {
    s += 'FILENAME_GENERATOR = "arches.app.utils.storage_filename_generator.generate_filename"\n';
    s += 'UPLOADED_FILES_DIR = "uploadedfiles"\n';
  }
  const key = modern
    ? 'django-insecure-fixture-not-a-real-secret-0123456789'
    : 'fixture-not-a-real-secret-0123456789';
  s += `\n# SECURITY WARNING: keep the secret key used in production secret!\nSECRET_KEY = '${key}'\n`;
  s += "\n# SECURITY WARNING: don't run with debug turned on in production!\nDEBUG = True\n";
  s += `\nROOT_URLCONF = '${pkg}.urls'\n`;
  if (modern) s += `ROOT_HOSTCONF = "${pkg}.hosts"\nDEFAULT_HOST = "${pkg}"\n`;
  s += `\n# a prefix to append to all elasticsearch indexes, note: must be lower case\nELASTICSEARCH_PREFIX = '${pkg}'\n`;
  s +=
    '\nDATABASES = {\n    "default": {\n' +
    '        "ENGINE": "django.contrib.gis.db.backends.postgis",\n' +
    '        "HOST": "localhost",\n' +
    `        "NAME": "${pkg}",\n` +
    '        "PASSWORD": "postgis",\n' +
    '        "PORT": "5432",\n' +
    '        "USER": "postgres"\n' +
    '    }\n}\n\n';
  s += installedApps(id, pkg);
  s += '\n' + middleware(id);
  if (id === '7.5') {
    s +=
      '\nSTATICFILES_DIRS = build_staticfiles_dirs(\n    root_dir=ROOT_DIR,\n    app_root=APP_ROOT,\n    arches_applications=ARCHES_APPLICATIONS,\n)\n';
  } else if (modern) {
    s += '\nSTATICFILES_DIRS = build_staticfiles_dirs(app_root=APP_ROOT)\n';
  }
  s += '\nALLOWED_HOSTS = []\n';
  s += `\nWSGI_APPLICATION = '${pkg}.wsgi.application'\n`;
  s +=
    '\n# URL that handles the media served from MEDIA_ROOT, used for managing stored files.\n' +
    '# It must end in a slash if set to a non-empty value.\n' +
    "MEDIA_URL = '/files/'\n" +
    '\n# Absolute filesystem path to the directory that will hold user-uploaded files.\n' +
    'MEDIA_ROOT =  os.path.join(APP_ROOT)\n';
  s += `\n# URL prefix for static files.\nSTATIC_URL = '${id === '6.2' ? '/media/' : '/static/'}'\n`;
  s += id === '6.2' ? "\nSTATIC_ROOT = ''\n" : '\nSTATIC_ROOT = os.path.join(APP_ROOT, "staticfiles")\n';
  s += `\n# Unique session cookie ensures that logins are treated separately for each app\nSESSION_COOKIE_NAME = '${pkg}'\n`;
  s +=
    '\nCACHES = {\n' +
    "    'default': {\n        'BACKEND': 'django.core.cache.backends.dummy.DummyCache',\n    },\n" +
    "    'user_permission': {\n        'BACKEND': 'django.core.cache.backends.db.DatabaseCache',\n        'LOCATION': 'user_permission_cache',\n    },\n" +
    '}\n';
  s += v75plus
    ? '\nCANTALOUPE_DIR = os.path.join(ROOT_DIR, UPLOADED_FILES_DIR)\n'
    : '\nCANTALOUPE_DIR = os.path.join(ROOT_DIR, "uploadedfiles")\n';
  s += 'CANTALOUPE_HTTP_ENDPOINT = "http://localhost:8182/"\n';
  s +=
    '\n# By setting RESTRICT_MEDIA_ACCESS to True, media file requests outside of Arches will checked against nodegroup permissions.\nRESTRICT_MEDIA_ACCESS = False\n';
  if (v75plus) {
    s +=
      '\n# Dictionary containing any additional context items for customising email templates\n' +
      'EXTRA_EMAIL_CONTEXT = {\n' +
      '    "salutation": _("Hi"),\n' +
      '    "expiration":(datetime.now() + timedelta(seconds=CELERY_SEARCH_EXPORT_EXPIRES)).strftime("%A, %d %B %Y")\n' +
      '}\n';
  }
  s += '\nLANGUAGE_CODE = "en"\n';
  s += "\nLANGUAGES = [\n#   ('de', _('German')),\n    ('en', _('English')),\n]\n";
  s +=
    '\n# override this to permenantly display/hide the language switcher\nSHOW_LANGUAGE_SWITCH = len(LANGUAGES) > 1\n';
  s += settingsTail(id);
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// other files

function settingsLocalPy(pkg: string): string {
  return `try:\n    from .${pkg}.settings import *\nexcept ImportError:\n    pass\n`;
}

function managePy(pkg: string): string {
  return (
    '#!/usr/bin/env python\n' +
    '# Arches project management script (fixture).\n\n' +
    'import os\nimport sys\n\n' +
    'if __name__ == "__main__":\n' +
    `    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "${pkg}.settings")\n\n` +
    '    from django.core.management import execute_from_command_line\n\n' +
    '    execute_from_command_line(sys.argv)\n'
  );
}

function gitignore(id: FixtureId, pkg: string, ignoreLocal: boolean): string {
  const local = ignoreLocal ? [`${pkg}/settings_local.py`] : [];
  let lines: string[];
  if (id === '6.2') {
    lines = [
      '*.pyc',
      '*.log',
      `${pkg}/logs`,
      `${pkg}/export_deliverables`,
      `${pkg}/cantaloupe/*`,
      `${pkg}/media/packages`,
      `${pkg}/uploadedfiles/*`,
      ...local,
      '.vscode/',
      'CACHE',
    ];
  } else if (id === '7.3' || id === '7.4' || id === '7.5') {
    lines = [
      '*.pyc',
      '*.log',
      `${pkg}/logs`,
      `${pkg}/export_deliverables`,
      `${pkg}/cantaloupe/*`,
      `${pkg}/staticfiles`,
      `${pkg}/media/packages`,
      `${pkg}/media/node_modules`,
      `${pkg}/media/build/*`,
      `${pkg}/uploadedfiles/*`,
      ...local,
      `${pkg}/webpack/webpack-stats.json`,
      `${pkg}/webpack/webpack-user-config.js`,
      '.vscode/',
      'CACHE',
    ];
  } else if (id === '7.6-upgraded') {
    // the 7.5 file, edited as the 7.6.0 upgrade notes ask
    lines = [
      '*.pyc',
      '*.log',
      `${pkg}/logs`,
      `${pkg}/export_deliverables`,
      `${pkg}/cantaloupe/*`,
      `${pkg}/staticfiles`,
      `${pkg}/media/packages`,
      'node_modules',
      `${pkg}/media/build/*`,
      `${pkg}/uploadedfiles/*`,
      ...local,
      'webpack/webpack-stats.json',
      '.vscode/',
      'CACHE',
      '*.egg-info',
      '.DS_STORE',
      '.tsconfig-paths.json',
      '.frontend-configuration-settings.json',
      'coverage/',
    ];
  } else {
    lines = [
      '*.pyc',
      '*.log',
      'node_modules',
      'coverage/',
      `${pkg}/logs`,
      `${pkg}/export_deliverables`,
      `${pkg}/cantaloupe/*`,
      `${pkg}/staticfiles`,
      `${pkg}/media/packages`,
      `${pkg}/media/build/`,
      `${pkg}/uploadedfiles/*`,
      ...local,
      'webpack-stats.json',
      '.vscode/',
      '*.egg-info',
      '.DS_STORE',
      'CACHE',
    ];
    if (id === '7.6') lines.push('.tsconfig-paths.json', '.frontend-configuration-settings.json');
    else lines.push('frontend_configuration', '', '# Packaging', 'build/', 'dist/');
  }
  return lines.join('\n') + '\n';
}

function packageJson(id: FixtureId, pkg: string, release: string): string {
  const ref = `archesproject/arches#stable/${release}`;
  const devRef = `archesproject/arches-dev-dependencies#stable/${release}`;
  if (id === '6.2') {
    return JSON.stringify({ name: pkg, dependencies: { arches: ref } }, null, 4) + '\n';
  }
  if (id === '7.3' || id === '7.4' || id === '7.5') {
    const obj: Record<string, unknown> = {
      name: pkg,
      scripts: {
        build_development:
          './media/node_modules/.bin/cross-env NODE_PATH=./media/node_modules ./media/node_modules/.bin/webpack --config webpack/webpack.config.dev.js',
        start:
          './media/node_modules/.bin/cross-env NODE_PATH=./media/node_modules ./media/node_modules/.bin/webpack serve --config webpack/webpack.config.dev.js',
      },
      devDependencies: { 'arches-dev-dependencies': devRef },
      dependencies: { arches: ref },
    };
    if (id === '7.5') obj.nodeModulesPaths = {};
    return JSON.stringify(obj, null, 4) + '\n';
  }
  return (
    JSON.stringify(
      {
        name: pkg,
        license: 'AGPL-3.0-only',
        scripts: {
          build_development:
            'npm run eslint:check && npm run ts:check && cross-env webpack --config ./webpack/webpack.config.dev.js',
          start: 'cross-env webpack serve --config ./webpack/webpack.config.dev.js',
        },
        dependencies: { arches: ref },
        devDependencies: { 'arches-dev-dependencies': devRef },
        nodeModulesPaths: {},
        overrides: { 'moment-timezone': '^0.5.45', underscore: '^1.13.6' },
      },
      null,
      4,
    ) + '\n'
  );
}

/** The template writes only `arches==X.Y.Z` (no newline); the extra lines are what a project team adds later. */
function requirementsTxt(release: string): string {
  return (
    `arches==${release}\n` +
    '# project additions\n' +
    'python-dotenv==1.0.1\n' +
    'pywin32==306; sys_platform == "win32"\n'
  );
}

function pyproject76(pkg: string, release: string): string {
  return `[build-system]
requires = ["setuptools", "setuptools-scm"]
build-backend = "setuptools.build_meta"

[project]
name = "${pkg}"
readme = "README.md"
authors = []
license = {text = "GNU AGPL3"}
classifiers = [
    "Development Status :: 3 - Alpha",
    "Programming Language :: Python :: 3",
    "Framework :: Django",
    "Framework :: Django :: 4.2",
]
requires-python = ">=3.10"
dependencies = [
    "arches>=${release},<${nextMinor(release)}",
]
version = "0.0.1"

[project.optional-dependencies]
dev = [
    "livereload",
    "sst",
    "coverage",
    "django-silk==5.1.0",
    "pre-commit==3.8.0",
    "black==24.4.2",
]

[tool.setuptools]
packages = ["${pkg}"]
`;
}

function pyproject8(pkg: string, release: string): string {
  return `[build-system]
requires = ["setuptools>=77", "setuptools-scm"]
build-backend = "setuptools.build_meta"

[project]
name = "${pkg.replace(/_/g, '-')}"
readme = "README.md"
authors = []
license = "AGPL-3.0-or-later"
classifiers = [
    "Development Status :: 3 - Alpha",
    "Programming Language :: Python :: 3",
    "Framework :: Django",
    "Framework :: Django :: 5.2",
]
requires-python = ">=3.11"
dependencies = [
    "arches>=${release},<${nextMinor(release)}",
]
version = "0.0.1"

[dependency-groups]
dev = [
    "black==24.4.2",
    "coverage",
    "django-silk==5.1.0",
    "livereload",
    "pre-commit==3.8.0",
    "sst",
]

[tool.setuptools]
packages = ["${pkg}"]
`;
}

// ---------------------------------------------------------------------------------------------------------------

/** The files of a fixture project, relative path → content (without writing them). */
export function projectFiles(id: FixtureId, options: WriteProjectOptions = {}): Map<string, string> {
  const info = fixtureInfo(id);
  const pkg = options.pkg ?? 'demo_heritage';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(pkg)) throw new Error(`not a Python package name: ${pkg}`);
  const release = options.release ?? info.release;
  const ignoreLocal = options.gitignoreSettingsLocal ?? info.settingsLocalIgnored;

  const files = new Map<string, string>();
  const put = (rel: string, content: string) => files.set(rel.replace(/<pkg>/g, pkg), content);

  put('manage.py', managePy(pkg));
  put('.gitignore', gitignore(id, pkg, ignoreLocal));
  put('<pkg>/__init__.py', '');
  put('<pkg>/settings.py', settingsPy(id, pkg));
  put('<pkg>/settings_local.py', settingsLocalPy(pkg));
  put(info.packageJson, packageJson(id, pkg, release));
  // ≤7.5 templates have an (empty) __init__.py at the project root; the 7.6 updateproject command deletes it.
  if (info.packageJson === '<pkg>/package.json') put('__init__.py', '');
  if (id === '7.4' || id === '7.5') put('<pkg>/install/requirements.txt', requirementsTxt(release));
  if (id === '7.6-upgraded') put('<pkg>/install/requirements.txt', requirementsTxt('7.5.5'));
  if (id === '7.6' || id === '7.6-upgraded') put('pyproject.toml', pyproject76(pkg, release));
  if (id === '8.0' || id === '8.1') put('pyproject.toml', pyproject8(pkg, release));
  return files;
}

/** Writes a realistic Arches project for that line into dir (which exists and is empty); returns the package name. */
export function writeProject(dir: string, id: FixtureId, options: WriteProjectOptions = {}): string {
  const pkg = options.pkg ?? 'demo_heritage';
  for (const [rel, content] of projectFiles(id, options)) {
    const target = path.join(dir, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
  return pkg;
}
