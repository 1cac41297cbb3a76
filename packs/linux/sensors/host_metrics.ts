/**
 * linux.host_metrics: every poll, one linux.disk_usage event per real filesystem mounted on this host
 * (from /proc/mounts: disk filesystems, not proc, tmpfs, cgroup, overlay layers, ...) and one
 * linux.load event. Rules decide what matters (see rules/).
 */
import { readFile, stat, statfs } from 'node:fs/promises';
import { availableParallelism, hostname, loadavg } from 'node:os';
import { defineSensor, type PayloadOf } from '@reflex/sdk';
import { diskUsage, load } from './trigger-types.ts';

/** Filesystems that hold data on a disk. `overlay` only counts as the root of a container. */
const DISK_FILESYSTEMS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'zfs', 'f2fs', 'jfs', 'reiserfs', 'bcachefs', 'vfat', 'exfat', 'ntfs', 'ntfs3', 'fuseblk']);

export interface Mount {
  device: string;
  mount: string;
  fstype: string;
}

/** /proc/mounts escapes space, tab, newline and backslash as octal (`\040`). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** The real filesystems of /proc/mounts, each device once (bind mounts and subvolumes repeat it), minus `exclude`. */
export function realMounts(procMounts: string, exclude: readonly string[] = []): Mount[] {
  const seen = new Set<string>();
  const mounts: Mount[] = [];
  for (const line of procMounts.split('\n')) {
    const [device, mountPoint, fstype] = line.split(' ');
    if (device === undefined || mountPoint === undefined || fstype === undefined) continue;
    const mount = unescape(mountPoint);
    if (!DISK_FILESYSTEMS.has(fstype) && !(fstype === 'overlay' && mount === '/')) continue;
    if (exclude.some((e) => mount === e || (e.endsWith('/') && mount.startsWith(e)))) continue;
    const key = `${device} ${fstype}`;
    if (seen.has(key)) continue;
    seen.add(key);
    mounts.push({ device: unescape(device), mount, fstype });
  }
  return mounts;
}

/** What `df` shows: used over what users can have (used + available), so reserved blocks count as full. */
export function usageOf(host: string, m: Mount, s: { bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number }): PayloadOf<typeof diskUsage> {
  const used = s.blocks - s.bfree;
  const usable = used + s.bavail;
  const round = (n: number): number => Math.round(n * 10) / 10;
  return {
    host,
    mount: m.mount,
    device: m.device,
    fstype: m.fstype,
    size_bytes: s.blocks * s.bsize,
    used_bytes: used * s.bsize,
    free_bytes: s.bavail * s.bsize,
    used_percent: usable === 0 ? 0 : round(Math.min(100, (used / usable) * 100)),
    inodes_used_percent: s.files === 0 ? null : round(((s.files - s.ffree) / s.files) * 100),
  };
}

export function loadOf(host: string): PayloadOf<typeof load> {
  const [load1 = 0, load5 = 0, load15 = 0] = loadavg();
  return { host, load1, load5, load15, cpus: Math.max(1, availableParallelism()) };
}

export default defineSensor({
  triggerTypes: [diskUsage, load],
  pollInterval: 60,
  async poll(ctx) {
    const host = hostname();
    const exclude = Array.isArray(ctx.config['exclude_mounts']) ? ctx.config['exclude_mounts'].filter((e): e is string => typeof e === 'string') : [];
    for (const m of realMounts(await readFile('/proc/mounts', 'utf8'), exclude)) {
      let usage: PayloadOf<typeof diskUsage>;
      try {
        if (!(await stat(m.mount)).isDirectory()) continue; // a file bind-mounted into a container (/etc/hosts)
        usage = usageOf(host, m, await statfs(m.mount));
      } catch (err) {
        // One mount we cannot read (gone, no permission) does not hide the others.
        ctx.logger.warn({ mount: m.mount, error: (err as Error).message }, 'cannot read a filesystem');
        continue;
      }
      await ctx.emit(usage);
    }
    await ctx.emit(loadOf(host), { type: 'linux.load' });
  },
});
