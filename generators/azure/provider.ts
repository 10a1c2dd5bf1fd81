/**
 * Azure Blob Storage: a private container in a storage account, CORS through the blob service, SAS URLs
 * for a private container. Today this provider writes the overlay for an account that exists
 * (--no-provision).
 */
import {
  corsOriginOption,
  LEADING,
  PROVISION,
  SECRETS_FILE,
  str,
  TRAILING,
  type OptionDecl,
} from '../../lib/options.js';
import { azureCorsRules } from '../../lib/policies.js';
import type { StorageProvider } from '../../lib/provider.js';
import { validateAzureAccountName, validateAzureContainerName } from '../../lib/validate.js';

const ACCOUNT: OptionDecl = {
  name: 'account',
  kind: 'string',
  description: 'Azure storage account name (3–24 lowercase letters and digits)',
  key: 'account',
  env: 'ARCHES_STORAGE_ACCOUNT',
  persist: true,
  required: () => true,
  question: 'Storage account name',
  validate: (v) => validateAzureAccountName(str(v)),
};

const CONTAINER: OptionDecl = {
  name: 'container',
  kind: 'string',
  description: 'Azure blob container (3–63 lowercase letters, digits, single hyphens)',
  key: 'container',
  env: 'ARCHES_STORAGE_CONTAINER',
  persist: true,
  required: () => true,
  fallback: () => 'media',
  question: 'Blob container name',
  validate: (v) => validateAzureContainerName(str(v)),
};

const ACCOUNT_KEY: OptionDecl = {
  name: 'account-key',
  kind: 'string',
  description:
    'Azure storage account key (written only to a git-ignored file: settings_local.py, or --secrets-file)',
  key: 'accountKey',
  env: 'ARCHES_STORAGE_ACCOUNT_KEY',
  persist: false,
  secret: true,
  question: 'Storage account key (empty: set AZURE_ACCOUNT_KEY in the environment instead)',
  // Asked while the project keeps none; an answer is written to settings_local.py like --account-key.
  when: (a) => !a.secretsStored?.includes('AZURE_ACCOUNT_KEY'),
};

const title = 'Azure Blob Storage';

const azure: StorageProvider = {
  id: 'azure',
  label: 'Azure Blob Storage',
  title,
  summary: 'Azure Blob Storage',
  options: [
    ...LEADING,
    ACCOUNT,
    CONTAINER,
    corsOriginOption({ title, exactCorsOrigins: true }),
    ACCOUNT_KEY,
    PROVISION,
    SECRETS_FILE,
    ...TRAILING,
  ],
  backend: {
    DEFAULT_FILE_STORAGE: 'storages.backends.azure_storage.AzureStorage',
    STORAGES: 'storages.backends.azure_storage.AzureStorage',
  },
  settings: (a) => [
    { option: 'account_name', global: 'AZURE_ACCOUNT_NAME', value: a.account ?? null },
    { option: 'azure_container', global: 'AZURE_CONTAINER', value: a.container ?? null },
    { option: 'overwrite_files', global: 'AZURE_OVERWRITE_FILES', value: false },
    // New storage accounts forbid public blobs: hand out SAS URLs valid for an hour.
    { option: 'expiration_secs', global: 'AZURE_URL_EXPIRATION_SECS', value: a.publicRead ? null : 3600 },
  ],
  // django-storages reads the Azure key from settings only, not from the environment.
  settingsFromEnvironment: ['AZURE_ACCOUNT_KEY'],
  secrets: (s) => (s.accountKey ? [['AZURE_ACCOUNT_KEY', s.accountKey]] : []),
  secretEnvironment: ['AZURE_ACCOUNT_KEY'],
  packages: {
    extra: 'azure',
    client: { name: 'azure-storage-blob', specifier: '>=12.17,<13', accept: '>=12' },
  },
  documentNames: ['azure-cors.json'],
  documents: (a) => [
    {
      name: 'azure-cors.json',
      description: `CORS for ${a.corsOrigins.join(', ')}`,
      content: azureCorsRules(a.corsOrigins),
    },
  ],
  configured: (a) => [`Storage account \`${a.account}\`, container \`${a.container}\`.`],
  exactCorsOrigins: true,
};

export default azure;
