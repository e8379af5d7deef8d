import { describeError } from "../api.js";
import type { MeetingSession } from "../session.js";
import { h, notice } from "./dom.js";

/** Everyone in the meeting with their state; hosts also get controls, the lock and the lobby queue. */
export function participantsPanel(session: MeetingSession): { el: HTMLElement; render(): void } {
  const error = notice("participants-error");
  const list = h("ul", { class: "people", "data-testid": "participants-list" });
  const lobbyList = h("ul", { class: "lobby", "data-testid": "lobby-list" });
  const lobbySection = h(
    "div",
    { class: "lobby-section", hidden: true },
    h("h4", {}, "Waiting in the lobby"),
    lobbyList,
  );
  const lockBtn = h("button", { class: "secondary", "data-testid": "lock-meeting", hidden: true });
  const lobbyBtn = h("button", { class: "secondary", "data-testid": "toggle-lobby", hidden: true });
  const endBtn = h(
    "button",
    { class: "danger", "data-testid": "end-meeting", hidden: true },
    "End meeting for all",
  );
  const hostBar = h("div", { class: "host-bar" }, lockBtn, lobbyBtn, endBtn);
  const count = h("span", { class: "count", "data-testid": "participant-count" });

  const act = (work: () => Promise<unknown>) => () => {
    error.hide();
    work().catch((err) => error.show(describeError(err)));
  };
  lockBtn.addEventListener(
    "click",
    act(() => session.lockMeeting(!session.locked)),
  );
  lobbyBtn.addEventListener(
    "click",
    act(() => session.setLobby(!session.lobbyEnabled)),
  );
  endBtn.addEventListener(
    "click",
    act(() => session.endMeeting()),
  );

  return {
    el: h(
      "section",
      { class: "panel participants", "data-testid": "participants-panel" },
      h("h3", {}, "Participants ", count),
      hostBar,
      error.el,
      lobbySection,
      list,
    ),
    render() {
      const host = session.isHost;
      const rows = [
        h(
          "li",
          { "data-testid": `participant-${session.participantId}`, "data-hand": String(session.hand) },
          h("span", { class: "name" }, `${session.name || "You"} (you)`),
          h("span", { class: "state" }, session.muted ? "muted" : "mic on", session.hand ? " · hand" : ""),
        ),
      ];
      // Raised hands first, in the order they went up: that is the order people get to speak.
      const peers = [...session.peers.values()].sort(
        (a, b) =>
          (a.handRaisedAt ?? "~").localeCompare(b.handRaisedAt ?? "~") || a.name.localeCompare(b.name),
      );
      for (const peer of peers) {
        rows.push(
          h(
            "li",
            {
              "data-testid": `participant-${peer.id}`,
              "data-hand": String(peer.hand),
              "data-muted": String(peer.muted),
              "data-reconnecting": String(peer.reconnecting),
            },
            h(
              "span",
              { class: "name" },
              peer.name,
              peer.role === "host" ? " (host)" : peer.role === "cohost" ? " (co-host)" : "",
            ),
            h(
              "span",
              { class: "state" },
              peer.reconnecting ? "reconnecting… · " : "",
              peer.muted ? "muted" : "mic on",
              peer.hand ? " · hand" : "",
            ),
            host
              ? h(
                  "span",
                  { class: "host-actions" },
                  peer.hand
                    ? h(
                        "button",
                        {
                          class: "btn-small",
                          "data-testid": `lower-hand-${peer.id}`,
                          onclick: act(() => session.lowerHand(peer.id)),
                        },
                        "Lower hand",
                      )
                    : null,
                  peer.muted
                    ? null
                    : h(
                        "button",
                        {
                          class: "btn-small",
                          "data-testid": `mute-${peer.id}`,
                          onclick: act(() => session.muteParticipant(peer.id)),
                        },
                        "Mute",
                      ),
                  peer.videoOn
                    ? h(
                        "button",
                        {
                          class: "btn-small",
                          "data-testid": `stop-video-${peer.id}`,
                          onclick: act(() => session.stopVideo(peer.id)),
                        },
                        "Stop video",
                      )
                    : null,
                  peer.role === "member"
                    ? h(
                        "button",
                        {
                          class: "btn-small",
                          "data-testid": `promote-${peer.id}`,
                          onclick: act(() => session.promote(peer.id)),
                        },
                        "Make co-host",
                      )
                    : null,
                  h(
                    "button",
                    {
                      class: "btn-small danger",
                      "data-testid": `remove-${peer.id}`,
                      onclick: act(() => session.removeParticipant(peer.id)),
                    },
                    "Remove",
                  ),
                )
              : null,
          ),
        );
      }
      list.replaceChildren(...rows);
      count.textContent = String(rows.length);
      lockBtn.hidden = !host;
      lockBtn.textContent = session.locked ? "Unlock meeting" : "Lock meeting";
      lockBtn.setAttribute("aria-pressed", String(session.locked));
      hostBar.hidden = !host;
      lobbyBtn.hidden = !host;
      lobbyBtn.textContent = session.lobbyEnabled ? "Turn lobby off" : "Turn lobby on";
      lobbyBtn.setAttribute("aria-pressed", String(session.lobbyEnabled));
      endBtn.hidden = !host;
      lobbySection.hidden = !host || session.lobby.length === 0;
      lobbyList.replaceChildren(
        ...session.lobby.map((entry) =>
          h(
            "li",
            { "data-testid": `lobby-entry-${entry.participantId}` },
            h("span", { class: "name" }, entry.name),
            h(
              "button",
              {
                class: "btn-small",
                "data-testid": `admit-${entry.participantId}`,
                onclick: act(() => session.admit(entry.participantId)),
              },
              "Admit",
            ),
            h(
              "button",
              {
                class: "btn-small danger",
                "data-testid": `deny-${entry.participantId}`,
                onclick: act(() => session.deny(entry.participantId)),
              },
              "Deny",
            ),
          ),
        ),
      );
    },
  };
}
