// knex (node-postgres underneath) running its migrations up, then down,
// then up again, as a deployment does. argv[2] is the connection string.
const knex = require('knex')({ client: 'pg', connection: process.argv[2] });

const migrations = {
  '001_people': {
    up: (k) => k.schema.createTable('knex_people', (t) => {
      t.increments('id');
      t.string('name').notNullable().unique();
      t.boolean('active').defaultTo(true);
      t.timestamps(true, true);
    }),
    down: (k) => k.schema.dropTable('knex_people'),
  },
  '002_pets': {
    up: (k) => k.schema.createTable('knex_pets', (t) => {
      t.increments('id');
      t.integer('owner_id').unsigned().references('id').inTable('knex_people');
      t.string('name');
    }),
    down: (k) => k.schema.dropTable('knex_pets'),
  },
};
const source = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (m) => m,
  getMigration: async (m) => migrations[m],
};

(async () => {
  const cfg = { migrationSource: source, tableName: 'knex_migrations' };
  await knex.migrate.latest(cfg);
  await knex.migrate.latest(cfg); // a restart: nothing to do
  const [id] = await knex('knex_people').insert({ name: 'ann' }).returning('id');
  await knex('knex_pets').insert({ owner_id: id.id ?? id, name: 'rex' });
  const rows = await knex('knex_people').join('knex_pets', 'knex_people.id', 'knex_pets.owner_id').select('knex_people.name', 'knex_pets.name as pet');
  if (rows.length !== 1 || rows[0].pet !== 'rex') throw new Error('join: ' + JSON.stringify(rows));
  await knex.migrate.down(cfg);
  await knex.migrate.latest(cfg);
  await knex.migrate.rollback(cfg, true);
  await knex.migrate.latest(cfg);
  console.log('ok');
})().then(() => knex.destroy(), (e) => {
  // Exit at once: a pool that still retries would keep node running.
  console.error(e);
  process.exit(1);
});
