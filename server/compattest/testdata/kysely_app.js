// Kysely (node-postgres underneath) running its Migrator, which takes
// pg_advisory_lock from a WITH that calls set_config, then CRUD and its
// introspection of the catalogs, with parameters sent as text of no
// type. Run twice, as an application starts and restarts. argv[2] is
// the connection string.
const pg = require('pg');
const { Kysely, PostgresDialect, Migrator, sql } = require('kysely');

const db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.argv[2], max: 2 }) }) });

const migrations = {
  '001_init': {
    async up(db) {
      await db.schema.createTable('ky_person')
        .addColumn('id', 'serial', (c) => c.primaryKey())
        .addColumn('first_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'timestamp', (c) => c.defaultTo(sql`now()`).notNull())
        .execute();
      await db.schema.createTable('ky_pet')
        .addColumn('id', 'serial', (c) => c.primaryKey())
        .addColumn('name', 'varchar', (c) => c.notNull().unique())
        .addColumn('owner_id', 'integer', (c) => c.references('ky_person.id').onDelete('cascade').notNull())
        .execute();
      await db.schema.createIndex('ky_pet_owner_id_index').on('ky_pet').column('owner_id').execute();
    },
    async down(db) {
      await db.schema.dropTable('ky_pet').execute();
      await db.schema.dropTable('ky_person').execute();
    },
  },
  '002_age': {
    async up(db) { await db.schema.alterTable('ky_person').addColumn('age', 'integer').execute(); },
    async down(db) { await db.schema.alterTable('ky_person').dropColumn('age').execute(); },
  },
};
const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations },
  migrationTableName: 'ky_migration', migrationLockTableName: 'ky_migration_lock' });

function check(cond, what) { if (!cond) throw new Error(what); }

(async () => {
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  const first = results.length > 0;
  if (first) check(results.map((r) => r.status).join() === 'Success,Success', 'migrations: ' + JSON.stringify(results));
  const p = await db.insertInto('ky_person').values({ first_name: 'Jennifer', age: 3 }).returning(['id', 'created_at']).executeTakeFirstOrThrow();
  check(p.created_at instanceof Date, 'created_at: ' + JSON.stringify(p));
  await db.insertInto('ky_pet').values({ name: 'catto' + p.id, owner_id: p.id }).execute();
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('ky_person').set({ age: sql`age + 1` }).where('id', '=', p.id).execute();
  });
  const rows = await db.selectFrom('ky_person').innerJoin('ky_pet', 'ky_pet.owner_id', 'ky_person.id')
    .select(['ky_person.age', 'ky_pet.name as pet']).where('ky_person.id', '=', p.id).execute();
  check(rows.length === 1 && rows[0].age === 4 && rows[0].pet === 'catto' + p.id, 'join: ' + JSON.stringify(rows));
  const up = await db.insertInto('ky_person').values({ id: p.id, first_name: 'X' })
    .onConflict((oc) => oc.column('id').doUpdateSet({ first_name: (eb) => eb.ref('excluded.first_name') })).returningAll().executeTakeFirstOrThrow();
  check(up.first_name === 'X' && up.age === 4, 'upsert: ' + JSON.stringify(up));
  // Kysely reads pg_attribute with attnum >= $7 and attisdropped != $8.
  const tables = await db.introspection.getTables();
  const person = tables.find((t) => t.name === 'ky_person');
  check(person && person.schema === 'public', 'introspection: ' + JSON.stringify(tables.map((t) => t.name)));
  const cols = person.columns.map((c) => [c.name, c.dataType, c.isNullable, c.hasDefaultValue, c.isAutoIncrementing].join(':'));
  check(cols.join() === 'id:int4:false:true:true,first_name:varchar:false:false:false,created_at:timestamp:false:true:false,age:int4:true:false:false',
    'columns: ' + cols.join());
  const again = await migrator.migrateToLatest();
  if (again.error) throw again.error;
  check(again.results.length === 0, 'migrated twice: ' + JSON.stringify(again.results));
  console.log(first ? 'migrated' : 'up to date', 'ok');
})().then(() => db.destroy(), (e) => {
  console.error(e);
  process.exit(1);
});
