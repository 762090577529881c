import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from './catalog-file.ts';
import { CATALOG, type ServiceTemplate } from './catalog.ts';
import { catalogProblems, generateSecret, grantsNeeded, placeholdersIn, render, TemplateError, templateProblems } from './template.ts';

const minimal = (over: Partial<ServiceTemplate> = {}): ServiceTemplate => ({
  id: 'thing',
  title: 'Thing',
  description: 'a thing',
  category: 'test',
  secrets: { PW: 'password' },
  volumes: ['data'],
  parts: [{ name: 'web', image: 'example/web:1.2', env: { PW: '{{secret:PW}}' }, ports: [{ container: 80, host: 18000, label: 'Web' }], volumes: [{ volume: 'data', path: '/data' }] }],
  connections: [{ label: 'URL', template: 'http://u:{{secret:PW}}@127.0.0.1:{{port:web:80}}/' }],
  ...over,
});

describe('the service catalog', () => {
  it('should pass every check: placeholders resolve, images pinned, ports unique, grants declared', () => {
    expect(catalogProblems(CATALOG)).toEqual([]);
  });

  it('should hold the seeds’ databases and self-hosted apps', () => {
    expect(CATALOG.map((t) => t.id)).toEqual(['postgres', 'mysql', 'mongodb', 'redis', 'penpot', 'appwrite', 'convex']);
    expect(CATALOG.find((t) => t.id === 'penpot')!.parts.map((p) => p.name).sort()).toEqual(['backend', 'exporter', 'frontend', 'postgres', 'redis']);
    expect(CATALOG.find((t) => t.id === 'convex')!.parts.map((p) => p.name)).toEqual(['backend', 'dashboard']);
    expect(CATALOG.find((t) => t.id === 'appwrite')!.needs).toEqual(['docker-socket']);
  });

  it('should render every connection string of every template with nothing left over', () => {
    for (const t of CATALOG) {
      const ports: Record<string, number> = {};
      for (const part of t.parts) for (const port of part.ports ?? []) if (port.host) ports[`${part.name}:${port.container}`] = port.host;
      const secrets = Object.fromEntries(Object.entries(t.secrets ?? {}).map(([k, kind]) => [k, generateSecret(kind)]));
      for (const c of t.connections ?? []) {
        const url = render(c.template, { name: t.id, network: `homeport-svc-${t.id}`, secrets, ports });
        expect(url).not.toContain('{{');
        if (c.template.includes('{{secret:')) expect(Object.values(secrets).some((s) => url.includes(s))).toBe(true);
      }
    }
  });
});

describe('template checks', () => {
  it('should accept a well-formed template', () => {
    expect(templateProblems(minimal())).toEqual([]);
  });

  it('should name each mistake', () => {
    const broken = minimal({
      secrets: { PW: 'password', UNUSED: 'hex32' },
      parts: [
        {
          name: 'web-ui',
          image: 'example/web:latest',
          env: { PW: '{{secret:NOPE}}', X: '{{port:web:81}}', Y: '{{wat}}' },
          ports: [
            { container: 80, host: 18000, label: 'a' },
            { container: 80, host: 18000, label: 'b' },
          ],
          volumes: [{ volume: 'other', path: 'rel' }],
          dockerSocket: true,
        },
      ],
      connections: [],
    });
    const problems = templateProblems(broken).join('\n');
    for (const expected of [
      'part "web-ui" must be lower case',
      'image example/web:latest is not pinned',
      'container port 80 appears twice',
      'host port 18000 is asked for twice',
      'volume "other" is not in the template',
      'volume path rel must be absolute',
      '{{secret:NOPE}} names no secret',
      '{{port:web:81}} is not a published port',
      'unknown placeholder {{wat}}',
      'secret UNUSED is never used',
      'volume "data" is mounted by no part',
      'needs [] but its parts need [docker-socket]',
    ])
      expect(problems).toContain(expected);
  });

  it('should ask a long-running part for a health check or a published port, and a job for neither', () => {
    const silent = minimal({ secrets: {}, volumes: [], connections: [], parts: [{ name: 'worker', image: 'example/w:1' }] });
    expect(templateProblems(silent)).toEqual(['thing: worker: a long-running part needs a health check or a published port to probe, or its status cannot be honest']);
    const job = minimal({ secrets: {}, volumes: [], connections: [], parts: [{ name: 'migrate', image: 'example/w:1', job: true }] });
    expect(templateProblems(job)).toEqual([]);
  });

  it('should find host ports two templates ask for', () => {
    expect(catalogProblems([minimal(), minimal({ id: 'other' })])).toContain('other: host port 18000 is also thing\'s');
  });

  it('should derive needed grants from the parts', () => {
    expect(grantsNeeded(minimal({ parts: [{ name: 'a', image: 'x/y:1', dockerSocket: true, privileged: true, job: true }] }))).toEqual(['docker-socket', 'privileged']);
  });
});

