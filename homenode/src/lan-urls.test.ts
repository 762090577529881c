import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { isOwnHostname, parseHost } from './lan-hosts.ts';
import { doorPortOf, lanUrlOf, withLanKey } from './lan-urls.ts';
import { withoutKeyParam } from './lan.ts';

const closed = { lanHost: '127.0.0.1', lanPort: 7870, lanOpen: false, lanPortOffset: 10_000 };
const open = { ...closed, lanHost: '192.168.1.20', lanOpen: true };

describe('LAN door URLs', () => {
  it('should give each dev port its own origin: <port>.localhost, or its door port while the door is open', () => {
    expect(lanUrlOf(closed, 5173)).toBe('http://5173.localhost:7870/');
    expect(lanUrlOf(open, 5173)).toBe('http://192.168.1.20:15173/');
    expect(doorPortOf(closed, 5173)).toBeNull();
    expect(doorPortOf(open, 60_000)).toBeNull(); // past 65535
    expect(doorPortOf({ ...open, lanPort: 15173 }, 5173)).toBeNull(); // never the door's own port
    expect(lanUrlOf({ ...open, lanHost: 'fe80::1' }, 3000)).toBe('http://[fe80::1]:13000/');
  });

  it('should open door ports only when the door listens beyond loopback, or their offset is asked for', () => {
    const home = mkdtempSync(join(tmpdir(), 'homeport-lan-'));
    const lanOpen = (env: Record<string, string>) => loadConfig({ HOMEPORT_HOME: home, ...env }).lanOpen;
    expect(lanOpen({})).toBe(false);
    expect(lanOpen({ HOMEPORT_LAN_HOST: '127.0.0.1' })).toBe(false); // docker-compose.yml always sets it
    expect(lanOpen({ HOMEPORT_LAN_HOST: '0.0.0.0' })).toBe(true);
    expect(lanOpen({ HOMEPORT_LAN_HOST: '192.168.1.20' })).toBe(true);
    expect(lanOpen({ HOMEPORT_LAN_PORT_OFFSET: '50000' })).toBe(true);
  });

  it('should keep the path form for ports that opted in to it', () => {
    expect(lanUrlOf(open, 5173, true)).toBe('http://192.168.1.20:7870/5173/');
  });

  it('should add the key for a first visit and take it off again, leaving other parameters as they were', () => {
    expect(withLanKey('http://5173.localhost:7870/', 'k-1')).toBe('http://5173.localhost:7870/?homeport_key=k-1');
    expect(withoutKeyParam('/a?x=1&homeport_key=k-1&y=a%20b')).toBe('/a?x=1&y=a%20b');
    expect(withoutKeyParam('/a?homeport_key=k-1')).toBe('/a');
    expect(withoutKeyParam('/a?homeport_keyx=1')).toBe('/a?homeport_keyx=1');
  });
});

describe('LAN door hosts', () => {
  it('should parse Host headers and refuse malformed ones', () => {
    expect(parseHost('5173.LOCALHOST:7870')).toEqual({ hostname: '5173.localhost', port: 7870 });
    expect(parseHost('[::1]:80')).toEqual({ hostname: '[::1]', port: 80 });
    expect(parseHost('example.com')).toEqual({ hostname: 'example.com', port: null });
    expect(parseHost('a b:1')).toBeNull();
    expect(parseHost('host:1:2')).toBeNull();
  });

  it("should know this machine's names and no one else's", () => {
    for (const name of ['localhost', '3000.localhost', '127.0.0.1', '[::1]', 'nuc.lan']) expect(isOwnHostname(name, 'nuc.lan'), name).toBe(true);
    for (const name of ['rebind.attacker.example', 'localhost.attacker.example', '3000.nuc.lan', '0.0.0.0']) expect(isOwnHostname(name, '0.0.0.0'), name).toBe(false);
  });
});
