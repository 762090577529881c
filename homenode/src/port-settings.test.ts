import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortSettingsStore } from './port-settings.ts';

const store = () => new PortSettingsStore(mkdtempSync(join(tmpdir(), 'homeport-ports-')));

describe('PortSettingsStore', () => {
  it('should keep the path form off by default', () => {
    expect(store().get(3000)).toEqual({ pathForm: false, keepPrefix: false });
  });

  it('should turn the path form on with keep-prefix, and drop the prefix with the path form', () => {
    const s = store();
    expect(s.set(3000, { keepPrefix: true })).toEqual({ pathForm: true, keepPrefix: true });
    expect(s.set(3000, { keepPrefix: false })).toEqual({ pathForm: true, keepPrefix: false });
    expect(s.set(3000, { keepPrefix: true })).toEqual({ pathForm: true, keepPrefix: true });
    expect(s.set(3000, { pathForm: false })).toEqual({ pathForm: false, keepPrefix: false });
    expect(s.get(4000)).toEqual({ pathForm: false, keepPrefix: false });
  });

  it('should keep ports that kept their prefix before the path form was opt-in reachable in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'homeport-ports-'));
    writeFileSync(join(dir, 'ports.json'), JSON.stringify({ 5173: { keepPrefix: true } }));
    const s = new PortSettingsStore(dir);
    expect(s.get(5173)).toEqual({ pathForm: true, keepPrefix: true });
    // Saved and read back from disk.
    s.set(5173, { keepPrefix: false });
    expect(new PortSettingsStore(dir).get(5173)).toEqual({ pathForm: true, keepPrefix: false });
  });
});
