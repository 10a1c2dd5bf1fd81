/**
 * `arches-storage <provider> [options]`: runs the same generators as `yo arches-storage:<provider>`,
 * through yeoman-environment directly (so it also works as root, where `yo` drops privileges).
 * --help and --version answer from the option declarations without loading Yeoman or any cloud SDK.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { optionsFor, type OptionDecl } from '../core/options.js';
import { PROVIDERS, UserError, type ProviderId } from '../core/types.js';

type Target = ProviderId | 'app';
const TARGETS: readonly Target[] = ['app', ...PROVIDERS];
const NAMESPACE = 'arches-storage';
/** Yeoman's own flags, passed through untouched. */
const YEOMAN_FLAGS = ['skip-install', 'skip-cache', 'ask-answered'];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function helpText(target?: Target): string {
  const lines = [
    `arches-storage ${version()}: move an Arches project's uploaded files to cloud storage.`,
    '',
    'Usage: arches-storage <provider> [options]      (or: yo arches-storage[:<provider>] [options])',
    '',
    'Providers:',
    '  app            ask for the provider (the default with no provider)',
    '  aws            Amazon S3, with a least-privilege IAM user policy',
    '  s3-compatible  DigitalOcean Spaces, Wasabi, Backblaze B2, Cloudflare R2, MinIO, others',
    '  gcs            Google Cloud Storage',
    '  azure          Azure Blob Storage',
    '  local          back to local files: removes everything the generator added',
    '',
  ];
  const decls: OptionDecl[] = optionsFor(target ?? 'app');
  lines.push(
    target && target !== 'app' ? `Options for ${target}:` : 'Options (each provider takes its own subset):',
  );
  for (const o of decls) {
    const flag =
      o.kind === 'boolean'
        ? o.name === 'provision'
          ? '--no-provision'
          : `--${o.name}`
        : `--${o.name} <value>`;
    const scope = target ? '' : o.providers.length < PROVIDERS.length ? ` (${o.providers.join(', ')})` : '';
    lines.push(`  ${flag.padEnd(28)} ${o.description}${scope}${o.env ? ` [${o.env}]` : ''}`);
  }
  lines.push('  --help                       This help', '  --version                    The version', '');
  lines.push(
    'Answers come from options, then ARCHES_STORAGE_* variables, then .yo-rc.json; prompts ask for the',
  );
  lines.push('rest unless --skip-prompts, CI=true or no terminal, where a missing answer exits with code 2.');
  return lines.join('\n');
}

/** Checks the flags against the declarations before Yeoman is loaded: unknown flags are refused. */
function checkFlags(target: Target, args: string[]): void {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const o of optionsFor(target)) {
    options[o.name] = {
      type: o.kind === 'boolean' ? 'boolean' : 'string',
      ...(o.kind === 'list' ? { multiple: true } : {}),
    };
    if (o.kind === 'boolean') options[`no-${o.name}`] = { type: 'boolean' };
  }
  for (const f of YEOMAN_FLAGS) options[f] = { type: 'boolean' };
  options.force ??= { type: 'boolean' };
  try {
    parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UserError(
      `${(error as Error).message}\nRun "arches-storage ${target} --help" for the options.`,
      'usage',
      2,
    );
  }
}

export async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  const target: Target = first && !first.startsWith('-') ? (first as Target) : 'app';
  const rest = first && !first.startsWith('-') ? argv.slice(1) : argv;
  if (!TARGETS.includes(target)) {
    process.stderr.write(`arches-storage: unknown provider "${first}". Providers: ${TARGETS.join(', ')}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpText(first && !first.startsWith('-') ? target : undefined) + '\n');
    return 0;
  }
  if (rest.includes('--version')) {
    process.stdout.write(version() + '\n');
    return 0;
  }
  try {
    checkFlags(target, rest);
    const { createEnv } = await import('yeoman-environment');
    const env = createEnv();
    for (const t of TARGETS) {
      env.register(fileURLToPath(new URL(`../generators/${t}/index.js`, import.meta.url)), {
        namespace: `${NAMESPACE}:${t}`,
        packagePath: fileURLToPath(new URL('../../', import.meta.url)),
      });
    }
    await env.run([`${NAMESPACE}:${target}`, ...rest]);
    return 0;
  } catch (error) {
    if (error instanceof UserError || (error as Error).name === 'UserError') {
      process.stderr.write(`arches-storage: ${(error as Error).message}\n`);
      return (error as UserError).exitCode ?? 1;
    }
    process.stderr.write(`arches-storage: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}
