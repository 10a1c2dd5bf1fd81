/**
 * `arches-storage <provider> [options]`: runs the same generators as `yo arches-storage:<provider>`,
 * through yeoman-environment directly (so it also works as root, where `yo` drops privileges).
 * --help and --version answer from the option declarations without loading Yeoman or any cloud SDK.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { CommandContext } from '../generators/base/command-context.js';
import type { OptionDecl } from '../lib/options.js';
import { PACKAGE_ROOT, packagePath } from '../lib/paths.js';
import { redact } from '../lib/redact.js';
import { UserError } from '../lib/types.js';
import {
  allOptions,
  COMMAND_IDS,
  COMMANDS,
  optionsFor,
  PROVIDER_IDS,
  providersTaking,
  REGISTRY,
} from '../generators/registry.js';

type Target = string;
const TARGETS: readonly Target[] = ['app', ...PROVIDER_IDS, ...COMMAND_IDS];
const NAMESPACE = 'arches-storage';
/** Yeoman's own flags, passed through untouched. */
const YEOMAN_FLAGS = ['skip-install', 'skip-cache', 'ask-answered'];

function version(): string {
  const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as {
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
    ...REGISTRY.map((p) => `  ${p.id.padEnd(14)} ${p.summary}`),
    '',
    ...(COMMANDS.length
      ? ['Commands:', ...COMMANDS.map((c) => `  ${c.id.padEnd(14)} ${c.summary}`), '']
      : []),
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
    const takers = providersTaking(o.name);
    const scope =
      target || o.name === 'provider' || takers.length === PROVIDER_IDS.length
        ? ''
        : ` (${takers.join(', ')})`;
    lines.push(`  ${flag.padEnd(28)} ${o.description}${scope}${o.env ? ` [${o.env}]` : ''}`);
  }
  lines.push('  --help                       This help', '  --version                    The version', '');
  lines.push(
    'Answers come from options, then ARCHES_STORAGE_* variables, then .yo-rc.json; prompts ask for the',
  );
  lines.push('rest unless --skip-prompts, CI=true or no terminal, where a missing answer exits with code 2.');
  return lines.join('\n');
}

/**
 * Checks the flags against the declarations before Yeoman is loaded (a bad or unknown flag is a usage error) and
 * returns them parsed: kebab-case keys, `--no-x` as x: false.
 */
function checkFlags(target: Target, args: string[]): Record<string, unknown> {
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
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values))
      if (k.startsWith('no-') && options[k.slice(3)]?.type === 'boolean') out[k.slice(3)] = v !== true;
      else out[k] = v;
    return out;
  } catch (error) {
    throw new UserError(
      `${(error as Error).message}\nRun "arches-storage ${target} --help" for the options.`,
      'usage',
      2,
    );
  }
}

/**
 * Commands the bin runs without Yeoman (they never prompt): the same work as their generators
 * (generators/<id>/run.ts), without loading yeoman-environment.
 */
const DIRECT: Record<
  string,
  () => Promise<{ MUTATES: boolean; run: (ctx: CommandContext) => Promise<void> }>
> = {
  migrate: async () => {
    const m = await import('../generators/migrate/run.js');
    return { MUTATES: m.MUTATES, run: m.runMigrate };
  },
  verify: async () => {
    const m = await import('../generators/verify/run.js');
    return { MUTATES: m.MUTATES, run: m.runVerify };
  },
};

