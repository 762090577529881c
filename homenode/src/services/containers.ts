/**
 * @module
 * How an installed service looks in Docker: names (`homeport-svc-<name>-<part>`, the
 * network `homeport-svc-<name>`, volumes `homeport-svc-<name>-<volume>`), the labels
 * that mark them as Homeport's, and each part's container definition. Homeport finds
 * its objects by label and name together, so a container it did not create is never
 * touched, whatever it is called.
 */
import type Docker from 'dockerode';
import { KIND_LABEL, MANAGED_LABEL, OWNER_LABEL } from '../docker/engine.ts';
import type { Grant, PartTemplate, ServiceTemplate } from './catalog.ts';
import { portKey, render, type RenderContext } from './template.ts';

export const SERVICE_LABEL = 'homeport.service';
export const PART_LABEL = 'homeport.part';
export const TEMPLATE_LABEL = 'homeport.template';
export const VOLUME_LABEL = 'homeport.volume';

/** Instance names: they become parts of Docker object names and host names. */
export const SERVICE_NAME = /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
/** Published ports listen on the loopback only (docs/services.md says why). */
export const BIND_HOST = '127.0.0.1';

export const networkName = (service: string) => `homeport-svc-${service}`;
export const containerName = (service: string, part: string) => `homeport-svc-${service}-${part}`;
export const volumeName = (service: string, volume: string) => `homeport-svc-${service}-${volume}`;

/**
 * Labels on everything a service owns. `owner` is the homeportd (its data dir): two of
 * them on one engine never take each other's services for their own.
 */
export function serviceLabels(owner: string, service: string, template: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [MANAGED_LABEL]: 'true', [KIND_LABEL]: 'service', [OWNER_LABEL]: owner, [SERVICE_LABEL]: service, [TEMPLATE_LABEL]: template, ...extra };
}

/** Label filters that select one service's objects (or every service's of this owner, without a name). */
export function serviceFilter(owner: string, service?: string): { label: string[] } {
  return { label: [`${MANAGED_LABEL}=true`, `${KIND_LABEL}=service`, `${OWNER_LABEL}=${owner}`, ...(service ? [`${SERVICE_LABEL}=${service}`] : [])] };
}

/** Whether a Docker object's labels say it belongs to this owner's service. */
export function isOurs(labels: Record<string, string> | null | undefined, owner: string, service: string): boolean {
  return !!labels && labels[MANAGED_LABEL] === 'true' && labels[KIND_LABEL] === 'service' && labels[OWNER_LABEL] === owner && labels[SERVICE_LABEL] === service;
}

const NS_PER_S = 1_000_000_000;

export interface SpecInput {
  owner: string;
  service: string;
  template: ServiceTemplate;
  part: PartTemplate;
  ctx: RenderContext;
  grants: Grant[];
  /** the engine's socket on the host, for parts granted `docker-socket` */
  dockerSocketPath: string | null;
}

/** The container of one part: its network alias is the part name, ports on 127.0.0.1 only. */
export function containerSpec({ owner, service, template, part, ctx, grants, dockerSocketPath }: SpecInput): Docker.ContainerCreateOptions {
  const fill = (s: string) => render(s, ctx);
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of part.ports ?? []) {
    exposed[`${port.container}/tcp`] = {};
    const host = ctx.ports[portKey(part.name, port.container)];
    if (port.host !== undefined && host !== undefined) bindings[`${port.container}/tcp`] = [{ HostIp: BIND_HOST, HostPort: String(host) }];
  }
  const mounts: Docker.MountSettings[] = (part.volumes ?? []).map((v) => ({ Type: 'volume', Source: volumeName(service, v.volume), Target: v.path }));
  if (part.dockerSocket) {
    // Checked again here: a part never gets the socket without the owner's grant.
    if (!grants.includes('docker-socket')) throw new Error(`${part.name} needs the docker-socket grant`);
    if (!dockerSocketPath) throw new Error(`${part.name} needs the Docker socket, but this engine is not reached through a local socket (DOCKER_HOST is tcp://)`);
    mounts.push({ Type: 'bind', Source: dockerSocketPath, Target: '/var/run/docker.sock' });
  }
  if (part.privileged && !grants.includes('privileged')) throw new Error(`${part.name} needs the privileged grant`);
  const hc = part.healthcheck;
  return {
    name: containerName(service, part.name),
    Image: part.image,
    ...(part.command ? { Cmd: part.command.map(fill) } : {}),
    ...(part.entrypoint ? { Entrypoint: part.entrypoint.map(fill) } : {}),
    Env: Object.entries(part.env ?? {}).map(([key, value]) => `${key}=${fill(value)}`),
    Labels: serviceLabels(owner, service, template.id, { [PART_LABEL]: part.name }),
    ExposedPorts: exposed,
    ...(part.user ? { User: part.user } : {}),
    ...(part.stopSignal ? { StopSignal: part.stopSignal } : {}),
    ...(hc
      ? {
          Healthcheck: {
            Test: hc.test,
            Interval: (hc.intervalS ?? 10) * NS_PER_S,
            Timeout: (hc.timeoutS ?? 5) * NS_PER_S,
            Retries: hc.retries ?? 5,
            StartPeriod: (hc.startPeriodS ?? 0) * NS_PER_S,
          },
        }
      : {}),
    HostConfig: {
      NetworkMode: ctx.network,
      PortBindings: bindings,
      Mounts: mounts,
      // Docker brings long-running parts back after a crash or a reboot; a job runs once.
      RestartPolicy: part.job ? { Name: 'no' } : { Name: 'unless-stopped' },
      Privileged: !!part.privileged,
      ...(part.init ? { Init: true } : {}),
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
    },
    NetworkingConfig: { EndpointsConfig: { [ctx.network]: { Aliases: [part.name] } } },
  };
}
