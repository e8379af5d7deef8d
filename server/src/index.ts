export { DevTokenBodySchema, mintDevToken } from "./dev-token.js";
export { DEFAULT_WEB_DIR, type Embedded, type EmbeddedOptions, startEmbedded } from "./embedded.js";
export { staticFiles } from "./static.js";
