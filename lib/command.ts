/**
 * A command that is not a provider (`migrate`, `verify`, `audit`): its name, its line in --help and its
 * options, declared once as data in `generators/<id>/command.ts` and registered in generators/registry.ts.
 */
import type { OptionDecl } from './options.js';

export interface CommandDefinition {
  id: string;
  /** One line for `arches-storage --help`. */
  summary: string;
  /** Every option the command takes. */
  options: readonly OptionDecl[];
}
