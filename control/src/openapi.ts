import { ErrorBodySchema, PageQuerySchema } from "@nexus/shared/rest/common";
import {
  CreatedGuestLinkSchema,
  CreateGuestLinkBodySchema,
  GuestJoinBodySchema,
  GuestLinkInfoBodySchema,
  GuestLinkInfoSchema,
  GuestLinkListSchema,
} from "@nexus/shared/rest/guest-links";
import { HealthSchema } from "@nexus/shared/rest/health";
import { JoinAnswerSchema, JoinBodySchema } from "@nexus/shared/rest/join";
import {
  CreateMeetingBodySchema,
  ListMeetingsQuerySchema,
  MeetingPageSchema,
  MeetingSchema,
  UpdateMeetingBodySchema,
} from "@nexus/shared/rest/meetings";
import { ListMessagesQuerySchema, MessagePageSchema } from "@nexus/shared/rest/messages";
import { ListParticipantsQuerySchema, ParticipantPageSchema } from "@nexus/shared/rest/participants";
import {
  RecordingFileQuerySchema,
  RecordingPageSchema,
  RecordingSchema,
} from "@nexus/shared/rest/recordings";
import { MeetingStatsSchema } from "@nexus/shared/rest/stats";
import {
  CreateWebhookBodySchema,
  ListWebhookDeliveriesQuerySchema,
  UpdateWebhookBodySchema,
  WebhookDeliveryPageSchema,
  WebhookDeliverySchema,
  WebhookPageSchema,
  WebhookSchema,
  WebhookWithSecretSchema,
} from "@nexus/shared/rest/webhooks";
import { type JsonSchema, toJsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";

type Schema = v.GenericSchema;

interface Operation {
  method: "get" | "post" | "put" | "delete";
  path: string;
  summary: string;
  auth?: boolean;
  query?: Schema;
  body?: Schema;
  ok: { status: number; schema?: Schema; description?: string };
  errors: number[];
}

/** The same valibot schemas that validate requests describe them, so the document cannot drift. */
const OPERATIONS: readonly Operation[] = [
  {
    method: "get",
    path: "/api/meetings",
    summary: "List the tenant's meetings (newest first, cursor pagination)",
    query: ListMeetingsQuerySchema,
    ok: { status: 200, schema: MeetingPageSchema },
    errors: [400, 401],
  },
  {
    method: "post",
    path: "/api/meetings",
    summary: "Create a meeting (admin, host)",
    body: CreateMeetingBodySchema,
    ok: { status: 201, schema: MeetingSchema },
    errors: [400, 401, 403, 413],
  },
  {
    method: "get",
    path: "/api/meetings/{id}",
    summary: "Get a meeting",
    ok: { status: 200, schema: MeetingSchema },
    errors: [401, 404],
  },
  {
    method: "put",
    path: "/api/meetings/{id}",
    summary: "Update a meeting (partial; password null clears it)",
    body: UpdateMeetingBodySchema,
    ok: { status: 200, schema: MeetingSchema },
    errors: [400, 401, 403, 404, 409, 413],
  },
  {
    method: "delete",
    path: "/api/meetings/{id}",
    summary: "Delete a meeting (ends it first when active)",
    ok: { status: 204, description: "deleted" },
    errors: [401, 403, 404],
  },
  {
    method: "post",
    path: "/api/meetings/{id}/start",
    summary: "Start a scheduled meeting",
    ok: { status: 200, schema: MeetingSchema },
    errors: [401, 403, 404, 409],
  },
  {
    method: "post",
    path: "/api/meetings/{id}/end",
    summary: "End an active meeting",
    ok: { status: 200, schema: MeetingSchema },
    errors: [401, 403, 404, 409],
  },
  {
    method: "post",
    path: "/api/meetings/{id}/join",
    summary: "Place the caller on a media host and get a short-lived join token",
    body: JoinBodySchema,
    ok: { status: 200, schema: JoinAnswerSchema },
    errors: [400, 401, 403, 404, 409, 423, 429, 503],
  },
  {
    method: "get",
    path: "/api/meetings/{id}/participants",
    summary: "Participants, live and past",
    query: ListParticipantsQuerySchema,
    ok: { status: 200, schema: ParticipantPageSchema },
    errors: [400, 401, 404],
  },
  {
    method: "get",
    path: "/api/meetings/{id}/stats",
    summary: "Meeting statistics",
    ok: { status: 200, schema: MeetingStatsSchema },
    errors: [401, 404],
  },
  {
    method: "get",
    path: "/api/meetings/{id}/messages",
    summary: "Chat history by sequence number (direct messages only for sender and recipient)",
    query: ListMessagesQuerySchema,
    ok: { status: 200, schema: MessagePageSchema },
    errors: [400, 401, 404],
  },
  {
    method: "get",
    path: "/api/meetings/{id}/recordings",
    summary: "Recordings of a meeting",
    query: PageQuerySchema,
    ok: { status: 200, schema: RecordingPageSchema },
    errors: [400, 401, 404],
  },
  {
    method: "post",
    path: "/api/meetings/{id}/recordings",
    summary: "Start recording a live meeting (its host or an admin); answers once the media host has started",
    ok: { status: 201, schema: RecordingSchema },
    errors: [401, 403, 404, 409, 503],
  },
  {
    method: "post",
    path: "/api/meetings/{id}/recordings/{recordingId}/stop",
    summary: "Stop a recording; answers once its files are closed",
    ok: { status: 200, schema: RecordingSchema },
    errors: [401, 403, 404, 503],
  },
  {
    method: "get",
    path: "/api/recordings/{recordingId}",
    summary: "One recording with its tracks and files",
    ok: { status: 200, schema: RecordingSchema },
    errors: [401, 404],
  },
  {
    method: "get",
    path: "/api/recordings/{recordingId}/file",
    summary: "Download the composite, or one track with ?track=<id>; honours Range",
    query: RecordingFileQuerySchema,
    ok: { status: 200, description: "the media file (206 for a range)" },
    errors: [401, 404, 409, 416],
  },
  {
    method: "delete",
    path: "/api/recordings/{recordingId}",
    summary: "Delete a finished recording and its files (its meeting's host or an admin)",
    ok: { status: 204 },
    errors: [401, 403, 404, 409],
  },
  {
    method: "get",
    path: "/api/meetings/{id}/invite.ics",
    summary: "The meeting as an iCalendar invitation (RFC 5545; METHOD:CANCEL once deleted)",
    ok: { status: 200, description: "text/calendar" },
    errors: [401, 404, 409],
  },
  {
    method: "post",
    path: "/api/meetings/{id}/guest-links",
    summary: "Create a guest link (the meeting's hosts); the answer carries the link, shown only here",
    body: CreateGuestLinkBodySchema,
    ok: { status: 201, schema: CreatedGuestLinkSchema },
    errors: [400, 401, 403, 404, 409, 413],
  },
  {
    method: "get",
    path: "/api/meetings/{id}/guest-links",
    summary: "The meeting's guest links with their use counts (the meeting's hosts)",
    ok: { status: 200, schema: GuestLinkListSchema },
    errors: [401, 403, 404],
  },
  {
    method: "delete",
    path: "/api/meetings/{id}/guest-links/{linkId}",
    summary: "Revoke a guest link",
    ok: { status: 204, description: "revoked" },
    errors: [401, 403, 404],
  },
  {
    method: "post",
    path: "/guest/link",
    summary: "What a guest link opens (no account needed)",
    auth: false,
    body: GuestLinkInfoBodySchema,
    ok: { status: 200, schema: GuestLinkInfoSchema },
    errors: [400, 403, 404],
  },
  {
    method: "post",
    path: "/guest/join",
    summary: "Join through a guest link with a display name (no account; role guest, lobby unless waived)",
    auth: false,
    body: GuestJoinBodySchema,
    ok: { status: 200, schema: JoinAnswerSchema },
    errors: [400, 403, 404, 409, 423, 503],
  },
  {
    method: "get",
    path: "/api/webhooks",
    summary: "The tenant's webhook endpoints (admin)",
    ok: { status: 200, schema: WebhookPageSchema },
    errors: [401, 403],
  },
  {
    method: "post",
    path: "/api/webhooks",
    summary: "Register a webhook endpoint (admin); the answer carries the signing secret, shown only here",
    body: CreateWebhookBodySchema,
    ok: { status: 201, schema: WebhookWithSecretSchema },
    errors: [400, 401, 403, 409, 413],
  },
  {
    method: "get",
    path: "/api/webhooks/{id}",
    summary: "Get a webhook endpoint (admin)",
    ok: { status: 200, schema: WebhookSchema },
    errors: [401, 403, 404],
  },
  {
    method: "put",
    path: "/api/webhooks/{id}",
    summary: "Update a webhook endpoint (admin); rotate_secret answers the new secret once",
    body: UpdateWebhookBodySchema,
    ok: { status: 200, schema: WebhookSchema },
    errors: [400, 401, 403, 404, 413],
  },
  {
    method: "delete",
    path: "/api/webhooks/{id}",
    summary: "Delete a webhook endpoint and its delivery log (admin)",
    ok: { status: 204, description: "deleted" },
    errors: [401, 403, 404],
  },
  {
    method: "get",
    path: "/api/webhooks/{id}/deliveries",
    summary: "Delivery log of an endpoint (newest first, cursor pagination)",
    query: ListWebhookDeliveriesQuerySchema,
    ok: { status: 200, schema: WebhookDeliveryPageSchema },
    errors: [400, 401, 403, 404],
  },
  {
    method: "post",
    path: "/api/webhooks/{id}/deliveries/{deliveryId}/redeliver",
    summary: "Send a delivery's event again, as a new delivery",
    ok: { status: 202, schema: WebhookDeliverySchema },
    errors: [401, 403, 404],
  },
  {
    method: "get",
    path: "/health",
    summary: "Database and bus reachability",
    auth: false,
    ok: { status: 200, schema: HealthSchema },
    errors: [503],
  },
];

const ERROR_TEXT: Record<number, string> = {
  400: "validation_failed or bad_request",
  401: "unauthorized or wrong_password",
  403: "forbidden",
  404: "not_found",
  409: "invalid_state, conflict or meeting_full",
  413: "payload_too_large",
  416: "range not satisfiable",
  423: "meeting_locked",
  429: "rate_limited (wrong passwords; see Retry-After)",
  503: "no_media_host or unavailable",
};

function json(schema: Schema, mode: "input" | "output"): JsonSchema {
  const { $schema: _drop, ...rest } = toJsonSchema(schema, {
    target: "draft-2020-12",
    typeMode: mode,
    errorMode: "ignore",
  });
  return rest;
}

function queryParameters(schema: Schema) {
  const s = json(schema, "input");
  const required = new Set(s.required ?? []);
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
    name,
    in: "query",
    required: required.has(name),
    schema: prop,
  }));
}

