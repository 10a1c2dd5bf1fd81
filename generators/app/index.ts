/**
 * `yo arches-storage` and `arches-storage app`: asks where uploaded files should go, then runs that
 * provider's generator (by namespace) with the same options.
 */
import Generator, { type Storage } from 'yeoman-generator';
import { cliValue } from '../../lib/answers.js';
import { detectProject } from '../../lib/detect.js';
import { ARCHES_VERSION, fromEnvironment, SKIP_PROMPTS, PROJECT } from '../../lib/options.js';
import { diskFiles } from '../../lib/projectfiles.js';
import { readOurs } from '../../lib/safefs.js';
import { UserError } from '../../lib/types.js';
import {
  declareOptions,
  inertConfig,
  PROJECT_SHOWN,
  projectSummary,
  type StoredConfig,
} from '../base/storage-generator.js';
import { promptsAllowed } from '../base/command-context.js';
import { optionsFor, PROVIDER_OPTION, providerById } from '../registry.js';

export default class AppGenerator extends Generator {
  constructor(args: string[], options: Generator['options']) {
    // The project's npm dependencies are not ours to install: no package-manager step.
    super(args, options, { customInstallTask: true });
    declareOptions(this, optionsFor('app'));
    this.description = 'Move an Arches project’s uploaded files to cloud storage (asks for the provider)';
  }

  /** .yo-rc.json is read and written by the core (one line for a broken file), never by Yeoman's Storage. */
  override get config(): Storage {
    return inertConfig(this);
  }

  async prompting(): Promise<void> {
    const explicit = cliValue(PROVIDER_OPTION, this.options) ?? fromEnvironment(PROVIDER_OPTION, process.env);
    const skipValue = cliValue(SKIP_PROMPTS, this.options) ?? fromEnvironment(SKIP_PROMPTS, process.env);
    const project = cliValue(PROJECT, this.options) ?? fromEnvironment(PROJECT, process.env);
    if (typeof project === 'string') this.destinationRoot(project);
    const ours = readOurs(this.destinationRoot()) as StoredConfig;
    const remembered = ours.provider === 'app' ? undefined : ours.provider;
    let provider = typeof explicit === 'string' ? explicit : undefined;
    let summaryShown = false;
    if (!provider && promptsAllowed(typeof skipValue === 'boolean' ? skipValue : undefined)) {
      // What the run found, before the first question: the provider's generator does not repeat it.
      const version = cliValue(ARCHES_VERSION, this.options) ?? fromEnvironment(ARCHES_VERSION, process.env);
      const root = this.destinationRoot();
      const found = detectProject(
        root,
        diskFiles(root),
        typeof version === 'string' ? version : ours.archesVersion,
      );
      this.log(projectSummary(found, version === undefined && ours.archesVersion !== undefined));
      summaryShown = true;
      ({ provider } = await this.prompt<{ provider: string }>({
        type: 'select',
        name: 'provider',
        message: PROVIDER_OPTION.question!,
        choices: [...PROVIDER_OPTION.choices!],
        default: remembered,
      }));
    }
    provider ??= remembered;
    if (!provider) {
      throw new UserError(
        `Missing required option: --provider (or ${PROVIDER_OPTION.env}). Nothing was written.`,
        'provider',
        2,
      );
    }
    const invalid = PROVIDER_OPTION.validate!(provider, {});
    if (invalid) throw new UserError(`--provider: ${invalid}. Nothing was written.`, 'provider', 2);
    // Forward every option the user gave; the provider generator resolves the rest the same way.
    const forwarded: Record<string, unknown> = {};
    for (const o of providerById(provider).options) {
      const v = cliValue(o, this.options);
      if (v !== undefined) forwarded[o.name] = v;
    }
    if (summaryShown) forwarded[PROJECT_SHOWN] = true;
    // By namespace: the bin, yo's lookup and the tests register every provider generator under its own.
    await this.composeWith(`arches-storage:${provider}`, forwarded);
  }
}
