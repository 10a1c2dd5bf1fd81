/** `yo arches-storage:aws` and `arches-storage aws`. */
import { providerGenerator } from '../../yeoman/storage-generator.js';

export default providerGenerator('aws');
