/**
 * @module
 * The tunnel's binary frames. Every WebSocket message between the edge and a home node
 * is exactly one frame: a 12-byte header (yamux-like) followed by the payload.
 *
 *   byte 0     version (1)
 *   byte 1     type (FrameType)
 *   bytes 2-3  flags (big endian)
 *   bytes 4-7  stream id (big endian; 0 = the connection itself)
 *   bytes 8-11 payload length (big endian; must equal what follows)
 *
 * The decoder never trusts its input: any malformed, truncated or oversized frame is a
 * FrameError with a code, and nothing else is ever thrown.
 */

export const PROTOCOL_VERSION = 1;
export const HEADER_SIZE = 12;
/** Body chunks are cut to this size: large frames are what make a Durable Object relay fast. */
export const DATA_CHUNK_SIZE = 256 * 1024;
/** Largest payload the decoder accepts (a data chunk plus room for JSON heads). */
export const MAX_PAYLOAD = 1024 * 1024;
/** Credit each side starts with per stream and direction before it must wait for a WINDOW frame. */
export const INITIAL_WINDOW = 1024 * 1024;

export enum FrameType {
  /** edge → node: open a stream for a forwarded request (JSON RequestHead). */
  Open = 0x01,
  /** node → edge: the response head (JSON ResponseHead); status 101 accepts a WebSocket. */
  Response = 0x02,
  /** a body chunk, either way; flag End marks the last one. */
  Data = 0x03,
  /** abort a stream, either way (JSON {code, message}). */
  Reset = 0x04,
  /** grant the peer more credit on a stream (u32 bytes). */
  Window = 0x05,
  /** a WebSocket message on a stream; flag Binary, otherwise UTF-8 text. */
  WsMessage = 0x06,
  /** a WebSocket close on a stream (u16 code + UTF-8 reason). */
  WsClose = 0x07,
  Ping = 0x08,
  Pong = 0x09,
  /** a control message on stream 0 (JSON ControlMessage). */
  Control = 0x0a,
  /** the sender is closing the tunnel (JSON {reason}). */
  GoAway = 0x0b,
}

export const Flags = {
  /** no more data follows on this stream in this direction */
  End: 0x1,
  /** a binary WebSocket message */
  Binary: 0x2,
} as const;

export type HeaderList = [string, string][];

/** Where a forwarded request goes on the node. */
export type StreamTarget =
  | { kind: 'port'; port: number; prefix: string; host?: string }
  | { kind: 'api' };

export interface RequestHead {
  method: string;
  /** path and query, as the visitor sent them */
  url: string;
  headers: HeaderList;
  target: StreamTarget;
  websocket?: boolean;
  /** the visitor's address, for X-Forwarded-For */
  clientIp?: string;
  /** the public origin the visitor used, e.g. https://share.example.com */
  origin?: string;
}

export interface ResponseHead {
  status: number;
  headers: HeaderList;
}

export interface ResetBody {
  code: string;
  message: string;
}

export type Frame =
  | { type: FrameType.Open; streamId: number; flags: number; head: RequestHead }
  | { type: FrameType.Response; streamId: number; flags: number; head: ResponseHead }
  | { type: FrameType.Data; streamId: number; flags: number; data: Uint8Array }
  | { type: FrameType.Reset; streamId: number; flags: number; reset: ResetBody }
  | { type: FrameType.Window; streamId: number; flags: number; credit: number }
  | { type: FrameType.WsMessage; streamId: number; flags: number; data: Uint8Array }
  | { type: FrameType.WsClose; streamId: number; flags: number; code: number; reason: string }
  | { type: FrameType.Ping | FrameType.Pong; streamId: 0; flags: number; data: Uint8Array }
  | { type: FrameType.Control; streamId: 0; flags: number; message: Record<string, unknown> & { t: string } }
  | { type: FrameType.GoAway; streamId: 0; flags: number; reason: string };

