import { describe, expect, it } from 'vitest';
import {
  DATA_CHUNK_SIZE,
  FrameError,
  FrameType,
  Flags,
  HEADER_SIZE,
  MAX_PAYLOAD,
  PROTOCOL_VERSION,
  chunksOf,
  decodeFrame,
  encode,
  encodeRaw,
  textOf,
  type RequestHead,
} from './frames.ts';

const enc = new TextEncoder();

const head: RequestHead = {
  method: 'POST',
  url: '/3000/api/items?x=1',
  headers: [
    ['content-type', 'application/json'],
    ['cookie', 'a=1'],
  ],
  target: { kind: 'port', port: 3000, prefix: '/3000' },
  clientIp: '127.0.0.1',
  origin: 'https://share.test',
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FrameError);
    return (error as FrameError).code;
  }
  throw new Error('expected a FrameError');
}

/** A raw frame with any header fields, payload length taken from the payload unless given. */
function raw(type: number, streamId: number, payload: Uint8Array, opts: { version?: number; flags?: number; length?: number } = {}) {
  const out = new Uint8Array(HEADER_SIZE + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, opts.version ?? PROTOCOL_VERSION);
  view.setUint8(1, type);
  view.setUint16(2, opts.flags ?? 0);
  view.setUint32(4, streamId);
  view.setUint32(8, opts.length ?? payload.byteLength);
  out.set(payload, HEADER_SIZE);
  return out;
}

const json = (v: unknown) => enc.encode(JSON.stringify(v));

