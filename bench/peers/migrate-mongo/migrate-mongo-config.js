// migrate-mongo's configuration for scripts/bench-migrations.sh: the server and database come
// from the environment, so the peer runs on the same data as mongo_orm.
module.exports = {
  mongodb: {
    url: process.env.MONGODB_URI,
    databaseName: process.env.BENCH_DATABASE,
  },
  migrationsDir: "migrations",
  changelogCollectionName: "changelog",
  migrationFileExtension: ".js",
  useFileHash: false,
  moduleSystem: "commonjs",
};
