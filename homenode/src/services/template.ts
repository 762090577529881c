/**
 * @module
 * Placeholders in catalog templates (`{{secret:VAR}}`, `{{port:part:N}}`, `{{name}}`,
 * `{{network}}`): parsing, rendering for one installed instance, generated credentials,
 * and the checks every template must pass (catalog.test.ts runs them on the catalog).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { GRANTS, type Grant, type PartTemplate, type SecretKind, type ServiceTemplate } from './catalog.ts';

export type Placeholder = { kind: 'secret'; name: string } | { kind: 'port'; part: string; port: number } | { kind: 'name' } | { kind: 'network' };

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
export const PART_NAME = /^[a-z][a-z0-9]*$/;
const TEMPLATE_ID = /^[a-z][a-z0-9-]*[a-z0-9]$/;

export function parsePlaceholder(body: string): Placeholder | null {
  if (body === 'name') return { kind: 'name' };
  if (body === 'network') return { kind: 'network' };
  let m = /^secret:([A-Za-z_][A-Za-z0-9_]*)$/.exec(body);
  if (m) return { kind: 'secret', name: m[1] };
  m = /^port:([a-z][a-z0-9]*):(\d{1,5})$/.exec(body);
  if (m) return { kind: 'port', part: m[1], port: Number(m[2]) };
  return null;
}

/** Every `{{…}}` in `text`, parsed (null when it is not a placeholder this module knows). */
export function placeholdersIn(text: string): { raw: string; parsed: Placeholder | null }[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({ raw: m[0], parsed: parsePlaceholder(m[1].trim()) }));
}

/** Key of a published port in a service's config: `part:containerPort`. */
export const portKey = (part: string, port: number) => `${part}:${port}`;

export interface RenderContext {
  name: string;
  network: string;
  secrets: Record<string, string>;
  /** host ports by portKey() */
  ports: Record<string, number>;
}

/** A placeholder that cannot be filled: a catalog mistake, caught by the catalog test. */
export class TemplateError extends Error {}

export function render(text: string, ctx: RenderContext): string {
  return text.replace(PLACEHOLDER, (raw, body: string) => {
    const p = parsePlaceholder(body.trim());
    if (!p) throw new TemplateError(`unknown placeholder ${raw}`);
    if (p.kind === 'name') return ctx.name;
    if (p.kind === 'network') return ctx.network;
    if (p.kind === 'secret') {
      const value = ctx.secrets[p.name];
      if (value === undefined) throw new TemplateError(`${raw}: no such secret`);
      return value;
    }
    const port = ctx.ports[portKey(p.part, p.port)];
    if (port === undefined) throw new TemplateError(`${raw}: port ${p.port} of ${p.part} is not published`);
    return String(port);
  });
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh credential: passwords are letters and digits only, so they need no escaping in a URL. */
export function generateSecret(kind: SecretKind): string {
  if (kind === 'hex32') return randomBytes(32).toString('hex');
  if (kind === 'base64url64') return randomBytes(64).toString('base64url');
  return Array.from({ length: 24 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
}

/** Grants a template's parts need (what `needs` must say). */
export function grantsNeeded(template: ServiceTemplate): Grant[] {
  const needed = new Set<Grant>();
  for (const part of template.parts) {
    if (part.dockerSocket) needed.add('docker-socket');
    if (part.privileged) needed.add('privileged');
  }
  return [...needed].sort();
}

function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  return colon > 0 && last.slice(colon + 1) !== '' && last.slice(colon + 1) !== 'latest';
}

function stringsOf(part: PartTemplate): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(part.env ?? {})) out.push([`env ${key}`, value]);
  for (const arg of part.command ?? []) out.push(['command', arg]);
  for (const arg of part.entrypoint ?? []) out.push(['entrypoint', arg]);
  return out;
}

