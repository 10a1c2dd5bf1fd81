/** `yo arches-storage:aws` and `arches-storage aws`: the shared generator with this folder's provider. */
import { providerGenerator } from '../base/storage-generator.js';
import provider from './provider.js';

export default providerGenerator(provider);