describe('frame round trips', () => {
  it('should round-trip an Open frame with its head and End flag', () => {
    const f = decodeFrame(encode.open(7, head, true));
    expect(f).toEqual({ type: FrameType.Open, streamId: 7, flags: Flags.End, head });
    const g = decodeFrame(encode.open(8, { ...head, target: { kind: 'api' } }, false));
    expect(g.type === FrameType.Open && g.head.target).toEqual({ kind: 'api' });
    expect(g.flags).toBe(0);
  });

  it('should round-trip a Response frame keeping repeated headers', () => {
    const rh = { status: 200, headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['content-type', 'text/plain']] as [string, string][] };
    const f = decodeFrame(encode.response(0x7fffffff, rh, false));
    expect(f).toEqual({ type: FrameType.Response, streamId: 0x7fffffff, flags: 0, head: rh });
    expect(decodeFrame(encode.response(1, { status: 204, headers: [] }, true)).flags).toBe(Flags.End);
  });

  it('should round-trip Data frames, with and without End, and an empty End', () => {
    const bytes = new Uint8Array([0, 1, 2, 255, 254]);
    const f = decodeFrame(encode.data(3, bytes));
    expect(f.type).toBe(FrameType.Data);
    expect(f.flags).toBe(0);
    expect(f.type === FrameType.Data && [...f.data]).toEqual([0, 1, 2, 255, 254]);
    expect(decodeFrame(encode.data(3, bytes, true)).flags).toBe(Flags.End);
    const end = decodeFrame(encode.end(3));
    expect(end.type === FrameType.Data && end.data.byteLength).toBe(0);
    expect(end.flags & Flags.End).toBe(Flags.End);
  });

  it('should round-trip a full-size data chunk', () => {
    const big = new Uint8Array(DATA_CHUNK_SIZE).map((_, i) => i & 0xff);
    const f = decodeFrame(encode.data(9, big));
    expect(f.type === FrameType.Data && f.data.byteLength).toBe(DATA_CHUNK_SIZE);
    expect(f.type === FrameType.Data && f.data[DATA_CHUNK_SIZE - 1]).toBe((DATA_CHUNK_SIZE - 1) & 0xff);
  });

  it('should round-trip Reset, Window and GoAway frames', () => {
    expect(decodeFrame(encode.reset(5, 'timeout', 'no answer'))).toEqual({
      type: FrameType.Reset,
      streamId: 5,
      flags: 0,
      reset: { code: 'timeout', message: 'no answer' },
    });
    expect(decodeFrame(encode.window(5, 0xffffffff))).toEqual({ type: FrameType.Window, streamId: 5, flags: 0, credit: 0xffffffff });
    expect(decodeFrame(encode.window(5, 1))).toMatchObject({ credit: 1 });
    expect(decodeFrame(encode.goAway('bye'))).toEqual({ type: FrameType.GoAway, streamId: 0, flags: 0, reason: 'bye' });
  });

  it('should round-trip text and binary WebSocket messages', () => {
    const t = decodeFrame(encode.wsMessage(4, 'héllo ✓'));
    expect(t.flags & Flags.Binary).toBe(0);
    expect(t.type === FrameType.WsMessage && textOf(t.data)).toBe('héllo ✓');
    const b = decodeFrame(encode.wsMessage(4, new Uint8Array([0xff, 0xfe, 0x00])));
    expect(b.flags & Flags.Binary).toBe(Flags.Binary);
    expect(b.type === FrameType.WsMessage && [...b.data]).toEqual([0xff, 0xfe, 0]);
    const empty = decodeFrame(encode.wsMessage(4, ''));
    expect(empty.type === FrameType.WsMessage && empty.data.byteLength).toBe(0);
  });

  it('should round-trip a WebSocket close with code and reason, cutting long reasons', () => {
    expect(decodeFrame(encode.wsClose(6, 4001, 'gone ✓'))).toEqual({ type: FrameType.WsClose, streamId: 6, flags: 0, code: 4001, reason: 'gone ✓' });
    expect(decodeFrame(encode.wsClose(6, 1000, ''))).toMatchObject({ code: 1000, reason: '' });
    const long = decodeFrame(encode.wsClose(6, 1000, 'x'.repeat(500)));
    expect(long.type === FrameType.WsClose && long.reason.length).toBe(120);
  });

  it('should round-trip Ping, Pong and Control frames on stream 0', () => {
    const p = decodeFrame(encode.ping(new Uint8Array([1, 2, 3])));
    expect(p.type).toBe(FrameType.Ping);
    expect(p.streamId).toBe(0);
    expect(p.type === FrameType.Ping && [...p.data]).toEqual([1, 2, 3]);
    const q = decodeFrame(encode.pong(new Uint8Array(64)));
    expect(q.type).toBe(FrameType.Pong);
    const message = { t: 'hello', nodeId: 'home', agent: 'x', protocol: PROTOCOL_VERSION, ports: [{ port: 3000, address: '::' }] };
    expect(decodeFrame(encode.control(message))).toEqual({ type: FrameType.Control, streamId: 0, flags: 0, message });
  });

  it('should accept an ArrayBuffer and a Uint8Array view at an offset', () => {
    const frame = encode.wsClose(2, 1001, 'away');
    const copy = frame.slice();
    expect(decodeFrame(copy.buffer)).toMatchObject({ type: FrameType.WsClose, code: 1001, reason: 'away' });
    const padded = new Uint8Array(frame.byteLength + 10);
    padded.set(frame, 7);
    expect(decodeFrame(padded.subarray(7, 7 + frame.byteLength))).toMatchObject({ type: FrameType.WsClose, code: 1001, reason: 'away' });
  });

  it('should write the documented 12-byte header', () => {
    const f = encode.data(0x01020304, new Uint8Array([9, 9]), true);
    expect([...f.subarray(0, HEADER_SIZE)]).toEqual([PROTOCOL_VERSION, FrameType.Data, 0, Flags.End, 1, 2, 3, 4, 0, 0, 0, 2]);
  });
});

