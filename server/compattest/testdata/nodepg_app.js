// node-postgres (pg) as an application uses it: a pool, parameterized
// queries with dates, JSON, bigint, bytea, booleans and arrays of ints,
// a transaction, and a multi-row insert. argv[2] is the connection string.
const { Pool } = require('pg');

function check(cond, what) { if (!cond) throw new Error(what); }

(async () => {
  const pool = new Pool({ connectionString: process.argv[2] });
  for (let start = 1; start <= 2; start++) {
    await pool.query(`CREATE TABLE IF NOT EXISTS np_events (
      id SERIAL PRIMARY KEY,
      name TEXT NOT NULL,
      at TIMESTAMPTZ NOT NULL,
      day DATE,
      payload JSONB,
      big BIGINT,
      blob BYTEA,
      done BOOLEAN DEFAULT false
    )`);
    await pool.query('DELETE FROM np_events');
    const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    const big = '9007199254740993'; // past 2^53: pg sends and returns it as text
    const ins = await pool.query(
      'INSERT INTO np_events (name, at, day, payload, big, blob) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
      ['first', at, '2024-01-02', { a: 1, b: [true, null, 'x'] }, big, Buffer.from([0, 1, 254, 255])]);
    // A SERIAL key is the table's rowid, a 64-bit integer: int8, which pg
    // reads as a string.
    const id = ins.rows[0].id;
    check(Number(id) > 0, 'id ' + id);
    const r = await pool.query('SELECT * FROM np_events WHERE id = $1', [id]);
    const row = r.rows[0];
    check(row.name === 'first', 'name ' + row.name);
    check(row.at instanceof Date && row.at.getTime() === at.getTime(), 'at ' + row.at);
    check(row.day instanceof Date, 'day ' + row.day);
    check(JSON.stringify(row.payload) === '{"a":1,"b":[true,null,"x"]}', 'payload ' + JSON.stringify(row.payload));
    check(row.big === big, 'big ' + row.big);
    check(Buffer.isBuffer(row.blob) && row.blob.equals(Buffer.from([0, 1, 254, 255])), 'blob ' + row.blob);
    check(row.done === false, 'done ' + row.done);

    // A transaction on one client of the pool, a rollback, a commit.
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('INSERT INTO np_events (name, at) VALUES ($1, $2)', ['rolled back', new Date()]);
      await c.query('ROLLBACK');
      await c.query('BEGIN');
      await c.query('UPDATE np_events SET done = $1 WHERE id = $2', [true, id]);
      await c.query('INSERT INTO np_events (name, at) VALUES ($1, now())', ['second']);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    check((await pool.query("SELECT count(*) FROM np_events WHERE name = 'rolled back'")).rows[0].count === '0', 'rollback kept a row');
    check((await pool.query('SELECT done FROM np_events WHERE id = $1', [id])).rows[0].done === true, 'update lost');
    // pg sends a boolean untyped, as text: stored in a BOOLEAN column, it
    // is a boolean, which conditions on the column find.
    await pool.query('INSERT INTO np_events (name, at, done) VALUES ($1, $2, $3), ($4, $5, $6)',
      ['flag on', new Date(), true, 'flag off', new Date(), false]);
    const nDone = async (where, params) =>
      (await pool.query('SELECT count(*)::int AS n FROM np_events WHERE ' + where, params)).rows[0].n;
    check(await nDone('done') === 2, 'WHERE done: ' + await nDone('done'));
    check(await nDone('NOT done') === 2, 'WHERE NOT done: ' + await nDone('NOT done'));
    check(await nDone('done = $1', [false]) === 2, 'WHERE done = false: ' + await nDone('done = $1', [false]));

    // A bulk insert in one statement, without COPY: multi-row VALUES.
    const n = 200, vals = [], params = [];
    for (let i = 0; i < n; i++) {
      vals.push(`($${2 * i + 1}, $${2 * i + 2})`);
      params.push('bulk' + i, new Date(at.getTime() + i * 1000));
    }
    const bulk = await pool.query('INSERT INTO np_events (name, at) VALUES ' + vals.join(', '), params);
    check(bulk.rowCount === n, 'bulk rowCount ' + bulk.rowCount);

    // Arrays of ints as parameters.
    const ids = (await pool.query("SELECT id FROM np_events WHERE name IN ('bulk3', 'bulk7') ORDER BY id")).rows.map((x) => Number(x.id));
    const any = await pool.query('SELECT name FROM np_events WHERE id = ANY($1) ORDER BY id', [ids]);
    check(any.rows.map((x) => x.name).join() === 'bulk3,bulk7', 'any ' + JSON.stringify(any.rows));
    const cnt = await pool.query('SELECT count(*)::int AS n FROM np_events WHERE at >= $1 AND at < $2', [at, new Date(at.getTime() + 10000)]);
    check(cnt.rows[0].n === 11, 'range count ' + cnt.rows[0].n);
    const js = await pool.query("SELECT payload->>'a' AS a, payload->'b' AS b FROM np_events WHERE id = $1", [id]);
    check(js.rows[0].a === '1', 'json ->> ' + JSON.stringify(js.rows[0]));
  }
  await pool.end();
  console.log('ok');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
