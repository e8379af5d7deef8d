import { CHAT_MAX_CHARS } from "@nexus/shared/signaling/meeting";
import { describeError } from "../api.js";
import type { MeetingSession } from "../session.js";
import { h, notice } from "./dom.js";

/** Chat with the history loaded at join; messages appended as they arrive. */
export function chatPanel(session: MeetingSession): { el: HTMLElement; render(): void } {
  const error = notice("chat-error");
  const list = h("ol", { class: "chat-list", "data-testid": "chat-messages" });
  const input = h("input", {
    "data-testid": "chat-input",
    placeholder: "Message everyone",
    maxlength: CHAT_MAX_CHARS,
    "aria-label": "Chat message",
  });
  // "" is everyone; a participant id makes the message private to them.
  const to = h("select", { "data-testid": "chat-to", "aria-label": "Send to" });
  const form = h(
    "form",
    {
      class: "chat-form",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const text = input.value;
        if (!text.trim()) return;
        error.hide();
        try {
          await session.sendMessage(text, to.value || undefined);
          input.value = "";
        } catch (err) {
          error.show(describeError(err));
        }
      },
    },
    to,
    input,
    h("button", { type: "submit", "data-testid": "chat-send" }, "Send"),
  );
  let signature = "";
  let recipients = "";
  return {
    el: h(
      "section",
      { class: "panel chat", "data-testid": "chat-panel" },
      h("h3", {}, "Chat"),
      list,
      error.el,
      form,
    ),
    render() {
      const messages = session.messages;
      // History arrives after the first live messages and is merged by seq: rebuild when anything moved.
      const next = messages.map((m) => m.id).join(",");
      if (next !== signature) {
        signature = next;
        list.replaceChildren(
          ...messages.map((m) => {
            const mine = m.participantId === session.participantId;
            return h(
              "li",
              {
                "data-testid": "chat-message",
                class: mine ? "mine" : "",
                "data-from": m.participantId ?? "",
              },
              h("span", { class: "who" }, mine ? "You" : m.name),
              h(
                "time",
                { datetime: m.at },
                new Date(m.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
              ),
              // Names are not unique: a host is marked by the role the server gives its peer, not by name.
              roleBadge(mine ? session.role : session.peers.get(m.participantId ?? "")?.role),
              m.direct ? h("span", { class: "badge" }, "private") : null,
              h("p", { class: "text" }, m.content),
            );
          }),
        );
        list.scrollTop = list.scrollHeight;
      }
      const peers = [...session.peers.values()].map((p) => ({ id: p.id, name: p.name }));
      const nextRecipients = JSON.stringify(peers);
      if (nextRecipients !== recipients) {
        recipients = nextRecipients;
        const chosen = peers.some((p) => p.id === to.value) ? to.value : "";
        to.replaceChildren(
          h("option", { value: "" }, "Everyone"),
          ...peers.map((p) => h("option", { value: p.id }, `${p.name} (private)`)),
        );
        to.value = chosen;
      }
      if (session.settings?.allow_chat === false) {
        input.disabled = true;
        input.placeholder = "Chat is turned off in this meeting";
      }
    },
  };
}

function roleBadge(role: string | undefined) {
  if (role !== "host" && role !== "cohost") return null;
  return h(
    "span",
    { class: "badge role", "data-testid": "role-badge" },
    role === "host" ? "host" : "co-host",
  );
}