describe('frame rejection', () => {
  it('should reject frames shorter than the header', () => {
    expect(codeOf(() => decodeFrame(new Uint8Array(0)))).toBe('short');
    expect(codeOf(() => decodeFrame(encode.end(1).subarray(0, HEADER_SIZE - 1)))).toBe('short');
  });

  it('should reject a bad protocol version', () => {
    expect(codeOf(() => decodeFrame(raw(FrameType.Data, 1, new Uint8Array(1), { version: 2 })))).toBe('version');
    expect(codeOf(() => decodeFrame(raw(FrameType.Data, 1, new Uint8Array(1), { version: 0 })))).toBe('version');
  });

  it('should reject unknown frame types', () => {
    for (const type of [0x00, 0x0c, 0x7f, 0xff]) expect(codeOf(() => decodeFrame(raw(type, 0, new Uint8Array(0))))).toBe('type');
    expect(codeOf(() => decodeFrame(raw(0x0c, 3, new Uint8Array(2))))).toBe('type');
  });

  it('should reject a length that disagrees with the bytes: truncated or trailing', () => {
    const good = encode.data(1, new Uint8Array(10));
    expect(codeOf(() => decodeFrame(good.subarray(0, good.byteLength - 1)))).toBe('length');
    const trailing = new Uint8Array(good.byteLength + 1);
    trailing.set(good);
    expect(codeOf(() => decodeFrame(trailing))).toBe('length');
    expect(codeOf(() => decodeFrame(raw(FrameType.Data, 1, new Uint8Array(4), { length: 5 })))).toBe('length');
    expect(codeOf(() => decodeFrame(raw(FrameType.Data, 1, new Uint8Array(4), { length: 3 })))).toBe('length');
  });

  it('should reject an oversize payload in both the encoder and the decoder', () => {
    expect(codeOf(() => encodeRaw(FrameType.Data, 1, 0, new Uint8Array(MAX_PAYLOAD + 1)))).toBe('oversize');
    expect(codeOf(() => decodeFrame(raw(FrameType.Data, 1, new Uint8Array(0), { length: MAX_PAYLOAD + 1 })))).toBe('oversize');
    expect(codeOf(() => decodeFrame(raw(FrameType.Data, 1, new Uint8Array(0), { length: 0xffffffff })))).toBe('oversize');
    expect(codeOf(() => decodeFrame(raw(FrameType.Data, 1, new Uint8Array(MAX_PAYLOAD + 1))))).toBe('oversize');
    expect(decodeFrame(raw(FrameType.Data, 1, new Uint8Array(MAX_PAYLOAD))).type).toBe(FrameType.Data);
  });

  it('should reject connection-level frames on a stream', () => {
    expect(codeOf(() => decodeFrame(raw(FrameType.Ping, 1, new Uint8Array(0))))).toBe('stream');
    expect(codeOf(() => decodeFrame(raw(FrameType.Pong, 2, new Uint8Array(0))))).toBe('stream');
    expect(codeOf(() => decodeFrame(raw(FrameType.Control, 3, json({ t: 'hello' }))))).toBe('stream');
    expect(codeOf(() => decodeFrame(raw(FrameType.GoAway, 4, json({ reason: 'x' }))))).toBe('stream');
  });

  it('should reject stream-level frames on stream 0', () => {
    const payloads: [FrameType, Uint8Array][] = [
      [FrameType.Open, json(head)],
      [FrameType.Response, json({ status: 200, headers: [] })],
      [FrameType.Data, new Uint8Array(1)],
      [FrameType.Reset, json({ code: 'a', message: 'b' })],
      [FrameType.Window, new Uint8Array([0, 0, 0, 1])],
      [FrameType.WsMessage, enc.encode('hi')],
      [FrameType.WsClose, new Uint8Array([3, 232])],
    ];
    for (const [type, payload] of payloads) {
      expect(codeOf(() => decodeFrame(raw(type, 0, payload)))).toBe('stream');
      expect(decodeFrame(raw(type, 1, payload)).type).toBe(type);
    }
  });

  it('should reject payloads that are not UTF-8 JSON', () => {
    for (const type of [FrameType.Open, FrameType.Response, FrameType.Reset]) {
      expect(codeOf(() => decodeFrame(raw(type, 1, enc.encode('{not json'))))).toBe('payload');
      expect(codeOf(() => decodeFrame(raw(type, 1, new Uint8Array([0x7b, 0xff, 0x7d]))))).toBe('payload');
      expect(codeOf(() => decodeFrame(raw(type, 1, new Uint8Array(0))))).toBe('payload');
    }
    expect(codeOf(() => decodeFrame(raw(FrameType.Control, 0, enc.encode('nope'))))).toBe('payload');
    expect(codeOf(() => decodeFrame(raw(FrameType.GoAway, 0, enc.encode('nope'))))).toBe('payload');
  });

  it('should reject invalid request heads', () => {
    const bad: unknown[] = [
      null,
      42,
      'str',
      [],
      { ...head, method: 1 },
      { ...head, url: 'http://evil/' },
      { ...head, url: 'relative' },
      { ...head, headers: [['a']] },
      { ...head, headers: [['a', 1]] },
      { ...head, headers: { a: 'b' } },
      { ...head, target: undefined },
      { ...head, target: { kind: 'port', port: 0, prefix: '' } },
      { ...head, target: { kind: 'port', port: 65536, prefix: '' } },
      { ...head, target: { kind: 'port', port: 3000.5, prefix: '' } },
      { ...head, target: { kind: 'port', port: 3000 } },
      { ...head, target: { kind: 'other' } },
    ];
    for (const value of bad) expect(codeOf(() => decodeFrame(raw(FrameType.Open, 1, json(value))))).toBe('payload');
  });

  it('should reject invalid response heads', () => {
    const bad: unknown[] = [
      null,
      [],
      { status: 99, headers: [] },
      { status: 600, headers: [] },
      { status: 200.5, headers: [] },
      { status: '200', headers: [] },
      { status: 200 },
      { status: 200, headers: [['a', 'b', 'c']] },
    ];
    for (const value of bad) expect(codeOf(() => decodeFrame(raw(FrameType.Response, 1, json(value))))).toBe('payload');
  });

  it('should reject invalid reset, control and close payloads', () => {
    expect(codeOf(() => decodeFrame(raw(FrameType.Reset, 1, json({ code: 'a' }))))).toBe('payload');
    expect(codeOf(() => decodeFrame(raw(FrameType.Reset, 1, json(null))))).toBe('payload');
    expect(codeOf(() => decodeFrame(raw(FrameType.Control, 0, json({ type: 'hello' }))))).toBe('payload');
    expect(codeOf(() => decodeFrame(raw(FrameType.Control, 0, json([{ t: 'x' }]))))).toBe('payload');
    expect(codeOf(() => decodeFrame(raw(FrameType.Control, 0, json(null))))).toBe('payload');
    expect(codeOf(() => decodeFrame(raw(FrameType.WsClose, 1, new Uint8Array([3]))))).toBe('payload');
    expect(codeOf(() => decodeFrame(raw(FrameType.WsClose, 1, new Uint8Array([3, 232, 0xc3]))))).toBe('payload');
    expect(codeOf(() => decodeFrame(raw(FrameType.Ping, 0, new Uint8Array(65))))).toBe('payload');
  });

  it('should default a GoAway without a reason', () => {
    expect(decodeFrame(raw(FrameType.GoAway, 0, json(null)))).toMatchObject({ reason: 'unspecified' });
    expect(decodeFrame(raw(FrameType.GoAway, 0, json({ reason: 5 })))).toMatchObject({ reason: 'unspecified' });
  });

  it('should reject a window frame granting zero credit or of the wrong size', () => {
    expect(codeOf(() => decodeFrame(encode.window(1, 0)))).toBe('payload');
    expect(codeOf(() => decodeFrame(raw(FrameType.Window, 1, new Uint8Array([0, 0, 1]))))).toBe('payload');
    expect(codeOf(() => decodeFrame(raw(FrameType.Window, 1, new Uint8Array([0, 0, 0, 1, 0]))))).toBe('payload');
  });

  it('should reject text WebSocket messages that are not UTF-8 but pass binary ones', () => {
    const invalid = [new Uint8Array([0xff]), new Uint8Array([0xc3]), new Uint8Array([0xed, 0xa0, 0x80]), new Uint8Array([0x61, 0x80])];
    for (const bytes of invalid) {
      expect(codeOf(() => decodeFrame(raw(FrameType.WsMessage, 1, bytes)))).toBe('payload');
      expect(decodeFrame(raw(FrameType.WsMessage, 1, bytes, { flags: Flags.Binary })).type).toBe(FrameType.WsMessage);
    }
  });
});

