/**
 * What one participant may hold on a media host. Each is a setting (MEDIA_MAX_*; media/src/config.ts checks
 * the ranges); a request past one is refused `rate_limited` and changes nothing.
 */
export interface PeerLimits {
  /** Peers one user may hold at once in one meeting (tabs, devices); a rejoin past it is refused. */
  peersPerUser: number;
  /** WebRTC transports per peer (a client needs one send and one receive transport). */
  transports: number;
  /** Producers per peer (mic, camera, screen, screen audio, with room for a replaced track). */
  producers: number;
  /** Consumers per peer, all producers together. */
  consumers: number;
  /** Consumers per peer of one producer (a client consumes each once; one spare for a retry). */
  consumersPerProducer: number;
}

export const DEFAULT_PEER_LIMITS: PeerLimits = {
  peersPerUser: 2,
  transports: 4,
  producers: 8,
  consumers: 1000,
  consumersPerProducer: 2,
};
