/**
 * The pack's trigger types as the SDK sees them, so the sensor's events are typed. They say what
 * triggers/*.yaml says (the YAML is what Reflex registers and checks events against); linux.test.ts
 * keeps the two equal.
 */
import { defineTriggerType } from '@reflex/sdk';

export const diskUsage = defineTriggerType({
  ref: 'linux.disk_usage',
  payloadSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'mount', 'device', 'fstype', 'size_bytes', 'used_bytes', 'free_bytes', 'used_percent'],
    properties: {
      host: { type: 'string', description: 'The host name' },
      mount: { type: 'string', description: 'Where it is mounted: /, /var, /data' },
      device: { type: 'string', description: 'The device (/dev/sda1, a ZFS dataset, ...)' },
      fstype: { type: 'string', description: 'ext4, xfs, btrfs, ...' },
      size_bytes: { type: 'integer', minimum: 0 },
      used_bytes: { type: 'integer', minimum: 0 },
      free_bytes: { type: 'integer', minimum: 0, description: 'Bytes available to unprivileged users' },
      used_percent: { type: 'number', minimum: 0, maximum: 100 },
      inodes_used_percent: { type: ['number', 'null'], minimum: 0, maximum: 100, description: 'null where the filesystem has no inode limit (btrfs)' },
    },
  },
} as const);

export const load = defineTriggerType({
  ref: 'linux.load',
  payloadSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'load1', 'load5', 'load15', 'cpus'],
    properties: {
      host: { type: 'string' },
      load1: { type: 'number', minimum: 0 },
      load5: { type: 'number', minimum: 0 },
      load15: { type: 'number', minimum: 0 },
      cpus: { type: 'integer', minimum: 1 },
    },
  },
} as const);
