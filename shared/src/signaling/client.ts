import type { ErrorCode } from "@nexus/shared/errors";
import * as v from "valibot";
import { AckEnvelopeSchema, type MessageId, NotificationEnvelopeSchema } from "./envelope.js";
import {
  isNotificationType,
  NOTIFICATIONS,
  type NotificationData,
  type NotificationType,
  type ServerNotification,
} from "./notifications.js";
import { type AckData, REQUESTS, type RequestInput, type RequestType } from "./requests.js";

/**
 * The part of a WebSocket the client needs. A browser WebSocket and a `ws` WebSocket both fit; the
 * caller opens it, so this module does no I/O of its own.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: "open" | "message" | "close" | "error",
    listener: (event: SocketEvent) => void,
  ): void;
}

export interface SocketEvent {
  /** Every DOM and `ws` event has one; naming it keeps those event types assignable to this one. */
  type?: string;
  data?: unknown;
  code?: number;
  reason?: string;
}

const OPEN = 1;
const CLOSING = 2;

/** A request the server refused (or one that never got an answer: code `unavailable`). */
export class SignalingError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "SignalingError";
  }
}

export interface SignalingClientOptions {
  /** How long a request waits for its ack (default 10 s). */
  timeoutMs?: number;
  /** How many past notifications waitFor() can look back on (default 500). */
  historySize?: number;
  /** Something arrived that does not match the protocol; the client ignores it and tells you here. */
  onProtocolError?: (problem: string, raw: unknown) => void;
}

type Handler<T extends NotificationType> = (data: NotificationData<T>) => void;

