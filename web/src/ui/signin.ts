import { type Api, describeError } from "../api.js";
import { h, notice } from "./dom.js";

/** Sign in with a pasted JWT, or (development only) mint one for any tenant and user. */
export function signInScreen(api: Api, dev: boolean, onToken: (token: string) => void): HTMLElement {
  const error = notice("signin-error");
  const tokenInput = h("textarea", {
    "data-testid": "token-input",
    rows: 3,
    placeholder: "eyJhbGciOi…",
    "aria-label": "Token",
  });
  const pasteForm = h(
    "form",
    {
      class: "card",
      onsubmit: (e: Event) => {
        e.preventDefault();
        const token = tokenInput.value.trim();
        if (token.split(".").length !== 3) error.show("That does not look like a JWT.");
        else onToken(token);
      },
    },
    h("h2", {}, "Sign in with a token"),
    h("label", {}, "JWT from your identity provider", tokenInput),
    h("button", { type: "submit", "data-testid": "token-submit" }, "Sign in"),
  );

  let devForm: HTMLElement | null = null;
  if (dev) {
    const field = (name: string, label: string, value: string) =>
      h("label", {}, label, h("input", { name, value, required: true, "data-testid": `signin-${name}` }));
    const role = h(
      "select",
      { name: "role", "data-testid": "signin-role" },
      h("option", { value: "host" }, "host (can create meetings)"),
      h("option", { value: "member" }, "member"),
      h("option", { value: "admin" }, "admin"),
    );
    const form = h(
      "form",
      {
        class: "card",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          error.hide();
          const data = new FormData(form);
          try {
            const { token } = await api.devToken({
              tenant_id: String(data.get("tenant")),
              sub: String(data.get("user")),
              name: String(data.get("name")),
              role: String(data.get("role")) as "host",
            });
            onToken(token);
          } catch (err) {
            error.show(describeError(err));
          }
        },
      },
      h("h2", {}, "Development sign-in"),
      h("p", { class: "hint" }, "Mints a token with the development secret. Not available in production."),
      field("tenant", "Tenant", "acme"),
      field("user", "User id", `user-${Math.random().toString(36).slice(2, 7)}`),
      field("name", "Display name", "Guest"),
      h("label", {}, "Role", role),
      h("button", { type: "submit", "data-testid": "signin-submit" }, "Sign in"),
    );
    devForm = form;
  }
  return h(
    "section",
    { class: "screen signin", "data-testid": "screen-signin" },
    h("h1", {}, "NEXUS Meet"),
    error.el,
    h("div", { class: "cards" }, devForm, pasteForm),
  );
}
