/** `yo arches-storage:azure` and `arches-storage azure`: the shared generator with this folder's provider. */
import { providerGenerator } from '../base/storage-generator.js';
import provider from './provider.js';

export default providerGenerator(provider);
