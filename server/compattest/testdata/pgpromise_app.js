// pg-promise (node-postgres underneath): a task, a transaction that rolls
// back and one that commits, and helpers.insert's multi-row bulk insert.
// Run twice, a first start and a restart. argv[2] is the connection string.
const pgp = require('pg-promise')();

function check(cond, what) { if (!cond) throw new Error(what); }

(async () => {
  const db = pgp(process.argv[2]);
  for (let start = 1; start <= 2; start++) {
    await db.none(`CREATE TABLE IF NOT EXISTS pgp_orders (
      id BIGSERIAL PRIMARY KEY,
      customer VARCHAR(40) NOT NULL,
      amount NUMERIC(10, 2),
      tags JSON,
      placed TIMESTAMP NOT NULL DEFAULT now()
    )`);
    await db.none('TRUNCATE pgp_orders');
    const cs = new pgp.helpers.ColumnSet(['customer', 'amount', { name: 'tags', mod: ':json' }], { table: 'pgp_orders' });
    const rows = [];
    for (let i = 0; i < 100; i++) rows.push({ customer: 'c' + (i % 7), amount: (i * 1.25).toFixed(2), tags: { i } });
    await db.none(pgp.helpers.insert(rows, cs));
    check((await db.one('SELECT count(*) AS n FROM pgp_orders', [], (r) => +r.n)) === 100, 'bulk insert');
    try {
      await db.tx(async (t) => {
        await t.none('DELETE FROM pgp_orders WHERE customer = $1', ['c0']);
        throw new Error('roll back');
      });
    } catch (e) {
      if (e.message !== 'roll back') throw e;
    }
    check((await db.one('SELECT count(*) AS n FROM pgp_orders WHERE customer = $1', ['c0'], (r) => +r.n)) === 15, 'rollback');
    const total = await db.tx(async (t) => {
      await t.none('UPDATE pgp_orders SET amount = amount + 1 WHERE customer = ${c}', { c: 'c1' });
      return t.one('SELECT sum(amount) AS s FROM pgp_orders WHERE customer = $1', ['c1'], (r) => r.s);
    });
    check(Number(total) === 952.5, 'sum ' + total);
    const got = await db.one('SELECT customer, tags, placed FROM pgp_orders WHERE tags->>$1 = $2', ['i', '8']);
    check(got.customer === 'c1' && got.tags.i === 8 && got.placed instanceof Date, 'json row ' + JSON.stringify(got));
    const names = await db.map('SELECT DISTINCT customer FROM pgp_orders WHERE customer IN ($1:csv) ORDER BY customer', [['c2', 'c3']], (r) => r.customer);
    check(names.join() === 'c2,c3', 'csv ' + names);
  }
  pgp.end();
  console.log('ok');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
