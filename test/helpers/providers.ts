/** The registered providers for tests that call the core directly (the core is handed a provider's data). */
import { ALL_DOCUMENT_NAMES, providerById } from '../../generators/registry.js';
import type { StorageProvider } from '../../lib/provider.js';

export const spec = (id: string): StorageProvider => providerById(id);

/** What buildOverlay needs of the registry for answers of this provider. */
export const overlayProvider = (
  id: string,
): { provider: StorageProvider; documentNames: readonly string[] } => ({
  provider: providerById(id),
  documentNames: ALL_DOCUMENT_NAMES,
});
