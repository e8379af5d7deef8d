import { createDb, databaseUrlFromEnv } from "./index.js";

const url = databaseUrlFromEnv(process.env);
const database = createDb(url);
await database.migrate();
await database.close();
console.log(`migrations applied (${database.kind})`);