/** What is wrong with one template (empty: nothing). */
export function templateProblems(t: ServiceTemplate): string[] {
  const problems: string[] = [];
  const say = (what: string) => problems.push(`${t.id}: ${what}`);
  if (!TEMPLATE_ID.test(t.id)) say('id must be lower case letters, digits and dashes');
  if (!t.title || !t.description) say('needs a title and a description');
  if (!t.parts.length) say('has no parts');
  const secrets = t.secrets ?? {};
  const volumes = new Set(t.volumes ?? []);
  const partNames = new Set<string>();
  const published = new Set<string>();
  const hostPorts = new Set<number>();
  const usedSecrets = new Set<string>();
  const usedVolumes = new Set<string>();
  for (const v of volumes) if (!PART_NAME.test(v)) say(`volume "${v}" must be lower case letters and digits`);
  for (const part of t.parts) {
    if (!PART_NAME.test(part.name)) say(`part "${part.name}" must be lower case letters and digits (it is a host name and part of container names)`);
    if (partNames.has(part.name)) say(`part "${part.name}" appears twice`);
    partNames.add(part.name);
    if (!isPinned(part.image)) say(`${part.name}: image ${part.image} is not pinned (give a tag other than latest, or a digest)`);
    const containerPorts = new Set<number>();
    for (const port of part.ports ?? []) {
      if (!Number.isInteger(port.container) || port.container < 1 || port.container > 65535) say(`${part.name}: container port ${port.container} is not a port`);
      if (containerPorts.has(port.container)) say(`${part.name}: container port ${port.container} appears twice`);
      containerPorts.add(port.container);
      if (port.host !== undefined) {
        if (!Number.isInteger(port.host) || port.host < 1024 || port.host > 65535) say(`${part.name}: host port ${port.host} must be 1024-65535`);
        if (hostPorts.has(port.host)) say(`host port ${port.host} is asked for twice`);
        hostPorts.add(port.host);
        published.add(portKey(part.name, port.container));
      }
      if (port.http !== undefined && !port.http.startsWith('/')) say(`${part.name}: probe path ${port.http} must start with /`);
    }
    for (const mount of part.volumes ?? []) {
      if (!volumes.has(mount.volume)) say(`${part.name}: volume "${mount.volume}" is not in the template's volumes`);
      if (!mount.path.startsWith('/')) say(`${part.name}: volume path ${mount.path} must be absolute`);
      usedVolumes.add(mount.volume);
    }
    if (part.job && part.healthcheck) say(`${part.name}: a job has no health check (it is judged by its exit code)`);
    if (!part.job && !part.healthcheck && !(part.ports ?? []).some((p) => p.host !== undefined))
      say(`${part.name}: a long-running part needs a health check or a published port to probe, or its status cannot be honest`);
  }
  const check = (where: string, text: string) => {
    for (const { raw, parsed } of placeholdersIn(text)) {
      if (!parsed) say(`${where}: unknown placeholder ${raw}`);
      else if (parsed.kind === 'secret') {
        if (!(parsed.name in secrets)) say(`${where}: ${raw} names no secret of the template`);
        usedSecrets.add(parsed.name);
      } else if (parsed.kind === 'port' && !published.has(portKey(parsed.part, parsed.port))) say(`${where}: ${raw} is not a published port`);
    }
  };
  for (const part of t.parts) for (const [where, text] of stringsOf(part)) check(`${part.name} ${where}`, text);
  for (const c of t.connections ?? []) check(`connection ${c.label}`, c.template);
  if (t.notes) check('notes', t.notes);
  for (const name of Object.keys(secrets)) if (!usedSecrets.has(name)) say(`secret ${name} is never used`);
  for (const v of volumes) if (!usedVolumes.has(v)) say(`volume "${v}" is mounted by no part`);
  const needs = [...(t.needs ?? [])].sort();
  for (const n of needs) if (!(n in GRANTS)) say(`needs "${n}", which is not a grant Homeport knows`);
  if (needs.join() !== grantsNeeded(t).join()) say(`needs [${needs}] but its parts need [${grantsNeeded(t)}]`);
  return problems;
}

/** Problems of a whole catalog: each template's, duplicate ids, host ports asked for twice. */
export function catalogProblems(catalog: ServiceTemplate[]): string[] {
  const problems = catalog.flatMap(templateProblems);
  const ids = new Set<string>();
  const hostPorts = new Map<number, string>();
  for (const t of catalog) {
    if (ids.has(t.id)) problems.push(`${t.id}: id appears twice`);
    ids.add(t.id);
    for (const part of t.parts)
      for (const port of part.ports ?? []) {
        if (port.host === undefined) continue;
        const other = hostPorts.get(port.host);
        if (other && other !== t.id) problems.push(`${t.id}: host port ${port.host} is also ${other}'s`);
        hostPorts.set(port.host, t.id);
      }
  }
  return problems;
}
