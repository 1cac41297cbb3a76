/**
 * docker-compose.yml cannot run here (no Docker engine); this keeps it true to the code: every
 * Reflex container starts a service the launcher knows, every service has a container, and the
 * image is the Node 24 one the project pins.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '@reflex/launcher';

const root = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));

describe('deployment files', () => {
  // Compose resolves YAML merge keys (`<<: *reflex`), so the test does too.
  const compose = parse(readFileSync(root('docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { command?: string[]; image?: string; environment?: Record<string, string> }>;
  };

  it('runs every service in its own container, on NATS and MongoDB', () => {
    const started = Object.values(compose.services)
      .filter((s) => s.command?.[0] === 'start')
      .map((s) => s.command?.[1]);
    expect([...started].sort()).toEqual([...SERVICE_NAMES].sort());
    for (const service of Object.values(compose.services).filter((s) => s.command?.[0] === 'start')) {
      expect(service.environment?.['NATS_URL']).toBe('nats://nats:4222');
      expect(service.environment?.['MONGODB_URL']).toBe('mongodb://mongo:27017');
    }
    expect(compose.services['nats']?.command).toContain('-js');
  });

  it('builds on node:24-slim', () => {
    expect(readFileSync(root('Dockerfile'), 'utf8')).toMatch(/^FROM node:24-slim$/m);
  });
});