export class FrameError extends Error {
  constructor(
    readonly code: 'short' | 'version' | 'type' | 'length' | 'oversize' | 'stream' | 'payload',
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function header(type: FrameType, flags: number, streamId: number, length: number, into: Uint8Array) {
  const view = new DataView(into.buffer, into.byteOffset, HEADER_SIZE);
  view.setUint8(0, PROTOCOL_VERSION);
  view.setUint8(1, type);
  view.setUint16(2, flags);
  view.setUint32(4, streamId);
  view.setUint32(8, length);
}

/** Encodes one frame with a raw payload. */
export function encodeRaw(type: FrameType, streamId: number, flags: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (payload.byteLength > MAX_PAYLOAD) throw new FrameError('oversize', `payload of ${payload.byteLength} bytes exceeds ${MAX_PAYLOAD}`);
  const out = new Uint8Array(HEADER_SIZE + payload.byteLength);
  header(type, flags, streamId, payload.byteLength, out);
  out.set(payload, HEADER_SIZE);
  return out;
}

function encodeJson(type: FrameType, streamId: number, flags: number, value: unknown): Uint8Array {
  return encodeRaw(type, streamId, flags, encoder.encode(JSON.stringify(value)));
}

export const encode = {
  open: (streamId: number, head: RequestHead, end: boolean) => encodeJson(FrameType.Open, streamId, end ? Flags.End : 0, head),
  response: (streamId: number, head: ResponseHead, end: boolean) =>
    encodeJson(FrameType.Response, streamId, end ? Flags.End : 0, head),
  data: (streamId: number, data: Uint8Array, end = false) => encodeRaw(FrameType.Data, streamId, end ? Flags.End : 0, data),
  end: (streamId: number) => encodeRaw(FrameType.Data, streamId, Flags.End),
  reset: (streamId: number, code: string, message: string) => encodeJson(FrameType.Reset, streamId, 0, { code, message }),
  window: (streamId: number, credit: number) => {
    const p = new Uint8Array(4);
    new DataView(p.buffer).setUint32(0, credit);
    return encodeRaw(FrameType.Window, streamId, 0, p);
  },
  wsMessage: (streamId: number, data: Uint8Array | string) =>
    typeof data === 'string'
      ? encodeRaw(FrameType.WsMessage, streamId, 0, encoder.encode(data))
      : encodeRaw(FrameType.WsMessage, streamId, Flags.Binary, data),
  wsClose: (streamId: number, code: number, reason: string) => {
    const r = encoder.encode(reason.slice(0, 120));
    const p = new Uint8Array(2 + r.byteLength);
    new DataView(p.buffer).setUint16(0, code);
    p.set(r, 2);
    return encodeRaw(FrameType.WsClose, streamId, 0, p);
  },
  ping: (data: Uint8Array) => encodeRaw(FrameType.Ping, 0, 0, data),
  pong: (data: Uint8Array) => encodeRaw(FrameType.Pong, 0, 0, data),
  control: (message: { t: string } & Record<string, unknown>) => encodeJson(FrameType.Control, 0, 0, message),
  goAway: (reason: string) => encodeJson(FrameType.GoAway, 0, 0, { reason }),
};

function parseJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(payload));
  } catch {
    throw new FrameError('payload', 'payload is not valid UTF-8 JSON');
  }
}

function isHeaderList(v: unknown): v is HeaderList {
  return Array.isArray(v) && v.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string');
}

function isTarget(v: unknown): v is StreamTarget {
  if (!v || typeof v !== 'object') return false;
  const t = v as Record<string, unknown>;
  if (t.kind === 'api') return true;
  return t.kind === 'port' && Number.isInteger(t.port) && (t.port as number) > 0 && (t.port as number) < 65536 && typeof t.prefix === 'string';
}

function asRequestHead(v: unknown): RequestHead {
  const h = v as Record<string, unknown>;
  if (!h || typeof h !== 'object' || typeof h.method !== 'string' || typeof h.url !== 'string' || !h.url.startsWith('/') || !isHeaderList(h.headers) || !isTarget(h.target))
    throw new FrameError('payload', 'open frame needs {method, url, headers, target}');
  return h as unknown as RequestHead;
}

function asResponseHead(v: unknown): ResponseHead {
  const h = v as Record<string, unknown>;
  if (!h || typeof h !== 'object' || !Number.isInteger(h.status) || (h.status as number) < 100 || (h.status as number) > 599 || !isHeaderList(h.headers))
    throw new FrameError('payload', 'response frame needs {status 100-599, headers}');
  return h as unknown as ResponseHead;
}

