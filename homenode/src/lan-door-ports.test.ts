import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/ports.ts';
import { LanDoorPorts } from './lan-door-ports.ts';

const doors: LanDoorPorts[] = [];
afterEach(() => doors.splice(0).forEach((d) => d.close()));

/** Connects to 127.0.0.1:port; resolves true once connected, false when refused. */
const reachable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('LAN door ports', () => {
  it('should open a door per dev port while the door is open, hand over its connections, and close it when the port goes', async () => {
    const dev = await freePort(3000, 9999);
    const offset = (await freePort(50_000, 55_000)) - dev;
    const handed: number[] = [];
    const door = new LanDoorPorts({ lanHost: '127.0.0.1', lanPort: 7870, lanOpen: true, lanPortOffset: offset }, (socket) => {
      handed.push(socket.localPort!);
      socket.destroy();
    });
    doors.push(door);
    await door.sync([dev]);
    expect(door.doorPorts()).toEqual([dev + offset]);
    expect(door.devPortOf(dev + offset)).toBe(dev);
    expect(door.devPortOf(7870)).toBeNull();
    expect(await reachable(dev + offset)).toBe(true);
    await expect.poll(() => handed).toEqual([dev + offset]);

    await door.sync([]);
    expect(door.doorPorts()).toEqual([]);
    await expect.poll(() => reachable(dev + offset)).toBe(false);
  });

  it('should open nothing while the door is closed to the LAN, and skip a port someone else holds', async () => {
    const dev = await freePort(3000, 9999);
    const closed = new LanDoorPorts({ lanHost: '127.0.0.1', lanPort: 7870, lanOpen: false, lanPortOffset: 10_000 }, () => {});
    doors.push(closed);
    await closed.sync([dev]);
    expect(closed.doorPorts()).toEqual([]);

    const taken = net.createServer();
    const takenPort = await freePort(50_000, 55_000);
    await new Promise<void>((r) => taken.listen(takenPort, '127.0.0.1', () => r()));
    const logs: string[] = [];
    const open = new LanDoorPorts({ lanHost: '127.0.0.1', lanPort: 7870, lanOpen: true, lanPortOffset: takenPort - dev }, () => {}, (m) => logs.push(m));
    doors.push(open);
    await open.sync([dev]);
    expect(open.doorPorts()).toEqual([]);
    expect(logs[0]).toContain(`LAN door port ${takenPort} for dev port ${dev} could not open: EADDRINUSE`);
    taken.close();
  });
});
