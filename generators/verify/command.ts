/** `arches-storage verify`: the proof that the overlay works as installed (lib/verify.ts), declared as data. */
import type { CommandDefinition } from '../../lib/command.js';
import { ARCHES_VERSION, JSON_OUTPUT, PROJECT, PYTHON, SKIP_PROMPTS } from '../../lib/options.js';

const verify: CommandDefinition = {
  id: 'verify',
  summary:
    "prove the storage works as installed: the project's Python saves, reads, fetches and deletes a probe; CORS; versions",
  options: [PROJECT, ARCHES_VERSION, JSON_OUTPUT, PYTHON, SKIP_PROMPTS],
};

export default verify;
