// Sequelize (node-postgres underneath): sync twice (a first start and a
// restart), create, find, update, destroy. argv[2] is the connection string.
const { Sequelize, DataTypes } = require('sequelize');

(async () => {
  for (let start = 1; start <= 2; start++) {
    const sequelize = new Sequelize(process.argv[2], { logging: false });
    const Team = sequelize.define('SeqTeam', { name: { type: DataTypes.STRING, allowNull: false, unique: true } });
    const Player = sequelize.define('SeqPlayer', {
      name: DataTypes.STRING,
      number: { type: DataTypes.INTEGER, defaultValue: 0 },
      born: DataTypes.DATEONLY,
    });
    Team.hasMany(Player);
    Player.belongsTo(Team);
    await sequelize.sync();
    if (start === 2) {
      const team = await Team.create({ name: 'blue' });
      const p = await Player.create({ name: 'kim', number: 7, born: '2001-02-03', SeqTeamId: team.id });
      const found = await Player.findOne({ where: { name: 'kim' }, include: Team });
      if (found.number !== 7 || found.SeqTeam.name !== 'blue' || found.born !== '2001-02-03') throw new Error('read back ' + JSON.stringify(found));
      await p.update({ number: 8 });
      if ((await Player.findByPk(p.id)).number !== 8) throw new Error('update lost');
      await p.destroy();
      if ((await Player.count()) !== 0) throw new Error('destroy left rows');
    }
    await sequelize.close();
  }
  console.log('ok');
})().catch((e) => {
  // Exit at once: a pool that still retries would keep node running.
  console.error(e.sql ? e.sql + '\n' : '', e);
  process.exit(1);
});