interface Pending {
  type: RequestType;
  resolve: (data: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Speaks the signaling protocol: typed requests answered by acks, typed notifications. */
export class SignalingClient {
  private nextId = 1;
  private readonly pending = new Map<MessageId, Pending>();
  private readonly handlers = new Map<NotificationType, Set<(data: unknown) => void>>();
  private readonly closeHandlers = new Set<(code: number, reason: string) => void>();
  private readonly history: ServerNotification[] = [];
  private readonly timeoutMs: number;
  private readonly historySize: number;
  private closed = false;
  private readonly openPromise: Promise<void>;

  constructor(
    readonly socket: WebSocketLike,
    private readonly options: SignalingClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.historySize = options.historySize ?? 500;
    this.openPromise = new Promise((resolve, reject) => {
      if (socket.readyState === OPEN) resolve();
      socket.addEventListener("open", () => resolve());
      socket.addEventListener("close", (event) =>
        reject(
          new SignalingError("unavailable", `connection closed (${event.code ?? 0} ${event.reason ?? ""})`),
        ),
      );
    });
    // An unobserved rejection of the open promise must not become an unhandled rejection.
    this.openPromise.catch(() => {});
    socket.addEventListener("message", (event) => this.handleMessage(event.data));
    socket.addEventListener("close", (event) => this.handleClose(event.code ?? 1006, event.reason ?? ""));
  }

  /** Resolves once the socket is open; rejects if it closes first (e.g. the host refused the token). */
  opened(): Promise<void> {
    return this.openPromise;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async request<T extends RequestType>(
    type: T,
    data: RequestInput<T>,
    options: { timeoutMs?: number } = {},
  ): Promise<AckData<T>> {
    if (this.closed || this.socket.readyState >= CLOSING) {
      throw new SignalingError("unavailable", "connection closed");
    }
    const id = this.nextId++;
    return new Promise<AckData<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new SignalingError(
            "unavailable",
            `no answer to ${type} within ${options.timeoutMs ?? this.timeoutMs} ms`,
          ),
        );
      }, options.timeoutMs ?? this.timeoutMs);
      this.pending.set(id, { type, resolve: resolve as (d: unknown) => void, reject, timer });
      try {
        this.socket.send(JSON.stringify({ id, type, data }));
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new SignalingError("unavailable", `send failed: ${(error as Error).message}`));
      }
    });
  }

  /** Subscribes to one notification type; returns the unsubscribe function. */
  on<T extends NotificationType>(type: T, handler: Handler<T>): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    const h = handler as (data: unknown) => void;
    set.add(h);
    return () => set.delete(h);
  }

  onClose(handler: (code: number, reason: string) => void): () => void {
    this.closeHandlers.add(handler);
    return () => this.closeHandlers.delete(handler);
  }

  /** Notifications received so far (the most recent historySize), oldest first. */
  received<T extends NotificationType>(type: T): NotificationData<T>[] {
    return this.history.filter((n) => n.type === type).map((n) => n.data as NotificationData<T>);
  }

  /**
   * The first notification of this type matching the predicate, looking at the ones already received too,
   * so a test or a page never misses an event that arrived before it started waiting.
   */
  waitFor<T extends NotificationType>(
    type: T,
    predicate: (data: NotificationData<T>) => boolean = () => true,
    options: { timeoutMs?: number; includePast?: boolean } = {},
  ): Promise<NotificationData<T>> {
    if (options.includePast ?? true) {
      const past = this.received(type).find(predicate);
      if (past) return Promise.resolve(past);
    }
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new SignalingError("unavailable", `no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(type, (data) => {
        if (!predicate(data)) return;
        clearTimeout(timer);
        off();
        resolve(data);
      });
    });
  }

  /** Idempotent: closes the socket and fails every request still waiting. */
  close(code = 1000, reason = "client closed"): void {
    if (!this.closed && this.socket.readyState < CLOSING) this.socket.close(code, reason);
    this.failPending("connection closed");
    this.closed = true;
  }

  private handleClose(code: number, reason: string): void {
    const first = !this.closed;
    this.closed = true;
    this.failPending(`connection closed (${code} ${reason})`);
    if (first) for (const handler of this.closeHandlers) handler(code, reason);
  }

  private failPending(message: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new SignalingError("unavailable", message));
    }
  }

  private handleMessage(raw: unknown): void {
    let message: unknown;
    try {
      message = JSON.parse(decode(raw));
    } catch {
      this.options.onProtocolError?.("not JSON", raw);
      return;
    }
    if (typeof message === "object" && message !== null && "id" in message) {
      this.onAck(message);
    } else {
      this.onNotification(message);
    }
  }

  private onAck(message: unknown): void {
    const ack = v.safeParse(AckEnvelopeSchema, message);
    if (!ack.success) {
      this.options.onProtocolError?.("malformed ack", message);
      return;
    }
    const id = ack.output.id;
    if (id === null) {
      this.options.onProtocolError?.("server refused a message without id", message);
      return;
    }
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (!ack.output.success) {
      pending.reject(new SignalingError(ack.output.error.code, ack.output.error.message));
      return;
    }
    const data = v.safeParse(REQUESTS[pending.type].ack, ack.output.data);
    if (!data.success) {
      this.options.onProtocolError?.(`ack of ${pending.type} does not match its schema`, message);
      pending.reject(new SignalingError("internal", `malformed answer to ${pending.type}`));
      return;
    }
    pending.resolve(data.output);
  }

  private onNotification(message: unknown): void {
    const envelope = v.safeParse(NotificationEnvelopeSchema, message);
    if (!envelope.success || !isNotificationType(envelope.output.type)) {
      this.options.onProtocolError?.("unknown notification", message);
      return;
    }
    const type = envelope.output.type;
    const data = v.safeParse(NOTIFICATIONS[type], envelope.output.data);
    if (!data.success) {
      this.options.onProtocolError?.(`${type} does not match its schema`, message);
      return;
    }
    this.history.push({ type, data: data.output } as ServerNotification);
    if (this.history.length > this.historySize) this.history.shift();
    for (const handler of this.handlers.get(type) ?? []) handler(data.output);
  }
}

function decode(raw: unknown): string {
  if (typeof raw === "string") return raw;
  if (raw instanceof ArrayBuffer || ArrayBuffer.isView(raw))
    return new TextDecoder().decode(raw as ArrayBuffer);
  return String(raw);
}
