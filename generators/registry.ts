/**
 * Every provider, registered once: a provider is its folder (generators/<id>/: provider.ts, index.ts and,
 * when it creates resources, provisioner.ts) plus one line here. The order is the order of the provider
 * question. Nothing here loads Yeoman or a cloud SDK (the bin's --help reads it).
 */
import aws from './aws/provider.js';
import azure from './azure/provider.js';
import gcs from './gcs/provider.js';
import local from './local/provider.js';
import s3Compatible from './s3-compatible/provider.js';
import migrate from './migrate/command.js';
import auditCommand from './audit/command.js';
import verifyCommand from './verify/command.js';
import { appProviderOption, type OptionDecl } from '../lib/options.js';
import type { CommandDefinition } from '../lib/command.js';
import type { StorageProvider } from '../lib/provider.js';
import { UserError } from '../lib/types.js';

export const REGISTRY: readonly StorageProvider[] = [aws, s3Compatible, gcs, azure, local];

export const PROVIDER_IDS: readonly string[] = REGISTRY.map((p) => p.id);

/** The commands that are not providers (generators/<id>/command.ts), registered once each. */
export const COMMANDS: readonly CommandDefinition[] = [migrate, auditCommand, verifyCommand];

export const COMMAND_IDS: readonly string[] = COMMANDS.map((c) => c.id);

export function providerById(id: string): StorageProvider {
  const p = REGISTRY.find((r) => r.id === id);
  if (!p) throw new UserError(`--provider "${id}" is not one of ${PROVIDER_IDS.join(', ')}`, 'provider', 2);
  return p;
}

/** The `app` generator's question: which provider, with the providers' own labels. */
export const PROVIDER_OPTION: OptionDecl = appProviderOption(REGISTRY);

/**
 * The options of a generator. `app` declares every provider's options (the first declaration of a name wins)
 * so it can forward them.
 */
export function optionsFor(target: string): OptionDecl[] {
  const command = COMMANDS.find((c) => c.id === target);
  if (command) return [...command.options];
  if (target !== 'app') return [...providerById(target).options];
  const seen = new Map<string, OptionDecl>();
  for (const o of [PROVIDER_OPTION, ...REGISTRY.flatMap((p) => p.options)])
    if (!seen.has(o.name)) seen.set(o.name, o);
  return [...seen.values()];
}

/** The providers that take an option, by name (for --help and the README's option table). */
export function providersTaking(name: string): string[] {
  return REGISTRY.filter((p) => p.options.some((o) => o.name === name)).map((p) => p.id);
}

/** Every option a provider declares, each name once (the first declaration), in registry order. */
export function allOptions(): OptionDecl[] {
  return optionsFor('app');
}

/** Every document name any provider writes (switching providers removes the others'). */
export const ALL_DOCUMENT_NAMES: readonly string[] = [...new Set(REGISTRY.flatMap((p) => p.documentNames))];
