/**
 * @module
 * The services Homeport can install, kept as data: databases and the seeds'
 * self-hosted apps as templates of one or more containers ("parts"). Strings in `env`,
 * `command` and `connections` may hold placeholders (template.ts renders them):
 *
 * - `{{secret:VAR}}`  a credential from `secrets`, generated at install, kept in the vault
 * - `{{port:part:N}}` the host port (on 127.0.0.1) published for container port N of part
 * - `{{name}}`        the instance name; `{{network}}` its Docker network
 *
 * Parts reach each other by part name (`postgres:5432`) on the service's own network.
 * docs/services.md says how to add a template; catalog.test.ts checks every entry.
 */

/** Privileges a template may ask for; each needs the owner's explicit grant at install. */
export const GRANTS = {
  'docker-socket': 'mounts the Docker socket into the container: it can start any container, read every other container and act as root on this machine',
  privileged: 'runs the container privileged: every device and kernel capability of this machine',
} as const;
export type Grant = keyof typeof GRANTS;

export type SecretKind = 'password' | 'hex32' | 'base64url64';

export interface PortTemplate {
  /** the port the process listens on inside the container */
  container: number;
  /** the host port asked for first (the next free one above it is taken when it is in use); absent = not published */
  host?: number;
  /** what it is, for people: "PostgreSQL", "Web UI" */
  label: string;
  /** how the status probe checks it from the host: a TCP connect (default) or an HTTP GET of this path (any answer below 500 counts) */
  http?: string;
}

export interface HealthcheckTemplate {
  /** Docker's form: ['CMD-SHELL', '…'] or ['CMD', 'bin', 'arg'] */
  test: string[];
  intervalS?: number;
  timeoutS?: number;
  retries?: number;
  startPeriodS?: number;
}

export interface PartTemplate {
  /** lower case letters and digits; also the part's host name on the service network */
  name: string;
  /** pinned: a tag other than `latest`, or a digest */
  image: string;
  command?: string[];
  entrypoint?: string[];
  env?: Record<string, string>;
  ports?: PortTemplate[];
  /** named volumes of the template mounted at `path` */
  volumes?: { volume: string; path: string }[];
  healthcheck?: HealthcheckTemplate;
  /** a one-shot job (migrations, seeding): exit 0 is `completed`, never restarted */
  job?: boolean;
  user?: string;
  stopSignal?: string;
  /** run Docker's tiny init as PID 1, for processes that ignore SIGTERM there (stops then take the whole stop timeout) */
  init?: boolean;
  /** needs the `docker-socket` grant */
  dockerSocket?: boolean;
  /** needs the `privileged` grant */
  privileged?: boolean;
}

export interface ServiceTemplate {
  /** lower case, also the default instance name */
  id: string;
  title: string;
  description: string;
  category: 'database' | 'cache' | 'app' | 'test';
  /** credentials generated at install (once per instance; kept across an uninstall without purge) */
  secrets?: Record<string, SecretKind>;
  /** started in this order, stopped in reverse */
  parts: PartTemplate[];
  /** named volumes the parts mount */
  volumes?: string[];
  /** what a client needs, e.g. a database URL; `{{secret:…}}` parts are masked unless revealed */
  connections?: { label: string; template: string }[];
  /** grants the owner must give at install (derived from the parts; the test keeps them in step) */
  needs?: Grant[];
  /** shown after install: first steps, what the minimal set leaves out */
  notes?: string;
  docs?: string;
}

const seconds = (intervalS: number, retries = 5, startPeriodS = 10) => ({ intervalS, timeoutS: 5, retries, startPeriodS });

