// Drizzle ORM on node-postgres: its migrator over the SQL files
// drizzle-kit generate wrote for the schema below (migrations/), then
// queries of the query builder. argv[2] is the connection string. Its
// migrator keeps its table in the schema "drizzle" unless told
// otherwise, which raftsql, having one schema, refuses with 0A000 before
// anything has run; with migrationsSchema 'public' it runs. Run twice,
// as an application starts and restarts.
const pg = require('pg');
const { drizzle } = require('drizzle-orm/node-postgres');
const { migrate } = require('drizzle-orm/node-postgres/migrator');
const { pgTable, serial, text, varchar, integer, timestamp, boolean, index, jsonb, numeric } = require('drizzle-orm/pg-core');
const { eq, and, gt, desc, sql } = require('drizzle-orm');

const users = pgTable('drz_users', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  email: varchar('email', { length: 256 }).notNull().unique(),
  active: boolean('active').default(true).notNull(),
  createdAt: timestamp('created_at').defaultNow().notNull(),
  bio: text('bio'),
});
const posts = pgTable('drz_posts', {
  id: serial('id').primaryKey(),
  title: text('title').notNull(),
  authorId: integer('author_id').references(() => users.id, { onDelete: 'cascade' }).notNull(),
  meta: jsonb('meta'),
  score: numeric('score'),
}, (t) => ({ byAuthor: index('drz_posts_author_idx').on(t.authorId) }));

function check(cond, what) { if (!cond) throw new Error(what); }

(async () => {
  const pool = new pg.Pool({ connectionString: process.argv[2], max: 2 });
  const db = drizzle(pool);
  const migrationsFolder = __dirname + '/drizzle/migrations';
  try {
    await migrate(db, { migrationsFolder });
    throw new Error('the migrator made its schema "drizzle"');
  } catch (e) {
    const cause = e.cause || e;
    check(cause.code === '0A000' && /CREATE SCHEMA "drizzle" is not supported/.test(cause.message), 'default schema: ' + e);
  }
  await migrate(db, { migrationsFolder, migrationsSchema: 'public' });
  const [u] = await db.insert(users).values({ name: 'ann', email: 'ann' + Date.now() + '@example.com' }).returning();
  check(u.active === true && u.createdAt instanceof Date && u.bio === null, 'insert returning: ' + JSON.stringify(u));
  await db.insert(posts).values([{ title: 'a', authorId: u.id, meta: { tags: ['x'] }, score: '1.5' }, { title: 'b', authorId: u.id }]);
  const rows = await db.select({ title: posts.title, name: users.name, meta: posts.meta, score: posts.score })
    .from(posts).innerJoin(users, eq(posts.authorId, users.id)).where(eq(users.id, u.id)).orderBy(desc(posts.title));
  check(JSON.stringify(rows) === '[{"title":"b","name":"ann","meta":null,"score":null},{"title":"a","name":"ann","meta":{"tags":["x"]},"score":"1.5"}]',
    'join: ' + JSON.stringify(rows));
  await db.transaction(async (tx) => {
    await tx.update(users).set({ active: false, bio: 'hi' }).where(eq(users.id, u.id));
  });
  const [n] = await db.select({ n: sql`count(*)`.mapWith(Number) }).from(posts).where(eq(posts.authorId, u.id));
  check(n.n === 2, 'count: ' + JSON.stringify(n));
  const [up] = await db.insert(users).values({ name: 'ann2', email: u.email })
    .onConflictDoUpdate({ target: users.email, set: { name: 'ann3' } }).returning();
  check(up.name === 'ann3' && up.active === false && up.bio === 'hi', 'upsert: ' + JSON.stringify(up));
  const gone = await db.delete(posts).where(and(eq(posts.authorId, u.id), gt(posts.id, 0))).returning({ id: posts.id });
  check(gone.length === 2, 'delete: ' + JSON.stringify(gone));
  const applied = await pool.query('SELECT count(*)::int AS n FROM __drizzle_migrations');
  check(applied.rows[0].n === 2, 'migrations applied: ' + JSON.stringify(applied.rows));
  await pool.end();
  console.log('ok');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
