// TypeORM on node-postgres, with synchronize: true, started twice (a first
// start creates the schema, a restart finds it up to date), then CRUD and a
// transaction. Entities are defined with EntitySchema (plain JavaScript,
// no decorators). argv[2] is the connection string.
require('reflect-metadata');
const { DataSource, EntitySchema } = require('typeorm');

function check(cond, what) { if (!cond) throw new Error(what); }

const Author = new EntitySchema({
  name: 'TormAuthor',
  tableName: 'torm_authors',
  columns: {
    id: { type: Number, primary: true, generated: true },
    name: { type: 'varchar', length: 80, unique: true },
    active: { type: 'boolean', default: true },
    joined: { type: 'timestamp', createDate: true },
  },
  relations: { posts: { type: 'one-to-many', target: 'TormPost', inverseSide: 'author' } },
});

const Post = new EntitySchema({
  name: 'TormPost',
  tableName: 'torm_posts',
  columns: {
    id: { type: Number, primary: true, generated: true },
    title: { type: 'varchar' },
    body: { type: 'text', nullable: true },
    meta: { type: 'jsonb', nullable: true },
    views: { type: 'int', default: 0 },
  },
  indices: [{ name: 'IDX_torm_posts_title', columns: ['title'] }],
  relations: { author: { type: 'many-to-one', target: 'TormAuthor', inverseSide: 'posts', joinColumn: true, onDelete: 'CASCADE' } },
});

(async () => {
  for (let start = 1; start <= 2; start++) {
    const ds = new DataSource({ type: 'postgres', url: process.argv[2], entities: [Author, Post], synchronize: true, logging: false });
    await ds.initialize();
    if (start === 2) {
      const authors = ds.getRepository('TormAuthor');
      const posts = ds.getRepository('TormPost');
      await posts.createQueryBuilder().delete().execute();
      await authors.createQueryBuilder().delete().execute();
      const a = await authors.save({ name: 'ada' });
      check(a.id > 0 && a.active === true && a.joined instanceof Date, 'saved author ' + JSON.stringify(a));
      await posts.save([{ title: 'one', meta: { tags: ['x'] }, author: a }, { title: 'two', author: a }]);
      const got = await authors.findOne({ where: { name: 'ada' }, relations: { posts: true } });
      check(got.posts.length === 2, 'posts ' + JSON.stringify(got));
      const one = await posts.findOneBy({ title: 'one' });
      check(one.meta.tags[0] === 'x' && one.views === 0, 'post ' + JSON.stringify(one));
      await ds.transaction(async (m) => {
        await m.increment('TormPost', { title: 'one' }, 'views', 5);
        await m.update('TormAuthor', { id: a.id }, { active: false });
      });
      check((await posts.findOneBy({ title: 'one' })).views === 5, 'increment');
      const n = await posts.createQueryBuilder('p').leftJoin('p.author', 'a').where('a.active = :act', { act: false }).getCount();
      check(n === 2, 'query builder count ' + n);
      await authors.delete({ id: a.id });
      check((await posts.count()) === 0, 'cascade left posts');
    }
    await ds.destroy();
  }
  console.log('ok');
})().catch((e) => {
  console.error(e.query ? e.query + '\n' : '', e);
  process.exit(1);
});
