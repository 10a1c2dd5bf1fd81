/** `yo arches-storage:gcs` and `arches-storage gcs`. */
import { providerGenerator } from '../../yeoman/storage-generator.js';

export default providerGenerator('gcs');