describe('chunksOf', () => {
  it('should cut data into pieces no bigger than the chunk size, covering every byte', () => {
    const data = new Uint8Array(25).map((_, i) => i);
    const pieces = [...chunksOf(data, 10)];
    expect(pieces.map((p) => p.byteLength)).toEqual([10, 10, 5]);
    expect(pieces.flatMap((p) => [...p])).toEqual([...data]);
    expect([...chunksOf(new Uint8Array(0))]).toEqual([]);
    expect([...chunksOf(new Uint8Array(DATA_CHUNK_SIZE * 2 + 1))].map((p) => p.byteLength)).toEqual([DATA_CHUNK_SIZE, DATA_CHUNK_SIZE, 1]);
  });
});

/** mulberry32: a small seeded PRNG, so a failing fuzz run can be replayed from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('decodeFrame fuzz', () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 0xffffffff);

  function validFrames(): Uint8Array[] {
    return [
      encode.open(1, head, false),
      encode.response(2, { status: 301, headers: [['location', '/x/']] }, true),
      encode.data(3, enc.encode('hello world')),
      encode.end(3),
      encode.reset(4, 'cancelled', 'visitor left'),
      encode.window(5, 65536),
      encode.wsMessage(6, 'text ✓'),
      encode.wsMessage(6, new Uint8Array([1, 2, 3])),
      encode.wsClose(7, 1000, 'bye'),
      encode.ping(new Uint8Array(8)),
      encode.pong(new Uint8Array(8)),
      encode.control({ t: 'ports', ports: [] }),
      encode.goAway('restart'),
    ];
  }

  /** Decodes one buffer; returns whether it was a frame, fails the test on anything but FrameError. */
  function check(buf: Uint8Array, i: number): boolean {
    let frame;
    try {
      frame = decodeFrame(buf);
    } catch (error) {
      if (error instanceof FrameError) return false;
      const hex = Buffer.from(buf.subarray(0, 64)).toString('hex');
      throw new Error(`seed ${seed}, case ${i}: decodeFrame threw ${String(error)} for ${hex}`);
    }
    if (typeof frame !== 'object' || frame === null || !(frame.type in FrameType) || !Number.isInteger(frame.streamId))
      throw new Error(`seed ${seed}, case ${i}: decodeFrame returned a non-frame`);
    return true;
  }

  it('should only ever return a frame or throw FrameError for random buffers', () => {
    console.log(`decodeFrame fuzz seed: ${seed} (replay with FUZZ_SEED=${seed})`);
    const rand = prng(seed);
    let frames = 0;
    let errors = 0;
    for (let i = 0; i < 5000; i++) {
      const len = rand() < 0.5 ? Math.floor(rand() * 40) : Math.floor(rand() * 400);
      const buf = new Uint8Array(len);
      for (let j = 0; j < len; j++) buf[j] = Math.floor(rand() * 256);
      // Half of them get a plausible header so the payload parsers are reached.
      if (len >= HEADER_SIZE && rand() < 0.5) {
        const view = new DataView(buf.buffer);
        view.setUint8(0, PROTOCOL_VERSION);
        view.setUint8(1, 1 + Math.floor(rand() * 12));
        view.setUint32(4, rand() < 0.3 ? 0 : Math.floor(rand() * 4));
        view.setUint32(8, len - HEADER_SIZE);
      }
      if (check(buf, i)) frames++;
      else errors++;
    }
    expect(frames + errors).toBe(5000);
    expect(errors).toBeGreaterThan(0);
    expect(frames).toBeGreaterThan(0);
  });

  it('should only ever return a frame or throw FrameError for mutated valid frames', () => {
    console.log(`decodeFrame mutation fuzz seed: ${seed} (replay with FUZZ_SEED=${seed})`);
    const rand = prng(seed ^ 0x5bd1e995);
    const valid = validFrames();
    let decoded = 0;
    for (let i = 0; i < 10000; i++) {
      let buf = valid[Math.floor(rand() * valid.length)].slice();
      const kind = rand();
      if (kind < 0.4) {
        const flips = 1 + Math.floor(rand() * 4);
        for (let k = 0; k < flips; k++) buf[Math.floor(rand() * buf.byteLength)] ^= 1 << Math.floor(rand() * 8);
      } else if (kind < 0.6) {
        buf = buf.subarray(0, Math.floor(rand() * buf.byteLength));
      } else if (kind < 0.8) {
        // Flip payload bytes but keep the header consistent, to reach the payload parsers.
        for (let k = HEADER_SIZE; k < buf.byteLength; k++) if (rand() < 0.1) buf[k] = Math.floor(rand() * 256);
      } else {
        const extra = new Uint8Array(buf.byteLength + 1 + Math.floor(rand() * 8));
        extra.set(buf);
        for (let k = buf.byteLength; k < extra.byteLength; k++) extra[k] = Math.floor(rand() * 256);
        if (rand() < 0.5) new DataView(extra.buffer).setUint32(8, extra.byteLength - HEADER_SIZE);
        buf = extra;
      }
      if (check(buf, i)) decoded++;
    }
    // Most mutations break a frame, some (payload bytes of data frames) do not.
    expect(decoded).toBeGreaterThan(0);
    expect(decoded).toBeLessThan(10000);
    // The unmutated frames still decode.
    for (const frame of valid) expect(() => decodeFrame(frame)).not.toThrow();
  });
});
