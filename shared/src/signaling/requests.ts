import * as v from "valibot";
import { RoomSettingsSchema } from "../meeting.js";
import {
  DtlsParametersSchema,
  IceCandidateSchema,
  IceParametersSchema,
  MediaKindSchema,
  RtpCapabilitiesSchema,
  RtpParametersSchema,
} from "./media-types.js";
import { MEETING_REQUESTS } from "./meeting.js";
import { MediaSourceSchema, PeerInfoSchema } from "./peer.js";
import { RECORDING_REQUESTS, RecordingStateSchema } from "./recording.js";

/*
 * Every client -> server request: the schema of its data and of the data of its success ack.
 * Field names are snake_case like the REST API; mediasoup structures nest unchanged (see media-types.ts).
 * To add a message: add one entry here and one handler in media/src/handlers/; both sides are typed from it.
 */

/** Longest id a request may carry (shared with fast-parse.ts). */
export const MAX_ID = 128;
const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_ID));
const Empty = v.object({});

export const TransportDirectionSchema = v.picklist(["send", "recv"]);

export const MeetingSettingsWireSchema = RoomSettingsSchema;

const ProducerRef = v.object({ producer_id: Id });

export const REQUESTS = {
  /**
   * The first message after connecting (the join token was checked at upgrade). With the lobby on, a
   * participant who is not a host is answered `{ lobby: true, ... }` (no router, no peers) and waits for
   * lobby-admitted, then sends join-meeting again.
   */
  "join-meeting": {
    data: v.object({}),
    ack: v.union([
      v.object({
        lobby: v.optional(v.literal(false)),
        meeting_id: v.string(),
        participant_id: v.string(),
        display_name: v.string(),
        role: v.string(),
        router_rtp_capabilities: RtpCapabilitiesSchema,
        /** Everybody else already in the room, with their producers. */
        peers: v.array(PeerInfoSchema),
        settings: MeetingSettingsWireSchema,
        /** The meeting's current lobby and lock switches, so a host's controls start in the right state. */
        lobby_enabled: v.optional(v.boolean()),
        locked: v.optional(v.boolean()),
        /** Present it as `?resume=` to take this peer back after a dropped connection. */
        resume_token: v.string(),
        /** How long the host keeps this peer after its connection drops: the window for a resume. */
        reconnect_grace_ms: v.optional(v.number()),
        /** True when this connection took over a peer kept through the reconnect grace period. */
        resumed: v.boolean(),
        /** Transports and producers that survived (only when resumed): restart ICE on them. */
        transport_ids: v.array(v.string()),
        producer_ids: v.array(v.string()),
        /** The recording under way, if any (so a late joiner shows the indicator). */
        recording: v.optional(v.nullable(RecordingStateSchema)),
      }),
      v.object({
        lobby: v.literal(true),
        meeting_id: v.string(),
        participant_id: v.string(),
        display_name: v.string(),
        role: v.string(),
      }),
    ]),
  },
  "leave-meeting": { data: Empty, ack: Empty },
  "create-transport": {
    data: v.object({ direction: TransportDirectionSchema }),
    ack: v.object({
      transport_id: v.string(),
      ice_parameters: IceParametersSchema,
      ice_candidates: v.array(IceCandidateSchema),
      dtls_parameters: DtlsParametersSchema,
    }),
  },
  "connect-transport": {
    data: v.object({ transport_id: Id, dtls_parameters: DtlsParametersSchema }),
    ack: Empty,
  },
  "restart-ice": {
    data: v.object({ transport_id: Id }),
    ack: v.object({ ice_parameters: IceParametersSchema }),
  },
  produce: {
    data: v.object({
      transport_id: Id,
      kind: MediaKindSchema,
      rtp_parameters: RtpParametersSchema,
      source: MediaSourceSchema,
      paused: v.optional(v.boolean()),
    }),
    ack: v.object({ producer_id: v.string() }),
  },
  consume: {
    data: v.object({ transport_id: Id, producer_id: Id, rtp_capabilities: RtpCapabilitiesSchema }),
    ack: v.object({
      consumer_id: v.string(),
      producer_id: v.string(),
      participant_id: v.string(),
      kind: MediaKindSchema,
      source: MediaSourceSchema,
      rtp_parameters: RtpParametersSchema,
      /** "simulcast" when the producer sends several spatial layers. */
      type: v.string(),
      producer_paused: v.boolean(),
    }),
  },
  "resume-consumer": { data: v.object({ consumer_id: Id }), ack: Empty },
  "set-preferred-layers": {
    data: v.object({
      consumer_id: Id,
      spatial_layer: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3)),
      temporal_layer: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3))),
    }),
    ack: Empty,
  },
  "pause-producer": { data: ProducerRef, ack: Empty },
  "resume-producer": { data: ProducerRef, ack: Empty },
  "close-producer": { data: ProducerRef, ack: Empty },
  /** Absent `muted` flips the current state; the ack says where it landed. */
  "toggle-mute": {
    data: v.object({ muted: v.optional(v.boolean()) }),
    ack: v.object({ muted: v.boolean() }),
  },
  "toggle-video": {
    data: v.object({ video_on: v.optional(v.boolean()) }),
    ack: v.object({ video_on: v.boolean() }),
  },
  /** Takes the sharing slot (refused with `conflict` when another peer shares and the meeting allows one). */
  "start-screen-share": { data: Empty, ack: Empty },
  /** Closes this peer's screen producers and frees the slot. */
  "stop-screen-share": { data: Empty, ack: Empty },
  "get-stats": {
    data: v.object({ target: v.picklist(["transport", "producer", "consumer"]), id: Id }),
    ack: v.object({ stats: v.array(v.unknown()) }),
  },
  ...MEETING_REQUESTS,
  ...RECORDING_REQUESTS,
} as const satisfies Record<string, { data: v.GenericSchema; ack: v.GenericSchema }>;

export type RequestType = keyof typeof REQUESTS;
export const REQUEST_TYPES = Object.keys(REQUESTS) as RequestType[];
export type RequestData<T extends RequestType> = v.InferOutput<(typeof REQUESTS)[T]["data"]>;
/** What the caller may pass (optional fields may be left out). */
export type RequestInput<T extends RequestType> = v.InferInput<(typeof REQUESTS)[T]["data"]>;
export type AckData<T extends RequestType> = v.InferOutput<(typeof REQUESTS)[T]["ack"]>;

/** The two answers to join-meeting: in the room, or waiting in the lobby (narrow with `if (ack.lobby)`). */
export type JoinedAck = Exclude<AckData<"join-meeting">, { lobby: true }>;
export type LobbyAck = Extract<AckData<"join-meeting">, { lobby: true }>;

export const isRequestType = (type: string): type is RequestType => Object.hasOwn(REQUESTS, type);

/** The discriminated union of requests as a type, built from the table above. */
export type ClientRequest = {
  [K in RequestType]: { id: string | number; type: K; data: RequestData<K> };
}[RequestType];
