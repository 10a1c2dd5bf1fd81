/** Local files: back to Django's FileSystemStorage, removing everything the generator added. */
import { LEADING, SWITCHING, TRAILING } from '../../lib/options.js';
import type { StorageProvider } from '../../lib/provider.js';

const local: StorageProvider = {
  id: 'local',
  label: 'Local files on this server',
  title: 'local files (Django FileSystemStorage)',
  summary: 'back to local files: removes everything the generator added',
  options: [...LEADING, ...SWITCHING, ...TRAILING],
  backend: null,
  settings: () => [],
  secrets: () => [],
  secretEnvironment: [],
  packages: null,
  documentNames: [],
  documents: () => [],
  configured: () => [],
};

export default local;
