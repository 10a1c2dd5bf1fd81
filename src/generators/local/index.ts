/** `yo arches-storage:local` and `arches-storage local`. */
import { providerGenerator } from '../../yeoman/storage-generator.js';

export default providerGenerator('local');
