/**
 * One process of the SQLite slot race (sqlite-store.test.ts): opens the store file, waits for the
 * agreed start instant, tries to take slot `k<i>` (limit 1) for each key, and prints the keys won.
 * Arguments: <database path> <holder> <start epoch ms> <number of keys>.
 */
import { createSqliteStore } from '../src/sqlite-store.ts';

const [path = '', holder = '', startAt = '0', keys = '0'] = process.argv.slice(2);
const store = await createSqliteStore({ path, sweepIntervalMs: 0, busyTimeoutMs: 30_000 });
try {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
  const won: string[] = [];
  for (let i = 0; i < Number(keys); i++) {
    if (await store.slots.acquire(`k${i}`, holder, 1, 60_000, new Date().toISOString())) won.push(`k${i}`);
  }
  process.stdout.write(JSON.stringify(won));
} finally {
  await store.close();
}
