/**
 * @module
 * The owner's own templates: a JSON array of templates (the shape of catalog.ts) in the
 * file HOMEPORT_SERVICE_TEMPLATES names, added to the built-in catalog. A file with any
 * mistake is left out as a whole, with each mistake logged; homeportd starts anyway.
 */
import { readFileSync } from 'node:fs';
import { CATALOG, type ServiceTemplate } from './catalog.ts';
import { templateProblems } from './template.ts';

export function loadCatalog(env: NodeJS.ProcessEnv = process.env, log: (message: string) => void = () => {}): ServiceTemplate[] {
  const path = env.HOMEPORT_SERVICE_TEMPLATES;
  if (!path) return CATALOG;
  let extra: unknown;
  try {
    extra = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    log(`service templates in ${path} not used: ${(error as Error).message}`);
    return CATALOG;
  }
  if (!Array.isArray(extra) || !extra.every((t) => t && typeof t === 'object' && typeof t.id === 'string' && Array.isArray(t.parts))) {
    log(`service templates in ${path} not used: expected a JSON array of templates ({"id", "title", "description", "category", "parts": […]})`);
    return CATALOG;
  }
  const templates = extra as ServiceTemplate[];
  const problems = templates.flatMap((t) => {
    try {
      return templateProblems(t);
    } catch {
      return [`${t.id}: not a template (a field is missing or of the wrong type)`];
    }
  });
  const ids = new Set(CATALOG.map((t) => t.id));
  for (const t of templates) {
    if (ids.has(t.id)) problems.push(`${t.id}: a template with this id exists already`);
    ids.add(t.id);
  }
  if (problems.length) {
    log(`service templates in ${path} not used:\n  ${problems.join('\n  ')}`);
    return CATALOG;
  }
  log(`service templates from ${path}: ${templates.map((t) => t.id).join(', ')}`);
  return [...CATALOG, ...templates];
}
