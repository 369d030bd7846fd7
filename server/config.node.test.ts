import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config';

test('defaults match the documented contract', () => {
  const config = loadConfig({}, '/srv/app');
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 8080);
  assert.equal(config.audioDir, '/srv/app/demo/tracks');
  assert.equal(config.staticDir, '/srv/app/dist');
  assert.deepEqual(config.corsOrigins, ['*']);
  assert.equal(config.testHooks, false);
  assert.equal(config.paceChunksPerSecond, 20);
});

test('environment overrides are parsed and validated', () => {
  const config = loadConfig(
    { PORT: '0', HOST: '::1', AUDIO_DIR: '/music', CORS_ORIGINS: 'https://a.test, http://b.test:8080', RTC_TEST_HOOKS: '1', PACE_CHUNKS_PER_SECOND: '0' },
    '/srv/app',
  );
  assert.equal(config.port, 0);
  assert.equal(config.host, '::1');
  assert.equal(config.audioDir, '/music');
  assert.deepEqual(config.corsOrigins, ['https://a.test', 'http://b.test:8080']);
  assert.equal(config.testHooks, true);
  assert.equal(config.paceChunksPerSecond, 0);
  assert.equal(loadConfig({ RTC_TEST_HOOKS: 'true' }).testHooks, false, 'only "1" enables the hooks');
});

test('bad values fail loudly with the variable named', () => {
  assert.throws(() => loadConfig({ PORT: '70000' }), (error: unknown) => error instanceof ConfigError && /PORT/.test(error.message));
  assert.throws(() => loadConfig({ PORT: 'eighty' }), ConfigError);
  assert.throws(() => loadConfig({ MAX_PEERS: '0' }), /MAX_PEERS/);
  assert.throws(() => loadConfig({ CORS_ORIGINS: 'not a url' }), /CORS_ORIGINS/);
});

test('PACE_CHUNKS_PER_SECOND accepts fractions (audio-rate pacing) and rejects nonsense', () => {
  assert.equal(loadConfig({ PACE_CHUNKS_PER_SECOND: '0.25' }).paceChunksPerSecond, 0.25, 'one 64 KiB chunk every 4 s');
  assert.equal(loadConfig({ PACE_CHUNKS_PER_SECOND: '2.5' }).paceChunksPerSecond, 2.5);
  assert.equal(loadConfig({ PACE_CHUNKS_PER_SECOND: '7' }).paceChunksPerSecond, 7);
  for (const bad of ['-1', '0.001', '1e3', 'NaN', 'Infinity', '0x10', '1.', '.5', '100001', 'fast']) {
    assert.throws(() => loadConfig({ PACE_CHUNKS_PER_SECOND: bad }), /PACE_CHUNKS_PER_SECOND/, bad);
  }
});
