import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { localEdgePort, OwnPorts } from './own-ports.ts';

const config = { lanPort: 7870, apiPort: 7871, edgeUrl: 'http://127.0.0.1:8787', lanHost: '127.0.0.1' };
const stops: (() => void)[] = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

describe("Homeport's own ports", () => {
  it('should name the door, the API, a local edge, door ports and code-server', () => {
    const own = new OwnPorts(config, { doorPorts: () => [15173], codePort: () => 41234 });
    expect(own.which(7870)).toBe('the LAN door');
    expect(own.which(7871)).toBe("the node API's port");
    expect(own.which(8787)).toBe("the local edge's port");
    expect(own.which(15173)).toBe('a LAN door port');
    expect(own.which(41234)).toBe("code-server's port");
    expect(own.which(5173, 424242)).toBeNull();
    expect(own.which(5173, process.pid)).toBe('a port homeportd listens on');
  });

  it('should count an edge as local only when it runs on this machine', () => {
    expect(localEdgePort({ ...config, edgeUrl: 'http://localhost' })).toBe(80);
    expect(localEdgePort({ ...config, edgeUrl: 'https://homeport.example.workers.dev' })).toBeNull();
    expect(localEdgePort({ ...config, edgeUrl: null })).toBeNull();
  });

  it("should own every process in an MCP server's process group", async () => {
    // an MCP server started through a shell: the listener is the shell's child, in the shell's group
    const leader = spawn('sh', ['-c', 'sleep 30 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    stops.push(() => process.kill(-leader.pid!, 'SIGKILL'));
    const child = Number(await new Promise<string>((r) => leader.stdout!.once('data', (d) => r(String(d).trim()))));
    const own = new OwnPorts(config, { mcpPids: () => [leader.pid!] });
    expect(own.which(5000, child)).toBe('an MCP server homeportd runs');
    expect(new OwnPorts(config, { mcpPids: () => [] }).which(5000, child)).toBeNull();
  });
});
