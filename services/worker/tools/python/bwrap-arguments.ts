/**
 * The bubblewrap command line of one python step's sandbox, from a plan. The
 * sandbox starts from an empty root and sees only what is named here: the
 * system's read-only program folders, the python's own prefix, and under
 * /noetl the runner and the step's inputs (read-only, one file each) and the
 * step's own folder (read-write); a private /tmp and /dev/shm, /proc of its own
 * PID namespace and a minimal /dev. It has its own PID, IPC, UTS and network
 * namespaces (the network is kept only when the step asks for it), no
 * capabilities, and runs as an unprivileged user:
 *   - a worker running as root uses no user namespace (there, the sandbox's
 *     uid would map back to root on the host) and drops to nobody with setpriv;
 *   - any other worker uses a user namespace, where the sandbox's uid maps to
 *     the worker's own, and user namespaces inside the sandbox are disabled.
 * Nothing secret goes on this command line: anyone on the host can read it.
 */
import path from 'node:path';

/** The unprivileged user and group a sandboxed python runs as (nobody/nogroup). */
export const SANDBOX_UID = 65534;
export const SANDBOX_GID = 65534;

/** What the host looks like, learned once per worker. */
export interface HostLayout {
  /** Top-level folders such as /lib and /bin that are symlinks on the host (merged /usr): path → link target. */
  links: Record<string, string>;
  /** Top-level system folders that are real folders on the host, bound read-only (always /usr). */
  systemDirs: string[];
  /** The bubblewrap options this bwrap knows, among those used only when available. */
  features: { disableUserns: boolean; tmpfsSize: boolean };
  /** The worker runs as root: no user namespace, setpriv drops to nobody (at this path). */
  setpriv?: string;
}

/** A host file or folder, and where the sandbox sees it. */
export interface Bind {
  source: string;
  destination: string;
  writable: boolean;
}

/** One step's sandbox. */
export interface JailPlan {
  /** The interpreter's prefixes, read-only where they are on the host (a python finds its library beside itself). */
  interpreterDirs: string[];
  /** The runner, the step's inputs (read-only) and the step's folder (read-write). */
  binds: Bind[];
  network: boolean;
  /** Size of the private /tmp and /dev/shm, each (the step's memory limit: tmpfs lives in memory). */
  tmpfsBytes: number;
  /** The environment the python sees; never a secret (it is on the command line). */
  env: Record<string, string>;
}

/** Host files a python needs to resolve names and check certificates, bound read-only only for `network: true`. */
const NETWORK_FILES = [
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/services',
  '/etc/protocols',
  '/etc/ssl/certs',
  '/etc/ssl/openssl.cnf',
  '/etc/ca-certificates',
  '/etc/pki/tls/certs',
];

/** The arguments of bwrap, up to and including `--`; the command to run follows them. */
export function bwrapArguments(host: HostLayout, plan: JailPlan): string[] {
  const args: string[] = [];
  const made = new Set<string>(['/']);
  // Folders on the way to a bind are made empty and readable (bwrap's own would be the root's alone): the host's stay unseen.
  const makeAncestors = (destination: string): void => {
    for (const ancestor of ancestorsOf(destination)) {
      if (made.has(ancestor)) continue;
      args.push('--perms', '0755', '--dir', ancestor);
      made.add(ancestor);
    }
  };
  for (const dir of host.systemDirs) args.push('--ro-bind', dir, dir);
  for (const [link, target] of Object.entries(host.links)) {
    args.push('--symlink', target, link);
    made.add(link);
  }
  for (const file of ['/etc/localtime', ...(plan.network ? NETWORK_FILES : [])]) {
    makeAncestors(file);
    args.push('--ro-bind-try', file, file);
  }
  args.push('--proc', '/proc', '--dev', '/dev');
  for (const dir of ['/tmp', '/dev/shm']) {
    args.push('--perms', '1777', ...(host.features.tmpfsSize ? ['--size', String(plan.tmpfsBytes)] : []), '--tmpfs', dir);
    made.add(dir);
  }
  const bound: Bind[] = host.systemDirs.map((dir) => ({ source: dir, destination: dir, writable: false }));
  const binds = [...plan.interpreterDirs.map((dir) => ({ source: dir, destination: dir, writable: false })), ...plan.binds];
  binds.sort((a, b) => a.destination.localeCompare(b.destination));
  for (const bind of binds) {
    const covering = bound.filter((b) => isWithin(bind.destination, b.destination)).at(-1);
    // Already visible as it is on the host (a python under /usr): nothing to add.
    if (covering !== undefined && !covering.writable && !bind.writable && bind.source === bind.destination) continue;
    if (covering === undefined) makeAncestors(bind.destination);
    args.push(bind.writable ? '--bind' : '--ro-bind', bind.source, bind.destination);
    bound.push(bind);
  }
  args.push('--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup-try', '--hostname', 'noetl-sandbox');
  if (!plan.network) args.push('--unshare-net');
  if (host.setpriv === undefined) {
    args.push('--unshare-user', ...(host.features.disableUserns ? ['--disable-userns'] : []));
    args.push('--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_GID), '--cap-drop', 'ALL');
  } else {
    // Only what setpriv needs to become nobody and empty the bounding set; setuid then clears them all.
    args.push('--cap-drop', 'ALL', '--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP');
  }
  args.push('--die-with-parent', '--new-session', '--clearenv');
  for (const [name, value] of Object.entries(plan.env)) args.push('--setenv', name, value);
  args.push('--');
  if (host.setpriv !== undefined) {
    const drop = [`--reuid=${SANDBOX_UID}`, `--regid=${SANDBOX_GID}`, '--clear-groups', '--bounding-set=-all', '--inh-caps=-all'];
    args.push(host.setpriv, ...drop, '--');
  }
  return args;
}

function isWithin(file: string, dir: string): boolean {
  return file === dir || file.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** `/a/b/c` → `/a`, `/a/b`. */
function ancestorsOf(file: string): string[] {
  const out: string[] = [];
  for (let dir = path.dirname(file); dir !== '/' && dir !== '.'; dir = path.dirname(dir)) out.unshift(dir);
  return out;
}
