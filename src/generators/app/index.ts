/**
 * `yo arches-storage` and `arches-storage app`: asks where uploaded files should go, then runs that
 * provider's generator with the same options.
 */
import { fileURLToPath } from 'node:url';
import Generator, { type Storage } from 'yeoman-generator';
import { cliValue } from '../../core/answers.js';
import { APP_OPTIONS, fromEnvironment, OPTIONS, optionsFor } from '../../core/options.js';
import { readOurs } from '../../core/safefs.js';
import { UserError, type ProviderId } from '../../core/types.js';
import {
  declareOptions,
  inertConfig,
  promptsAllowed,
  type StoredConfig,
} from '../../yeoman/storage-generator.js';

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
    const explicit = cliValue(APP_OPTIONS, this.options) ?? fromEnvironment(APP_OPTIONS, process.env);
    const skip = OPTIONS.find((o) => o.name === 'skip-prompts')!;
    const skipValue = cliValue(skip, this.options) ?? fromEnvironment(skip, process.env);
    const project = cliValue(
      OPTIONS.find((o) => o.name === 'project')!,
      this.options,
    );
    if (typeof project === 'string') this.destinationRoot(project);
    const stored = (readOurs(this.destinationRoot()) as StoredConfig).provider;
    const remembered = stored === 'app' ? undefined : stored;
    let provider = typeof explicit === 'string' ? explicit : undefined;
    if (!provider && promptsAllowed(typeof skipValue === 'boolean' ? skipValue : undefined)) {
      const question = {
        type: 'list',
        name: 'provider',
        message: APP_OPTIONS.question!,
        choices: [...APP_OPTIONS.choices!],
        default: remembered,
      };
      ({ provider } = (await this.prompt(question as Parameters<Generator['prompt']>[0])) as {
        provider: string;
      });
    }
    provider ??= remembered;
    if (!provider) {
      throw new UserError(
        `Missing required option: --provider (or ${APP_OPTIONS.env}). Nothing was written.`,
        'provider',
        2,
      );
    }
    const invalid = APP_OPTIONS.validate!(provider, {});
    if (invalid) throw new UserError(`--provider: ${invalid}. Nothing was written.`, 'provider', 2);
    // Forward every option the user gave; the provider generator resolves the rest the same way.
    const forwarded: Record<string, unknown> = {};
    for (const o of optionsFor(provider as ProviderId)) {
      const v = cliValue(o, this.options);
      if (v !== undefined) forwarded[o.name] = v;
    }
    await this.composeWith(fileURLToPath(new URL(`../${provider}/index.js`, import.meta.url)), forwarded);
  }
}
