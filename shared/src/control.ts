/**
 * @module
 * Control messages carried on stream 0 of the tunnel (FrameType.Control), and the
 * event envelope used everywhere events travel.
 */

/** A listening port as the node's scanner sees it. */
export interface PortInfo {
  port: number;
  /** the address it listens on (0.0.0.0, 127.0.0.1, ::, ::1) */
  address: string;
  pid: number | null;
  command: string | null;
  cwd: string | null;
  /** the git repository the process runs in, if any */
  repo: { root: string; name: string } | null;
  firstSeen: number;
}

/** node → edge, first frame after connecting. */
export interface HelloMessage {
  t: 'hello';
  nodeId: string;
  agent: string;
  protocol: number;
  ports: PortInfo[];
}

/** edge → node, the answer to hello: where this node's shares are reachable. */
export interface WelcomeMessage {
  t: 'welcome';
  nodeId: string;
  /** path form base: `${shareBaseUrl}/<port>/` */
  shareBaseUrl: string;
  /** subdomain form, with {port} to fill in */
  subdomainUrlTemplate: string;
  dashboardUrl: string;
}

/** node → edge: the full list of listening ports, sent whenever it changes. */
export interface PortsMessage {
  t: 'ports';
  ports: PortInfo[];
}

export type ControlMessage = HelloMessage | WelcomeMessage | PortsMessage;

/** The one event envelope (DESIGN.md, Events). */
export interface EventEnvelope<P = unknown> {
  v: 1;
  id: string;
  nodeId: string;
  topic: string;
  type: string;
  at: number;
  seq: number;
  payload: P;
}

export function isPortInfoList(v: unknown): v is PortInfo[] {
  return (
    Array.isArray(v) &&
    v.length <= 10000 &&
    v.every((p) => p && typeof p === 'object' && Number.isInteger((p as PortInfo).port) && typeof (p as PortInfo).address === 'string')
  );
}
