import { deriveJoinSecret } from "@nexus/platform/join-token";
import { describe, expect, it } from "vitest";
import { ConfigError, DEV_JWT_SECRET, loadControlConfig } from "../src/config.js";
import { hashPassword, verifyPassword } from "../src/services/password.js";

describe("control configuration", () => {
  it("has working defaults for a fresh checkout", () => {
    const c = loadControlConfig({});
    expect(c).toMatchObject({
      nodeEnv: "development",
      port: 8095,
      host: "0.0.0.0",
      databaseUrl: "data/pglite",
      redisUrl: null,
      corsOrigins: ["*"],
      logDir: "logs",
      bodyLimitBytes: 65_536,
      hostMaxAgeMs: 15_000,
      joinToken: { secret: deriveJoinSecret(DEV_JWT_SECRET), ttlSeconds: 60 },
      auth: {
        secret: DEV_JWT_SECRET,
        jwksUrl: null,
        claims: { tenant: "tenant_id", role: "role", name: "name" },
      },
    });
  });

  it("reads every documented variable", () => {
    const c = loadControlConfig({
      PORT: "9000",
      DB_HOST: "db",
      DB_USER: "meet",
      DB_PASSWORD: "p@ss",
      DB_NAME: "nexus",
      REDIS_HOST: "cache",
      REDIS_PORT: "6380",
      JWT_SECRET: "s",
      JOIN_TOKEN_TTL_SECONDS: "30",
      CORS_ORIGINS: "https://a.example, https://b.example",
      JWT_CLAIM_TENANT: "org",
    });
    expect(c.port).toBe(9000);
    expect(c.databaseUrl).toBe("postgres://meet:p%40ss@db:5432/nexus");
    expect(c.redisUrl).toBe("redis://cache:6380");
    // Derived from JWT_SECRET, never the same key.
    expect(c.joinToken).toEqual({ secret: deriveJoinSecret("s"), ttlSeconds: 30 });
    expect(c.joinToken.secret).not.toBe("s");
    expect(c.corsOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(c.auth.claims.tenant).toBe("org");
  });

  it("refuses the development secret in production", () => {
    expect(() => loadControlConfig({ NODE_ENV: "production" })).toThrow(/refusing the development secret/);
    expect(() => loadControlConfig({ NODE_ENV: "production", JWT_SECRET: DEV_JWT_SECRET })).toThrow(
      ConfigError,
    );
    const ok = loadControlConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(40) });
    expect(ok.joinToken.secret).toBe(deriveJoinSecret("x".repeat(40)));
    expect(() =>
      loadControlConfig({
        NODE_ENV: "production",
        JWT_SECRET: "x".repeat(40),
        JOIN_TOKEN_SECRET: "x".repeat(40),
      }),
    ).toThrow(/differ from JWT_SECRET/);
    expect(() => loadControlConfig({ JWT_AUDIENCE: "nexus-meet:media" })).toThrow(/join token/);
  });

  it("names each invalid variable", () => {
    expect(() => loadControlConfig({ PORT: "eighty", LOG_LEVEL: "loud", JWKS_URL: "not a url" })).toThrow(
      /PORT[\s\S]*JWKS_URL[\s\S]*LOG_LEVEL|PORT[\s\S]*LOG_LEVEL[\s\S]*JWKS_URL/,
    );
    expect(() => loadControlConfig({ JWT_SECRET: "a", JWKS_URL: "https://idp.example/jwks" })).toThrow(
      /not both/,
    );
  });
});

describe("meeting passwords", () => {
  it("hashes with scrypt and a per-hash salt, and verifies only the right password", async () => {
    const a = await hashPassword("correct horse");
    const b = await hashPassword("correct horse");
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse", a)).toBe(true);
    expect(await verifyPassword("correct horse ", a)).toBe(false);
    expect(await verifyPassword("", a)).toBe(false);
  });

  it("refuses malformed stored values instead of throwing", async () => {
    expect(await verifyPassword("x", "plain")).toBe(false);
    expect(await verifyPassword("x", "scrypt$0$8$1$abc$def")).toBe(false);
    expect(await verifyPassword("x", "bcrypt$1$2$3$4$5")).toBe(false);
  });
});
