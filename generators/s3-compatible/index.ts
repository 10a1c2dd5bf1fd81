/** `yo arches-storage:s3-compatible` and `arches-storage s3-compatible`: the shared generator with this folder's provider. */
import { providerGenerator } from '../base/storage-generator.js';
import provider from './provider.js';

export default providerGenerator(provider);
