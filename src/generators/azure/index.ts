/** `yo arches-storage:azure` and `arches-storage azure`. */
import { providerGenerator } from '../../yeoman/storage-generator.js';

export default providerGenerator('azure');
