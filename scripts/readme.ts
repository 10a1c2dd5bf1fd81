/**
 * `npm run readme`: writes the README's option table from the option declarations (lib/options.ts and each
 * generators/<id>/provider.ts, through generators/registry.ts), between OPTIONS_BEGIN and OPTIONS_END.
 * `npm run readme -- --check` writes nothing and exits 1 when the README's table is not what it would write
 * (test/readme.test.ts checks the same). The table is formatted with the project's Prettier settings, so
 * `prettier --check` agrees with it.
 *
 * Columns: the flag as typed (`--no-<name>` for a boolean that is on unless told), the providers taking it
 * (providersTaking; "all" when every provider does, "app" for the app generator's own question), the
 * ARCHES_STORAGE_* variable, whether the answer is remembered in .yo-rc.json (yes / no / never for secrets),
 * and the description; the options only commands take (`migrate`, `verify`, `audit`) come last, with the
 * commands in the providers column. Where providers declare the same option differently (`--account` is an Azure storage
 * account for azure and a Cloudflare account id for s3-compatible), the cell shows each provider's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import {
  allOptions,
  COMMANDS,
  PROVIDER_IDS,
  PROVIDER_OPTION,
  providersTaking,
  REGISTRY,
} from '../generators/registry.js';
import { LEADING, TRAILING, type OptionDecl } from '../lib/options.js';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));
export const OPTIONS_BEGIN =
  '<!-- options:begin (written by `npm run readme` from the option declarations: edit those, not this table) -->';
export const OPTIONS_END = '<!-- options:end -->';

/** One declaration of an option, with who declares it ("app" for the app generator's provider question). */
interface Declaration {
  by: string;
  decl: OptionDecl;
}

function declarationsOf(name: string): Declaration[] {
  // A command's own option is documented by the command; one a provider also takes, by the providers.
  const byProviders = REGISTRY.flatMap((p) =>
    p.options.filter((o) => o.name === name).map((decl) => ({ by: p.id, decl })),
  );
  const own = byProviders.length
    ? byProviders
    : COMMANDS.flatMap((c) => c.options.filter((o) => o.name === name).map((decl) => ({ by: c.id, decl })));
  return name === PROVIDER_OPTION.name ? [{ by: 'app', decl: PROVIDER_OPTION }, ...own] : own;
}

/**
 * Markdown for plain text in a table cell: flags as code (with the value of one that takes a value:
 * `--service r2`; flags in a row as one span), and nothing else read as a pipe, tag, emphasis or escape.
 */
