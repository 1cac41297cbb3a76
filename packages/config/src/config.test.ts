import { describe, expect, it } from 'vitest';
import { ValidationError } from '@reflex/model';
import { actionBaseEnv, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults to the embedded setup on loopback', () => {
    const config = loadConfig({}, {}, '/srv/reflex');
    expect(config).toMatchObject({ port: 8180, host: '127.0.0.1', natsUrl: '', mongodbUrl: '', dataDir: '/srv/reflex/.reflex', packsPaths: ['/srv/reflex/packs'] });
  });

  it('reads the environment, colon-separated pack paths included', () => {
    const config = loadConfig({ REFLEX_PORT: '9000', REFLEX_PACKS_PATH: '/a:/b', NATS_URL: 'nats://n:4222', REFLEX_ACTION_ENV: 'PATH, HOME' }, {}, '/x');
    expect(config).toMatchObject({ port: 9000, packsPaths: ['/a', '/b'], natsUrl: 'nats://n:4222', actionEnv: ['PATH', 'HOME'] });
    expect(actionBaseEnv(config, { PATH: '/bin', HOME: '/root', SECRET: 'no' })).toEqual({ PATH: '/bin', HOME: '/root' });
  });

  it('names the variable to fix', () => {
    for (const [name, value] of [['REFLEX_PORT', 'eighty'], ['REFLEX_BUS_PREFIX', 'Bad Prefix'], ['REFLEX_LOG_LEVEL', 'loud']] as const) {
      try {
        loadConfig({ [name]: value });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).details?.[0]?.field).toBe(name);
      }
    }
  });
});