/** Values that must never be printed: the secret options given on the command line or in the environment. */
function knownSecrets(args: string[], env: NodeJS.ProcessEnv): string[] {
  const names = allOptions()
    .filter((o) => o.secret)
    .map((o) => o.name);
  const out: string[] = [];
  args.forEach((a, i) => {
    for (const n of names) {
      if (a === `--${n}` && args[i + 1] !== undefined) out.push(args[i + 1]!);
      if (a.startsWith(`--${n}=`)) out.push(a.slice(n.length + 3));
    }
  });
  for (const o of allOptions()) if (o.secret && o.env && env[o.env]) out.push(env[o.env]!);
  for (const v of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AZURE_STORAGE_KEY', 'AZURE_ACCOUNT_KEY'])
    if (env[v]) out.push(env[v]);
  return out;
}

/** `--json` (or ARCHES_STORAGE_JSON=true): stdout carries one JSON document, success or failure. */
function wantsJson(args: string[], env: NodeJS.ProcessEnv): boolean {
  if (args.includes('--no-json')) return false;
  return args.includes('--json') || /^(1|true|yes)$/i.test(env.ARCHES_STORAGE_JSON ?? '');
}

/** How a failure is told: one line (or a short block) on stderr, or one JSON document on stdout. */
function report(error: unknown, json: boolean, secrets: string[]): number {
  const hide = (text: string): string => redact(text, secrets);
  const e = error as UserError;
  let code: number;
  let message: string;
  if (error instanceof UserError || e?.name === 'UserError') {
    code = e.exitCode ?? 1;
    message = e.message;
  } else if (e?.name === 'ExitPromptError' || e?.name === 'AbortPromptError') {
    // Ctrl-C at a prompt: nothing has been written yet (every write comes after the questions).
    code = 130;
    message = 'Interrupted at a prompt: nothing was written.';
  } else {
    code = 1;
    message = `unexpected error: ${(error as Error)?.stack ?? String(error)}`;
  }
  if (json) {
    const doc = {
      ok: false,
      exitCode: code,
      error: hide(message),
      ...(e?.subject ? { subject: e.subject } : {}),
      ...(e?.details ? (JSON.parse(hide(JSON.stringify(e.details))) as object) : {}),
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } else {
    process.stderr.write(`arches-storage: ${hide(message)}\n`);
  }
  return code;
}

export async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  const target: Target = first && !first.startsWith('-') ? first : 'app';
  const rest = first && !first.startsWith('-') ? argv.slice(1) : argv;
  if (!TARGETS.includes(target)) {
    const unknown = new UserError(
      `unknown provider "${first}". Providers: ${['app', ...PROVIDER_IDS].join(', ')}${COMMAND_IDS.length ? `; commands: ${COMMAND_IDS.join(', ')}` : ''}`,
      'usage',
      2,
    );
    return report(unknown, wantsJson(rest, process.env), []);
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpText(first && !first.startsWith('-') ? target : undefined) + '\n');
    return 0;
  }
  if (rest.includes('--version')) {
    process.stdout.write(version() + '\n');
    return 0;
  }
  const json = wantsJson(rest, process.env);
  const secrets = knownSecrets(rest, process.env);
  try {
    const flags = checkFlags(target, rest);
    try {
      process.cwd();
    } catch {
      // Yeoman (through npm's arborist) reads the working directory as it loads: say it plainly instead.
      throw new UserError(
        'The current directory no longer exists: cd into the Arches project (or an existing folder with --project) and run again. Nothing was written.',
        'project',
        2,
      );
    }
    const direct = DIRECT[target];
    if (direct) {
      const { MUTATES, run } = await direct();
      const { CommandContext } = await import('../generators/base/command-context.js');
      const ctx = CommandContext.open(
        COMMANDS.find((c) => c.id === target)!,
        flags,
        process.cwd(),
        MUTATES,
      );
      try {
        await run(ctx);
      } finally {
        ctx.release();
      }
      return 0;
    }
    const { createEnv } = await import('yeoman-environment');
    const env = createEnv();
    for (const t of TARGETS) {
      env.register(fileURLToPath(new URL(`../generators/${t}/index.js`, import.meta.url)), {
        namespace: `${NAMESPACE}:${t}`,
        packagePath: PACKAGE_ROOT,
      });
    }
    await env.run([`${NAMESPACE}:${target}`, ...rest]);
    return 0;
  } catch (error) {
    return report(error, json, secrets);
  }
}
