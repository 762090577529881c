/**
 * @module
 * The Docker engine homeportd uses (dockerode): agent sandboxes and service containers.
 * Every container Homeport creates carries the `homeport.managed=true` label plus a
 * `homeport.kind` (sandbox, service); containers without it are never touched.
 */
import Docker from 'dockerode';

export const MANAGED_LABEL = 'homeport.managed';
export const KIND_LABEL = 'homeport.kind';
/** On sandboxes: the task the container belongs to. */
export const TASK_LABEL = 'homeport.task';
/** Which homeportd made the container (several may share one engine: only its own are its to clean up). */
export const OWNER_LABEL = 'homeport.owner';

/** No engine answers: said once, plainly, with how to fix it. */
export class DockerUnavailable extends Error {
  constructor(detail: string) {
    super(`no Docker engine is reachable (${detail}). Install Docker and start it, or point DOCKER_HOST at one; Homeport never runs agent tools on the host instead.`);
  }
}

/** Errors that mean the engine did not answer at all (as opposed to refusing a request). */
const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EACCES', 'EPERM', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE']);

/** `error` as DockerUnavailable when it says the engine is unreachable; otherwise unchanged. */
export function engineError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code && UNREACHABLE.has(code) ? new DockerUnavailable((error as Error).message) : error;
}

/** The engine from DOCKER_HOST, or the local socket. */
export function dockerClient(env: NodeJS.ProcessEnv = process.env): Docker {
  const host = env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) });
  if (host?.startsWith('tcp://')) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    return new Docker({ host: url.hostname, port: Number(url.port || 2375) });
  }
  return new Docker({ socketPath: '/var/run/docker.sock' });
}

/** Checks the engine answers; throws DockerUnavailable with the reason when it does not. */
export async function requireEngine(docker: Docker): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    throw new DockerUnavailable((error as Error).message);
  }
}
