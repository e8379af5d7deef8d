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
    maxlength: 2000,
    "aria-label": "Chat message",
  });
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
          await session.sendMessage(text);
          input.value = "";
        } catch (err) {
          error.show(describeError(err));
        }
      },
    },
    input,
    h("button", { type: "submit", "data-testid": "chat-send" }, "Send"),
  );
  let shown = 0;
  let firstId: string | undefined;
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
      // History can arrive after live messages (it is prepended): rebuild then, append otherwise.
      if (messages[0]?.id !== firstId || messages.length < shown) {
        list.replaceChildren();
        shown = 0;
        firstId = messages[0]?.id;
      }
      for (const m of messages.slice(shown)) {
        const mine = m.participantId === session.participantId;
        list.append(
          h(
            "li",
            { "data-testid": "chat-message", class: mine ? "mine" : "", "data-from": m.participantId ?? "" },
            h("span", { class: "who" }, mine ? "You" : m.name),
            h(
              "time",
              { datetime: m.at },
              new Date(m.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
            ),
            h("p", { class: "text" }, m.content),
          ),
        );
      }
      if (messages.length > shown) list.scrollTop = list.scrollHeight;
      shown = messages.length;
      if (session.settings?.allow_chat === false) {
        input.disabled = true;
        input.placeholder = "Chat is turned off in this meeting";
      }
    },
  };
}
