// MikroORM (its postgresql driver, on knex and node-postgres): the schema
// generator's update, which diffs the entities against its reading of
// the catalogs (index columns through generate_subscripts, foreign keys
// ordered by array_position, labels such as AS unique and AS deferrable),
// until it finds nothing left to do; the unit of work; and the migrator.
// Run twice, as an application starts and restarts. argv[2] is the
// connection string.
const { MikroORM, EntitySchema } = require('@mikro-orm/postgresql');
const { Migrator, Migration } = require('@mikro-orm/migrations');

class Author { constructor(name, email) { this.name = name; this.email = email; } }
class Book { constructor(title, author) { this.title = title; this.author = author; } }
const entities = [
  new EntitySchema({ class: Author, tableName: 'mk_author', properties: {
    id: { type: 'number', primary: true },
    name: { type: 'string' },
    email: { type: 'string', unique: true },
    age: { type: 'number', nullable: true },
    createdAt: { type: 'Date', onCreate: () => new Date() },
    books: { kind: '1:m', entity: () => Book, mappedBy: 'author' },
  } }),
  new EntitySchema({ class: Book, tableName: 'mk_book', indexes: [{ properties: ['title', 'author'] }], properties: {
    id: { type: 'number', primary: true },
    title: { type: 'string' },
    author: { kind: 'm:1', entity: () => Author },
  } }),
];
class TagTable extends Migration {
  async up() { this.addSql('create table "mk_tag" ("id" serial primary key, "label" varchar(64) not null unique);'); }
  async down() { this.addSql('drop table "mk_tag";'); }
}

function check(cond, what) { if (!cond) throw new Error(what); }

(async () => {
  const orm = await MikroORM.init({ clientUrl: process.argv[2], entities, allowGlobalContext: true,
    discovery: { disableDynamicFileAccess: true }, extensions: [Migrator],
    // The database is shared with other tools' tests: the update, which
    // drops what the entities do not name, keeps to this test's tables.
    schemaGenerator: { skipTables: [/^(?!(public\.)?mk_)/] },
    migrations: { tableName: 'mk_migrations', migrationsList: [{ name: 'TagTable', class: TagTable }], snapshot: false } });
  const gen = orm.getSchemaGenerator();
  await gen.updateSchema();
  const left = (await gen.getUpdateSchemaSQL()).trim();
  check(left === '', 'the schema update left:\n' + left);

  const em = orm.em.fork();
  const a = new Author('ann', 'ann' + Date.now() + '@example.com');
  em.persist(a);
  em.persist(new Book('b1', a));
  em.persist(new Book('b2', a));
  await em.flush();
  // A serial key is SQLite's rowid, sent as int8: node-postgres gives it
  // as a string.
  check(Number(a.id) > 0, 'author id: ' + a.id);
  const em2 = orm.em.fork();
  const found = await em2.findOneOrFail(Author, { id: a.id }, { populate: ['books'] });
  check(found.books.length === 2 && found.createdAt instanceof Date, 'populate: ' + found.books.length);
  await em2.transactional(async (tx) => {
    const b = await tx.findOneOrFail(Book, { title: 'b1', author: a.id });
    b.title = 'b1!';
    found.age = 5;
  });
  check(await em2.count(Book, { author: a.id, title: { $like: 'b1%' } }) === 1, 'count');
  check(await em2.nativeDelete(Book, { author: a.id }) === 2, 'delete');

  const m = orm.getMigrator();
  await m.up();
  check((await m.getExecutedMigrations()).map((x) => x.name).join() === 'TagTable', 'migrations executed');
  check((await m.getPendingMigrations()).length === 0, 'migrations pending');
  await orm.close();
  console.log('ok');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
