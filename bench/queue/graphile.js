// bench/tick's yardstick: N no-op jobs run by graphile-worker on a database
// of the same PostgreSQL, at a given concurrency. Prints one line:
//   graphile-worker <concurrency> <jobs> <seconds>
// Usage: node graphile.js URL N CONCURRENCY
'use strict';
const { run, runMigrations, Logger } = require('graphile-worker');
const { Pool } = require('pg');

async function main() {
  const [url, n, concurrency] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
  if (!url || !(n > 0) || !(concurrency > 0)) throw new Error('usage: node graphile.js URL N CONCURRENCY');
  const quiet = new Logger(() => (level, message) => {
    if (level === 'error') console.error(message);
  });
  await runMigrations({ connectionString: url, logger: quiet });
  const pool = new Pool({ connectionString: url });
  await pool.query("SELECT graphile_worker.add_job('noop', '{}'::json) FROM generate_series(1, $1)", [n]);
  let done = 0;
  let finished;
  const all = new Promise((resolve) => { finished = resolve; });
  const t0 = process.hrtime.bigint();
  const runner = await run({
    connectionString: url,
    concurrency,
    noHandleSignals: true,
    pollInterval: 100,
    logger: quiet,
    taskList: { noop: async () => {} },
  });
  runner.events.on('job:success', () => { if (++done === n) finished(); });
  await all;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await runner.stop();
  const left = await pool.query('SELECT COUNT(*)::int AS n FROM graphile_worker.jobs');
  await pool.end();
  if (left.rows[0].n !== 0) throw new Error(`${left.rows[0].n} job(s) left`);
  console.log(`graphile-worker ${concurrency} ${n} ${seconds.toFixed(3)}`);
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
