// Mongoose's find-and-hydrate of 100k user documents, for scripts/bench.sh. Inserts the same
// documents the C++ benchmark uses, then times end to end (User.find()) and hydration only
// (User.hydrate over documents already fetched with lean()), and prints one JSON line.
'use strict';
const mongoose = require('mongoose');

const N = 100000;

const User = mongoose.model('User', new mongoose.Schema({
  name: String,
  email: String,
  age: Number,
  active: Boolean,
  balance: Number,
  created_at: Date,
  score: Number,
  address: { street: String, city: String, zip: String, geo: [Number] },
  tags: [String],
  login_count: Number,
  plan: String,
}, { collection: 'users_mongoose', versionKey: false }));

function document(i) {
  return {
    name: 'John Doe', email: `john.doe${i}@example.com`, age: 20 + (i % 50), active: i % 2 === 0,
    balance: 1234.56 + i, created_at: new Date(1700000000000 + i), score: i,
    address: { street: '1 Infinite Loop', city: 'Cupertino', zip: '95014', geo: [37.33, -122.03] },
    tags: ['admin', 'beta', 'premium'], login_count: 17, plan: 'pro',
  };
}

async function main() {
  const [uri, database] = process.argv.slice(2);
  await mongoose.connect(uri, { dbName: database });
  const collection = User.collection;
  await collection.deleteMany({});
  for (let start = 0; start < N; start += 10000) {
    const batch = [];
    for (let i = start; i < Math.min(N, start + 10000); i++) batch.push(document(i));
    await collection.insertMany(batch);
  }

  let started = process.hrtime.bigint();
  const users = await User.find({});
  const endToEnd = Number(process.hrtime.bigint() - started) / 1e9;
  if (users.length !== N) throw new Error(`expected ${N} documents, got ${users.length}`);

  const raw = await User.find({}).lean();
  started = process.hrtime.bigint();
  const hydrated = raw.map((d) => User.hydrate(d));
  const hydrateOnly = Number(process.hrtime.bigint() - started) / 1e9;
  if (hydrated[0].address.city !== 'Cupertino') throw new Error('hydration lost a field');

  await collection.drop();
  console.log(JSON.stringify({ peer: 'Mongoose', documents: N, end_to_end_s: endToEnd, hydrate_only_s: hydrateOnly }));
  await mongoose.disconnect();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
