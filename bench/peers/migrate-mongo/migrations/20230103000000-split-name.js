// Seed 000's SplitNameField as a migrate-mongo migration in the usual per-document style: a
// cursor over the users that have `name`, one updateOne per document. It stops after
// BENCH_CAP_SECONDS and writes how many documents it changed, and in how long, to BENCH_RESULT.
const fs = require("fs");

module.exports = {
  async up(db) {
    const users = db.collection("users");
    const deadline = Date.now() + Number(process.env.BENCH_CAP_SECONDS || "Infinity") * 1000;
    const started = process.hrtime.bigint();
    let done = 0;
    for await (const doc of users.find({ name: { $exists: true } })) {
      const space = doc.name.indexOf(" ");
      const first_name = space < 0 ? doc.name : doc.name.slice(0, space);
      const last_name = space < 0 ? "" : doc.name.slice(space + 1);
      await users.updateOne({ _id: doc._id }, { $set: { first_name, last_name }, $unset: { name: "" } });
      done += 1;
      if (Date.now() >= deadline) break;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (process.env.BENCH_RESULT) fs.writeFileSync(process.env.BENCH_RESULT, JSON.stringify({ done, seconds }));
  },

  async down(db) {
    const users = db.collection("users");
    for await (const doc of users.find({ first_name: { $exists: true }, last_name: { $exists: true } })) {
      const name = `${doc.first_name} ${doc.last_name}`.trim();
      await users.updateOne({ _id: doc._id }, { $set: { name }, $unset: { first_name: "", last_name: "" } });
    }
  },
};
