import type { OpenApiDocument } from "./openapi.js";

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const block = (title: string, value: unknown) =>
  `<details><summary>${esc(title)}</summary><pre>${esc(JSON.stringify(value, null, 2))}</pre></details>`;

/** Rendered on the server from the OpenAPI document: no script, no CDN, readable offline. */
export function renderDocsPage(doc: OpenApiDocument): string {
  const sections: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(methods)) {
      const op = raw as {
        summary: string;
        operationId: string;
        parameters?: unknown[];
        requestBody?: { content: Record<string, { schema: unknown }> };
        responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
      };
      const parts = [
        `<h2 id="${esc(op.operationId)}"><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h2>`,
        `<p>${esc(op.summary)}</p>`,
      ];
      if (op.parameters?.length) parts.push(block("Parameters", op.parameters));
      const body = op.requestBody?.content["application/json"]?.schema;
      if (body) parts.push(block("Request body", body));
      for (const [status, res] of Object.entries(op.responses)) {
        const schema = res.content?.["application/json"]?.schema;
        parts.push(
          schema
            ? block(`${status} ${res.description}`, schema)
            : `<p class="r">${esc(status)} ${esc(res.description)}</p>`,
        );
      }
      sections.push(`<section class="op">${parts.join("\n")}</section>`);
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(doc.info.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
.op{border-top:1px solid #ddd;padding:.5rem 0}h2{font-size:1.05rem;margin:.6rem 0}
.m{display:inline-block;min-width:4.2rem;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:.1rem .3rem}
.get{background:#2b7bb9}.post{background:#2e8b57}.put{background:#b8860b}.delete{background:#b22222}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;font-size:.8rem}summary{cursor:pointer}.r{margin:.2rem 0}
</style></head><body>
<h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description)} Every <code>/api</code> call needs <code>Authorization: Bearer &lt;JWT&gt;</code>.
Errors answer <code>{"error":{"code","message","request_id"}}</code>. Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
${sections.join("\n")}
</body></html>`;
}
