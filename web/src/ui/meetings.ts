import type { Meeting } from "@nexus/shared/rest/meetings";
import { type Api, describeError } from "../api.js";
import { h, notice } from "./dom.js";

/** The tenant's meetings and a form to create one. */
export function meetingsScreen(api: Api, open: (id: string) => void, signOut: () => void): HTMLElement {
  const error = notice("meetings-error");
  const list = h("ul", { class: "meetings", "data-testid": "meetings-list" }, h("li", {}, "Loading…"));

  const row = (m: Meeting) =>
    h(
      "li",
      { "data-testid": `meeting-row-${m.id}`, "data-status": m.status },
      h(
        "div",
        { class: "meeting-title" },
        h("strong", {}, m.title),
        h("span", { class: `badge ${m.status}` }, m.status),
        m.has_password ? h("span", { class: "badge" }, "password") : null,
        m.lobby_enabled ? h("span", { class: "badge" }, "lobby") : null,
        m.locked ? h("span", { class: "badge" }, "locked") : null,
      ),
      h("code", { class: "id" }, m.id),
      h(
        "button",
        { "data-testid": `open-${m.id}`, disabled: m.status === "ended", onclick: () => open(m.id) },
        "Join",
      ),
    );

  async function refresh() {
    try {
      const page = await api.listMeetings();
      list.replaceChildren(...(page.data.length ? page.data.map(row) : [h("li", {}, "No meetings yet.")]));
    } catch (err) {
      error.show(describeError(err));
    }
  }

  const form = h(
    "form",
    {
      class: "card",
      "data-testid": "create-form",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.hide();
        const data = new FormData(form);
        const password = String(data.get("password") ?? "");
        try {
          const meeting = await api.createMeeting({
            title: String(data.get("title")),
            password: password || null,
            lobby_enabled: data.get("lobby") === "on",
            max_participants: Number(data.get("max")) || 100,
          });
          form.reset();
          await refresh();
          list.querySelector(`[data-testid="meeting-row-${meeting.id}"]`)?.classList.add("fresh");
        } catch (err) {
          error.show(describeError(err));
        }
      },
    },
    h("h2", {}, "New meeting"),
    h("label", {}, "Title", h("input", { name: "title", required: true, "data-testid": "create-title" })),
    h(
      "label",
      {},
      "Password (optional)",
      h("input", { name: "password", type: "password", "data-testid": "create-password" }),
    ),
    h(
      "label",
      {},
      "Max participants",
      h("input", { name: "max", type: "number", min: 1, max: 1000, value: 100, "data-testid": "create-max" }),
    ),
    h(
      "label",
      { class: "inline" },
      h("input", { name: "lobby", type: "checkbox", "data-testid": "create-lobby" }),
      "Lobby: the host lets people in",
    ),
    h("button", { type: "submit", "data-testid": "create-submit" }, "Create"),
  );

  const byId = h(
    "form",
    {
      class: "inline-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        const id = String(new FormData(byId).get("id") ?? "").trim();
        if (id) open(id);
      },
    },
    h("input", { name: "id", placeholder: "Meeting id", "data-testid": "join-by-id" }),
    h("button", { type: "submit" }, "Go"),
  );

  void refresh();
  return h(
    "section",
    { class: "screen meetings-screen", "data-testid": "screen-meetings" },
    h(
      "header",
      { class: "bar" },
      h("h1", {}, "Meetings"),
      byId,
      h("button", { class: "secondary", onclick: () => void refresh() }, "Refresh"),
      h("button", { class: "secondary", "data-testid": "sign-out", onclick: signOut }, "Sign out"),
    ),
    error.el,
    h("div", { class: "columns" }, h("div", { class: "grow" }, list), form),
  );
}