describe('rendering', () => {
  const ctx = { name: 'pg', network: 'homeport-svc-pg', secrets: { PW: 's3cret' }, ports: { 'db:5432': 5433 } };

  it('should fill every kind of placeholder', () => {
    expect(render('{{name}} on {{network}}: postgres://u:{{secret:PW}}@127.0.0.1:{{port:db:5432}}/', ctx)).toBe('pg on homeport-svc-pg: postgres://u:s3cret@127.0.0.1:5433/');
    expect(placeholdersIn('{{ name }} {{x}}').map((p) => p.parsed?.kind ?? null)).toEqual(['name', null]);
  });

  it('should refuse what it cannot fill', () => {
    expect(() => render('{{secret:OTHER}}', ctx)).toThrow(TemplateError);
    expect(() => render('{{port:db:1}}', ctx)).toThrow('port 1 of db is not published');
  });

  it('should generate credentials of each kind', () => {
    expect(generateSecret('password')).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(generateSecret('hex32')).toMatch(/^[0-9a-f]{64}$/);
    expect(generateSecret('base64url64')).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(generateSecret('password')).not.toBe(generateSecret('password'));
  });
});

describe('the owner’s own templates (HOMEPORT_SERVICE_TEMPLATES)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const file = (content: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'homeport-templates-'));
    dirs.push(dir);
    const path = join(dir, 'templates.json');
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  it('should add valid templates to the catalog', () => {
    const logged: string[] = [];
    const catalog = loadCatalog({ HOMEPORT_SERVICE_TEMPLATES: file([minimal({ id: 'mine' })]) }, (m) => logged.push(m));
    expect(catalog.map((t) => t.id)).toEqual([...CATALOG.map((t) => t.id), 'mine']);
    expect(logged[0]).toMatch(/^service templates from .*templates\.json: mine$/);
    expect(loadCatalog({})).toBe(CATALOG);
  });

  it('should leave out a file with mistakes, saying each', () => {
    const logged: string[] = [];
    const catalog = loadCatalog({ HOMEPORT_SERVICE_TEMPLATES: file([minimal({ id: 'postgres' }), minimal({ id: 'other', parts: [{ name: 'web' } as never] })]) }, (m) => logged.push(m));
    expect(catalog).toBe(CATALOG);
    expect(logged[0]).toContain('not used:');
    expect(logged[0]).toContain('postgres: a template with this id exists already');
    expect(logged[0]).toContain('other: not a template');
    loadCatalog({ HOMEPORT_SERVICE_TEMPLATES: file('{nope') }, (m) => logged.push(m));
    expect(logged[1]).toMatch(/not used: .*JSON/);
    loadCatalog({ HOMEPORT_SERVICE_TEMPLATES: file({ id: 'x' }) }, (m) => logged.push(m));
    expect(logged[2]).toContain('expected a JSON array of templates');
  });
});
