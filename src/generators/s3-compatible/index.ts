/** `yo arches-storage:s3-compatible` and `arches-storage s3-compatible`. */
import { providerGenerator } from '../../yeoman/storage-generator.js';

export default providerGenerator('s3-compatible');