function inline(text: string): string {
  const takesValue = new Set(
    allOptions()
      .filter((o) => o.kind !== 'boolean')
      .map((o) => o.name),
  );
  const spans: [number, number][] = [];
  for (const m of text.matchAll(/--([a-z][a-z-]*)/g)) {
    let end = m.index + m[0].length;
    if (takesValue.has(m[1]!)) end += /^ [a-z0-9]+/.exec(text.slice(end))?.[0].length ?? 0;
    const previous = spans.at(-1);
    if (previous && text.slice(previous[1], m.index) === ' ') previous[1] = end;
    else spans.push([m.index, end]);
  }
  const plain = (t: string): string => t.replace(/([\\|<*`])/g, '\\$1');
  let out = '';
  let last = 0;
  for (const [from, to] of spans) {
    out += plain(text.slice(last, from)) + `\`${text.slice(from, to)}\``;
    last = to;
  }
  return out + plain(text.slice(last));
}

/** A cell: one value when every declaration agrees, otherwise each provider's value on its own line. */
function cell(declarations: readonly Declaration[], value: (d: OptionDecl) => string): string {
  const groups = new Map<string, string[]>();
  for (const { by, decl } of declarations) {
    const v = value(decl);
    groups.set(v, [...(groups.get(v) ?? []), by]);
  }
  if (groups.size === 1) return [...groups.keys()][0]!;
  return [...groups].map(([v, by]) => `**${by.join(', ')}**: ${v}`).join('<br>');
}

/** The flag as a user types it: a boolean that is on unless told is documented by its `--no-` form. */
export function flagOf(o: OptionDecl): string {
  if (o.kind !== 'boolean') return `--${o.name} <value>`;
  return o.fallback?.({}) === true ? `--no-${o.name}` : `--${o.name}`;
}

export function remembered(o: OptionDecl): 'yes' | 'no' | 'never' {
  return o.secret ? 'never' : o.persist ? 'yes' : 'no';
}

function providersCell(name: string): string {
  const takers = providersTaking(name);
  const commands = COMMANDS.filter((c) => c.options.some((o) => o.name === name)).map((c) => c.id);
  if (takers.length === 0 && commands.length) return commands.join(', ');
  if (takers.length === 0) return 'app';
  return takers.length === PROVIDER_IDS.length ? 'all' : takers.join(', ');
}

/**
 * The app generator's question first, then where the project is (LEADING), then each provider's own options in
 * registry order, then how the run behaves (TRAILING): the order of `arches-storage --help` for one provider.
 */
function tableOrder(): OptionDecl[] {
  const ends = new Set([...LEADING, ...TRAILING].map((o) => o.name));
  const own = allOptions().filter((o) => o.name !== PROVIDER_OPTION.name && !ends.has(o.name));
  // Then the options only the commands (migrate, verify, audit) take, in registry order.
  const taken = new Set(allOptions().map((o) => o.name));
  const commandsOwn = new Map<string, OptionDecl>();
  for (const o of COMMANDS.flatMap((c) => c.options)) if (!taken.has(o.name)) commandsOwn.set(o.name, o);
  return [PROVIDER_OPTION, ...LEADING, ...own, ...TRAILING, ...commandsOwn.values()];
}

/** The rows of the table, unformatted: option, providers, environment, remembered, what. */
export function optionRows(): string[][] {
  return tableOrder().map((o) => {
    const ds = declarationsOf(o.name);
    return [
      cell(ds, (d) => `\`${flagOf(d)}\``),
      providersCell(o.name),
      cell(ds, (d) => (d.env ? `\`${d.env}\`` : '—')),
      cell(ds, remembered),
      cell(ds, (d) => inline(d.description)),
    ];
  });
}

/** The table as Markdown, formatted as Prettier formats it in README.md. */
export async function optionTable(): Promise<string> {
  const header = ['option', 'providers', 'environment', 'remembered', 'what'];
  const lines = [header, header.map(() => '---'), ...optionRows()].map((r) => `| ${r.join(' | ')} |`);
  const config = (await prettier.resolveConfig(README)) ?? {};
  return prettier.format(lines.join('\n') + '\n', { ...config, parser: 'markdown' });
}

/** Where the table is in a README: the offsets just inside the markers. */
export function tableSpan(readme: string): [number, number] {
  const begin = readme.indexOf(OPTIONS_BEGIN);
  const end = readme.indexOf(OPTIONS_END);
  if (begin < 0 || end < begin || readme.indexOf(OPTIONS_BEGIN, begin + 1) >= 0) {
    throw new Error(
      `README.md must hold the option table once, between "${OPTIONS_BEGIN}" and "${OPTIONS_END}"`,
    );
  }
  return [begin + OPTIONS_BEGIN.length, end];
}

/** The README with its option table replaced by the one the declarations give (a blank line each side). */
export async function renderReadme(readme: string): Promise<string> {
  const [from, to] = tableSpan(readme);
  return `${readme.slice(0, from)}\n\n${await optionTable()}\n${readme.slice(to)}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } }, strict: true });
  const current = readFileSync(README, 'utf8');
  const wanted = await renderReadme(current);
  if (values.check) {
    if (wanted === current) return 0;
    console.error('README.md: the option table differs from the option declarations; run `npm run readme`');
    return 1;
  }
  if (wanted !== current) writeFileSync(README, wanted);
  console.log(
    wanted === current ? 'README.md: the option table is up to date' : 'README.md: option table written',
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error((error as Error).message);
      process.exit(1);
    },
  );
}
