import { joined } from "./guards.js";
import { defineHandlers } from "./types.js";

export const mediaHandlers = defineHandlers({
  "create-transport": (ctx, data) => {
    const { room, peer } = joined(ctx);
    return room.createTransport(peer, data.direction);
  },
  "connect-transport": async (ctx, data) => {
    const { room, peer } = joined(ctx);
    await room.connectTransport(peer, data.transport_id, data.dtls_parameters);
    return {};
  },
  "restart-ice": (ctx, data) => {
    const { room, peer } = joined(ctx);
    return room.restartIce(peer, data.transport_id);
  },
  produce: async (ctx, data) => {
    const { room, peer } = joined(ctx);
    const producer = await room.produce(peer, data);
    return { producer_id: producer.id };
  },
  consume: (ctx, data) => {
    const { room, peer } = joined(ctx);
    return room.consume(peer, data);
  },
  "resume-consumer": async (ctx, data) => {
    const { room, peer } = joined(ctx);
    await room.resumeConsumer(peer, data.consumer_id);
    return {};
  },
  "set-preferred-layers": async (ctx, data) => {
    const { room, peer } = joined(ctx);
    await room.setPreferredLayers(peer, data.consumer_id, data.spatial_layer, data.temporal_layer);
    return {};
  },
  "pause-producer": async (ctx, data) => {
    const { room, peer } = joined(ctx);
    await room.pauseProducer(peer, data.producer_id);
    return {};
  },
  "resume-producer": async (ctx, data) => {
    const { room, peer } = joined(ctx);
    await room.resumeProducer(peer, data.producer_id);
    return {};
  },
  "close-producer": (ctx, data) => {
    const { room, peer } = joined(ctx);
    room.closeProducer(peer, data.producer_id);
    return {};
  },
  "get-stats": async (ctx, data) => {
    const { room, peer } = joined(ctx);
    return { stats: await room.stats(peer, data.target, data.id) };
  },
});