export const CATALOG: ServiceTemplate[] = [
  {
    id: 'postgres',
    title: 'PostgreSQL',
    description: 'PostgreSQL 17 with a database and user "app".',
    category: 'database',
    secrets: { POSTGRES_PASSWORD: 'password' },
    volumes: ['data'],
    parts: [
      {
        name: 'postgres',
        image: 'postgres:17.2-alpine',
        env: { POSTGRES_USER: 'app', POSTGRES_DB: 'app', POSTGRES_PASSWORD: '{{secret:POSTGRES_PASSWORD}}' },
        ports: [{ container: 5432, host: 5432, label: 'PostgreSQL' }],
        volumes: [{ volume: 'data', path: '/var/lib/postgresql/data' }],
        healthcheck: { test: ['CMD-SHELL', 'pg_isready -U app -d app'], ...seconds(5) },
        stopSignal: 'SIGINT',
      },
    ],
    connections: [{ label: 'DATABASE_URL', template: 'postgres://app:{{secret:POSTGRES_PASSWORD}}@127.0.0.1:{{port:postgres:5432}}/app' }],
    docs: 'https://www.postgresql.org/docs/17/',
  },
  {
    id: 'mysql',
    title: 'MySQL',
    description: 'MySQL 8.4 LTS with a database and user "app".',
    category: 'database',
    secrets: { MYSQL_ROOT_PASSWORD: 'password', MYSQL_PASSWORD: 'password' },
    volumes: ['data'],
    parts: [
      {
        name: 'mysql',
        image: 'mysql:8.4.3',
        env: { MYSQL_ROOT_PASSWORD: '{{secret:MYSQL_ROOT_PASSWORD}}', MYSQL_DATABASE: 'app', MYSQL_USER: 'app', MYSQL_PASSWORD: '{{secret:MYSQL_PASSWORD}}' },
        ports: [{ container: 3306, host: 3306, label: 'MySQL' }],
        volumes: [{ volume: 'data', path: '/var/lib/mysql' }],
        // MYSQL_PWD keeps the password out of the process list.
        healthcheck: { test: ['CMD-SHELL', 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysqladmin ping -h 127.0.0.1 -uroot --silent'], ...seconds(5, 10, 30) },
      },
    ],
    connections: [
      { label: 'DATABASE_URL', template: 'mysql://app:{{secret:MYSQL_PASSWORD}}@127.0.0.1:{{port:mysql:3306}}/app' },
      { label: 'root', template: 'mysql://root:{{secret:MYSQL_ROOT_PASSWORD}}@127.0.0.1:{{port:mysql:3306}}/' },
    ],
    docs: 'https://dev.mysql.com/doc/refman/8.4/en/',
  },
  {
    id: 'mongodb',
    title: 'MongoDB',
    description: 'MongoDB 8 with a root user.',
    category: 'database',
    secrets: { MONGO_INITDB_ROOT_PASSWORD: 'password' },
    volumes: ['data'],
    parts: [
      {
        name: 'mongodb',
        image: 'mongo:8.0.4',
        env: { MONGO_INITDB_ROOT_USERNAME: 'root', MONGO_INITDB_ROOT_PASSWORD: '{{secret:MONGO_INITDB_ROOT_PASSWORD}}' },
        ports: [{ container: 27017, host: 27017, label: 'MongoDB' }],
        volumes: [{ volume: 'data', path: '/data/db' }],
        healthcheck: { test: ['CMD', 'mongosh', '--quiet', '--eval', "db.adminCommand('ping').ok"], ...seconds(10, 5, 20) },
      },
    ],
    connections: [{ label: 'MONGODB_URI', template: 'mongodb://root:{{secret:MONGO_INITDB_ROOT_PASSWORD}}@127.0.0.1:{{port:mongodb:27017}}/?authSource=admin' }],
    docs: 'https://www.mongodb.com/docs/manual/',
  },
  {
    id: 'redis',
    title: 'Redis',
    description: 'Redis 7 with a password and append-only persistence.',
    category: 'cache',
    secrets: { REDIS_PASSWORD: 'password' },
    volumes: ['data'],
    parts: [
      {
        name: 'redis',
        image: 'redis:7.4.1-alpine',
        // The password goes in on stdin (`redis-server -`), never on a command line.
        command: ['sh', '-c', 'printf "requirepass %s\\nappendonly yes\\ndir /data\\n" "$REDIS_PASSWORD" | exec redis-server -'],
        env: { REDIS_PASSWORD: '{{secret:REDIS_PASSWORD}}' },
        ports: [{ container: 6379, host: 6379, label: 'Redis' }],
        volumes: [{ volume: 'data', path: '/data' }],
        healthcheck: { test: ['CMD-SHELL', 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG'], ...seconds(5) },
      },
    ],
    connections: [{ label: 'REDIS_URL', template: 'redis://:{{secret:REDIS_PASSWORD}}@127.0.0.1:{{port:redis:6379}}/0' }],
    docs: 'https://redis.io/docs/latest/',
  },
  {
    id: 'penpot',
    title: 'Penpot',
    description: 'Open-source design and prototyping (a Figma alternative): frontend, backend, exporter, PostgreSQL and Redis.',
    category: 'app',
    secrets: { PENPOT_SECRET_KEY: 'base64url64', POSTGRES_PASSWORD: 'password' },
    volumes: ['assets', 'postgres'],
    parts: [
      {
        name: 'postgres',
        image: 'postgres:15.10-alpine',
        env: { POSTGRES_INITDB_ARGS: '--data-checksums', POSTGRES_DB: 'penpot', POSTGRES_USER: 'penpot', POSTGRES_PASSWORD: '{{secret:POSTGRES_PASSWORD}}' },
        volumes: [{ volume: 'postgres', path: '/var/lib/postgresql/data' }],
        healthcheck: { test: ['CMD-SHELL', 'pg_isready -U penpot -d penpot'], ...seconds(5) },
        stopSignal: 'SIGINT',
      },
      {
        name: 'redis',
        image: 'redis:7.2.6-alpine',
        healthcheck: { test: ['CMD-SHELL', 'redis-cli ping | grep -q PONG'], ...seconds(5) },
      },
      {
        name: 'backend',
        image: 'penpotapp/backend:2.4.3',
        env: {
          PENPOT_FLAGS: 'enable-registration enable-login-with-password disable-email-verification disable-secure-session-cookies disable-smtp',
          PENPOT_SECRET_KEY: '{{secret:PENPOT_SECRET_KEY}}',
          PENPOT_PUBLIC_URI: 'http://localhost:{{port:frontend:8080}}',
          PENPOT_DATABASE_URI: 'postgresql://postgres/penpot',
          PENPOT_DATABASE_USERNAME: 'penpot',
          PENPOT_DATABASE_PASSWORD: '{{secret:POSTGRES_PASSWORD}}',
          PENPOT_REDIS_URI: 'redis://redis/0',
          PENPOT_ASSETS_STORAGE_BACKEND: 'assets-fs',
          PENPOT_STORAGE_ASSETS_FS_DIRECTORY: '/opt/data/assets',
          PENPOT_TELEMETRY_ENABLED: 'false',
        },
        volumes: [{ volume: 'assets', path: '/opt/data/assets' }],
        // The backend image has bash but no curl: a TCP check of its HTTP port.
        healthcheck: { test: ['CMD-SHELL', 'bash -c ": > /dev/tcp/127.0.0.1/6060"'], ...seconds(10, 10, 60) },
      },
      {
        name: 'exporter',
        image: 'penpotapp/exporter:2.4.3',
        env: { PENPOT_PUBLIC_URI: 'http://frontend:8080', PENPOT_REDIS_URI: 'redis://redis/0' },
        healthcheck: { test: ['CMD-SHELL', 'bash -c ": > /dev/tcp/127.0.0.1/6061"'], ...seconds(10, 10, 30) },
      },
      {
        name: 'frontend',
        image: 'penpotapp/frontend:2.4.3',
        env: {
          PENPOT_FLAGS: 'enable-registration enable-login-with-password',
          PENPOT_BACKEND_URI: 'http://backend:6060',
          PENPOT_EXPORTER_URI: 'http://exporter:6061',
        },
        ports: [{ container: 8080, host: 9001, label: 'Web UI', http: '/' }],
        volumes: [{ volume: 'assets', path: '/opt/data/assets' }],
        healthcheck: { test: ['CMD-SHELL', 'curl -fsS -o /dev/null http://localhost:8080/'], ...seconds(10) },
      },
    ],
    connections: [{ label: 'Web UI', template: 'http://localhost:{{port:frontend:8080}}/' }],
    notes: 'Open the Web UI and register the first account (email verification is off; no mail is sent). The backend needs a minute on first start.',
    docs: 'https://help.penpot.app/technical-guide/',
  },
  {
    id: 'appwrite',
    title: 'Appwrite (minimal)',
    description: 'Backend-as-a-service (a Supabase/Firebase alternative), minimal set: API, console, MariaDB, Redis and the function executor.',
    category: 'app',
    secrets: { _APP_OPENSSL_KEY_V1: 'hex32', _APP_EXECUTOR_SECRET: 'hex32', DB_PASSWORD: 'password', DB_ROOT_PASSWORD: 'password' },
    volumes: ['mariadb', 'redis', 'uploads', 'cache', 'config', 'certificates', 'functions', 'builds'],
    needs: ['docker-socket'],
    parts: [
      {
        name: 'mariadb',
        image: 'mariadb:10.11.10',
        command: ['mysqld', '--innodb-flush-method=fsync'],
        env: { MYSQL_ROOT_PASSWORD: '{{secret:DB_ROOT_PASSWORD}}', MYSQL_DATABASE: 'appwrite', MYSQL_USER: 'appwrite', MYSQL_PASSWORD: '{{secret:DB_PASSWORD}}', MARIADB_AUTO_UPGRADE: '1' },
        volumes: [{ volume: 'mariadb', path: '/var/lib/mysql' }],
        healthcheck: { test: ['CMD', 'healthcheck.sh', '--connect', '--innodb_initialized'], ...seconds(5, 10, 30) },
      },
      {
        name: 'redis',
        image: 'redis:7.2.4-alpine',
        command: ['redis-server', '--maxmemory', '512mb', '--maxmemory-policy', 'allkeys-lru'],
        volumes: [{ volume: 'redis', path: '/data' }],
        healthcheck: { test: ['CMD-SHELL', 'redis-cli ping | grep -q PONG'], ...seconds(5) },
      },
      {
        name: 'executor',
        image: 'openruntimes/executor:0.7.22',
        dockerSocket: true,
        stopSignal: 'SIGINT',
        // A PHP image without curl: PHP itself checks the port.
        healthcheck: { test: ['CMD', 'php', '-r', "exit(@fsockopen('127.0.0.1', 80) ? 0 : 1);"], ...seconds(10) },
        env: {
          OPR_EXECUTOR_ENV: 'production',
          OPR_EXECUTOR_SECRET: '{{secret:_APP_EXECUTOR_SECRET}}',
          OPR_EXECUTOR_NETWORK: '{{network}}',
          OPR_EXECUTOR_RUNTIMES: 'node-22,python-3.12',
          OPR_EXECUTOR_RUNTIME_VERSIONS: 'v5',
          OPR_EXECUTOR_STORAGE_DEVICE: 'local',
          OPR_EXECUTOR_INACTIVE_TRESHOLD: '60',
          OPR_EXECUTOR_MAINTENANCE_INTERVAL: '3600',
        },
        volumes: [
          { volume: 'builds', path: '/storage/builds' },
          { volume: 'functions', path: '/storage/functions' },
        ],
      },
      {
        name: 'appwrite',
        image: 'appwrite/appwrite:1.8.0',
        env: {
          _APP_ENV: 'production',
          _APP_LOCALE: 'en',
          _APP_OPENSSL_KEY_V1: '{{secret:_APP_OPENSSL_KEY_V1}}',
          _APP_DOMAIN: 'localhost',
          _APP_DOMAIN_TARGET: 'localhost',
          _APP_CONSOLE_WHITELIST_ROOT: 'enabled',
          _APP_OPTIONS_ABUSE: 'enabled',
          _APP_OPTIONS_FORCE_HTTPS: 'disabled',
          _APP_OPTIONS_ROUTER_PROTECTION: 'disabled',
          _APP_USAGE_STATS: 'disabled',
          _APP_REDIS_HOST: 'redis',
          _APP_REDIS_PORT: '6379',
          _APP_DB_HOST: 'mariadb',
          _APP_DB_PORT: '3306',
          _APP_DB_SCHEMA: 'appwrite',
          _APP_DB_USER: 'appwrite',
          _APP_DB_PASS: '{{secret:DB_PASSWORD}}',
          _APP_STORAGE_DEVICE: 'local',
          _APP_EXECUTOR_SECRET: '{{secret:_APP_EXECUTOR_SECRET}}',
          _APP_EXECUTOR_HOST: 'http://executor/v1',
          _APP_FUNCTIONS_RUNTIMES: 'node-22,python-3.12',
        },
        ports: [{ container: 80, host: 8585, label: 'API', http: '/v1/health/version' }],
        volumes: [
          { volume: 'uploads', path: '/storage/uploads' },
          { volume: 'cache', path: '/storage/cache' },
          { volume: 'config', path: '/storage/config' },
          { volume: 'certificates', path: '/storage/certificates' },
          { volume: 'functions', path: '/storage/functions' },
          { volume: 'builds', path: '/storage/builds' },
        ],
      },
      {
        name: 'console',
        image: 'appwrite/console:7.4.7',
        ports: [{ container: 80, host: 8586, label: 'Console', http: '/' }],
      },
    ],
    connections: [
      { label: 'APPWRITE_ENDPOINT', template: 'http://localhost:{{port:appwrite:80}}/v1' },
      { label: 'Console', template: 'http://localhost:{{port:console:80}}/' },
    ],
    notes:
      'A minimal set: no background workers, so e-mails, webhooks, scheduled tasks and function builds are not processed. ' +
      'For every feature run the official installer (appwrite.io/docs/advanced/self-hosting). The first account made in the console becomes its admin.',
    docs: 'https://appwrite.io/docs/advanced/self-hosting',
  },
  {
    id: 'convex',
    title: 'Convex',
    description: 'Reactive TypeScript backend (self-hosted): backend with SQLite storage and the dashboard.',
    category: 'app',
    secrets: { INSTANCE_SECRET: 'hex32' },
    volumes: ['data'],
    parts: [
      {
        name: 'backend',
        image: 'ghcr.io/get-convex/convex-backend:be8a4f397810ce3d04dc3cb32bc81969fe64685a',
        env: {
          INSTANCE_NAME: '{{name}}',
          INSTANCE_SECRET: '{{secret:INSTANCE_SECRET}}',
          CONVEX_CLOUD_ORIGIN: 'http://127.0.0.1:{{port:backend:3210}}',
          CONVEX_SITE_ORIGIN: 'http://127.0.0.1:{{port:backend:3211}}',
          DISABLE_BEACON: 'true',
          RUST_LOG: 'info',
        },
        ports: [
          { container: 3210, host: 3210, label: 'API', http: '/version' },
          { container: 3211, host: 3211, label: 'HTTP actions' },
        ],
        volumes: [{ volume: 'data', path: '/convex/data' }],
        healthcheck: { test: ['CMD-SHELL', 'curl -f http://localhost:3210/version'], ...seconds(5, 5, 10) },
        stopSignal: 'SIGINT',
      },
      {
        name: 'dashboard',
        image: 'ghcr.io/get-convex/convex-dashboard:161e32648a971fb8ef591e61212f7b9fb7ff4f2c',
        env: { NEXT_PUBLIC_DEPLOYMENT_URL: 'http://127.0.0.1:{{port:backend:3210}}' },
        ports: [{ container: 6791, host: 6791, label: 'Dashboard', http: '/' }],
        stopSignal: 'SIGINT',
      },
    ],
    connections: [
      { label: 'CONVEX_SELF_HOSTED_URL', template: 'http://127.0.0.1:{{port:backend:3210}}' },
      { label: 'Dashboard', template: 'http://127.0.0.1:{{port:dashboard:6791}}/' },
    ],
    notes:
      'Make an admin key for the dashboard and `npx convex dev` (CONVEX_SELF_HOSTED_ADMIN_KEY): ' +
      '`docker exec homeport-svc-{{name}}-backend ./generate_admin_key.sh`.',
    docs: 'https://docs.convex.dev/self-hosting',
  },
];