/** Decodes exactly one frame; throws FrameError on anything malformed. */
export function decodeFrame(input: ArrayBuffer | Uint8Array): Frame {
  const buf = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (buf.byteLength < HEADER_SIZE) throw new FrameError('short', `frame of ${buf.byteLength} bytes is shorter than its ${HEADER_SIZE}-byte header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = view.getUint8(0);
  if (version !== PROTOCOL_VERSION) throw new FrameError('version', `unsupported protocol version ${version} (this side speaks ${PROTOCOL_VERSION})`);
  const type = view.getUint8(1) as FrameType;
  const flags = view.getUint16(2);
  const streamId = view.getUint32(4);
  const length = view.getUint32(8);
  if (length > MAX_PAYLOAD) throw new FrameError('oversize', `payload length ${length} exceeds ${MAX_PAYLOAD}`);
  if (length !== buf.byteLength - HEADER_SIZE)
    throw new FrameError('length', `header says ${length} payload bytes but ${buf.byteLength - HEADER_SIZE} arrived`);
  const payload = buf.subarray(HEADER_SIZE);
  const connectionLevel = type === FrameType.Ping || type === FrameType.Pong || type === FrameType.Control || type === FrameType.GoAway;
  if (connectionLevel && streamId !== 0) throw new FrameError('stream', `frame type ${type} must use stream 0`);
  if (!connectionLevel && streamId === 0 && type >= FrameType.Open && type <= FrameType.WsClose)
    throw new FrameError('stream', `frame type ${type} needs a stream id`);

  switch (type) {
    case FrameType.Open:
      return { type, streamId, flags, head: asRequestHead(parseJson(payload)) };
    case FrameType.Response:
      return { type, streamId, flags, head: asResponseHead(parseJson(payload)) };
    case FrameType.Data:
      return { type, streamId, flags, data: payload };
    case FrameType.Reset: {
      const r = parseJson(payload) as Record<string, unknown>;
      if (!r || typeof r.code !== 'string' || typeof r.message !== 'string') throw new FrameError('payload', 'reset frame needs {code, message}');
      return { type, streamId, flags, reset: { code: r.code, message: r.message } };
    }
    case FrameType.Window: {
      if (length !== 4) throw new FrameError('payload', 'window frame carries exactly 4 bytes');
      const credit = view.getUint32(HEADER_SIZE);
      if (credit === 0) throw new FrameError('payload', 'window frame grants no credit');
      return { type, streamId, flags, credit };
    }
    case FrameType.WsMessage:
      if (!(flags & Flags.Binary)) {
        try {
          decoder.decode(payload);
        } catch {
          throw new FrameError('payload', 'text WebSocket message is not valid UTF-8');
        }
      }
      return { type, streamId, flags, data: payload };
    case FrameType.WsClose: {
      if (length < 2) throw new FrameError('payload', 'close frame needs a 2-byte code');
      let reason: string;
      try {
        reason = decoder.decode(payload.subarray(2));
      } catch {
        throw new FrameError('payload', 'close reason is not valid UTF-8');
      }
      return { type, streamId, flags, code: view.getUint16(HEADER_SIZE), reason };
    }
    case FrameType.Ping:
    case FrameType.Pong:
      if (length > 64) throw new FrameError('payload', 'ping payload is at most 64 bytes');
      return { type, streamId: 0, flags, data: payload };
    case FrameType.Control: {
      const m = parseJson(payload) as Record<string, unknown>;
      if (!m || typeof m !== 'object' || Array.isArray(m) || typeof m.t !== 'string') throw new FrameError('payload', 'control message needs a string field t');
      return { type, streamId: 0, flags, message: m as Record<string, unknown> & { t: string } };
    }
    case FrameType.GoAway: {
      const g = parseJson(payload) as Record<string, unknown>;
      return { type, streamId: 0, flags, reason: typeof g?.reason === 'string' ? g.reason : 'unspecified' };
    }
    default:
      throw new FrameError('type', `unknown frame type ${type}`);
  }
}

/** Text of a WebSocket message frame. */
export function textOf(data: Uint8Array): string {
  return decoder.decode(data);
}

/** Splits a body chunk into DATA frames no bigger than DATA_CHUNK_SIZE. */
export function* chunksOf(data: Uint8Array, size = DATA_CHUNK_SIZE): Generator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += size) yield data.subarray(i, Math.min(i + size, data.byteLength));
}