export function buildOpenApi() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const parameters: unknown[] = [];
    for (const [, name] of op.path.matchAll(/\{(\w+)\}/g)) {
      parameters.push({ name, in: "path", required: true, schema: { type: "string", format: "uuid" } });
    }
    if (op.path.includes("{recordingId}")) {
      parameters.push({
        name: "recordingId",
        in: "path",
        required: true,
        schema: { type: "string", format: "uuid" },
      });
    }
    if (op.query) parameters.push(...queryParameters(op.query));
    const responses: Record<string, unknown> = {
      [op.ok.status]: op.ok.schema
        ? {
            description: "success",
            content: { "application/json": { schema: json(op.ok.schema, "output") } },
          }
        : { description: op.ok.description ?? "success" },
    };
    for (const status of op.errors) {
      responses[status] = {
        description: ERROR_TEXT[status] ?? "error",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      };
    }
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      operationId: `${op.method}${op.path.replace(/[{}]/g, "").replace(/\/(\w)/g, (_, ch: string) => ch.toUpperCase())}`,
      ...(op.auth === false ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: json(op.body, "input") } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "NEXUS Meet control API",
      version: "0.1.0",
      description: "Meetings, placement on media hosts and meeting history. Bodies are snake_case JSON.",
    },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: { Error: json(ErrorBodySchema, "output") },
    },
    paths,
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApi>;
