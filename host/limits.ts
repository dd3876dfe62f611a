/**
 * Every numeric cap and default of the broker, in one place. Each name carries its unit.
 */

/** Default TCP port of `broker serve`. Outside the ephemeral range (32768–60999) on purpose. */
export const DEFAULT_PORT = 10241;
/** Default bind address: loopback, so that a fresh install is not exposed to the network. */
export const DEFAULT_HOST = '127.0.0.1';
/** Largest frame body accepted from a peer or sent by a plugin (1 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
/** Hard ceiling for `maxFrameBytes`: bodies are buffered whole, so keep them far below the heap. */
export const MAX_FRAME_BYTES_CEILING = 256 * 1024 * 1024;
/** Digits a length header may have ("at most 10 digits" covers every value up to the ceiling). */
export const MAX_LENGTH_DIGITS = 10;
/** Bytes queued for one peer (unsent by the kernel plus pending) before `channel-send` returns false (8 MiB). */
export const DEFAULT_MAX_OUTBOUND_BYTES = 8 * 1024 * 1024;
/** Bytes of channel data (`channel-set-data`) a plugin may keep per channel (`--channel-data-max-bytes`). */
export const DEFAULT_CHANNEL_DATA_MAX_BYTES = 4096;
/** Ceiling of `--channel-data-max-bytes` (1 MiB): the data of every channel lives in the broker's heap. */
export const CHANNEL_DATA_MAX_BYTES_CEILING = 1024 * 1024;
/** Default of `--record-max-bytes`: most bytes a `--record` file grows to (64 MiB). */
export const DEFAULT_RECORD_MAX_BYTES = 64 * 1024 * 1024;
/** Listen backlog: sized for reconnect bursts (the original broker's backlog of 5 stalled 50 connects). */
export const DEFAULT_LISTEN_BACKLOG = 4096;
/** How long a drain (SIGTERM, `stop()`) lets outbound queues flush before closing every channel. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 5000;
/** After `handle-broken(shutdown)`, how long sockets may take to close before they are destroyed. */
export const CLOSE_LINGER_MS = 2000;
/** The broker sends a heartbeat after this much inbound silence on a connection. */
export const DEFAULT_PING_INTERVAL_MS = 15_000;
/** A connection with no inbound frame (heartbeats count) for this long is closed (heartbeat-timeout). */
export const DEFAULT_IDLE_TIMEOUT_MS = 45_000;
/** With an auth deadline, frames an unauthenticated connection may hand the plugin. */
export const DEFAULT_PRE_AUTH_MAX_FRAMES = 8;
/** With an auth deadline, body bytes an unauthenticated connection may hand the plugin (64 KiB). */
export const DEFAULT_PRE_AUTH_MAX_BYTES = 64 * 1024;
/** Token-bucket capacity, in seconds of the configured rate. */
export const DEFAULT_RATE_BURST = 2;
/** Open connections per process. The process may hold 20 000 files here; keep room for the rest. */
export const DEFAULT_MAX_CONNECTIONS = 19_000;
/** Longest plugin log message kept, in bytes of UTF-8 (longer ones are cut). */
export const MAX_PLUGIN_LOG_BYTES = 4096;
/** Re-instantiations after failures allowed within `PLUGIN_RESTART_WINDOW_MS` before the plugin is declared failed. */
export const MAX_PLUGIN_RESTARTS_PER_WINDOW = 50;
/** Window for `MAX_PLUGIN_RESTARTS_PER_WINDOW`. */
export const PLUGIN_RESTART_WINDOW_MS = 60_000;
/** Backoff before the 2nd restart within the window; it doubles for each further one. The 1st is immediate. */
export const PLUGIN_RESTART_BACKOFF_BASE_MS = 1;
/** Longest backoff between two restarts. */
export const PLUGIN_RESTART_BACKOFF_MAX_MS = 500;
/** Calls held for a plugin while it restarts (backoff, worker start) before the channel is failed instead. */
export const MAX_PLUGIN_PENDING_CALLS = 65_536;
/** Default cap on a plugin's linear memory, in MiB (`--plugin-memory-max-mb`). */
export const DEFAULT_PLUGIN_MEMORY_MAX_MB = 64;
/** Largest memory cap: 4 GiB is all a 32-bit wasm memory can address. */
export const PLUGIN_MEMORY_MAX_MB_CEILING = 4096;
/** Default CPU budget of one plugin call in worker isolation, in ms (`--plugin-call-budget-ms`). */
export const DEFAULT_PLUGIN_CALL_BUDGET_MS = 1000;
/** A plugin's `start` (and `snapshot`/`restore`) gets this many call budgets. */
export const PLUGIN_START_BUDGET_FACTOR = 10;
/** Channel handles are u32; 0 is never a valid handle. */
export const MAX_CHANNEL_ID = 0xffff_ffff;
/** Longest group name, in bytes of UTF-8. */
export const MAX_GROUP_NAME_BYTES = 256;
/** Groups one channel may be in at once. */
export const MAX_GROUPS_PER_CHANNEL = 1024;
/** Slab of the group fan-out stager: consecutive group sends are encoded once into it. */
export const FAN_OUT_SLAB_BYTES = 256 * 1024;
/** Timers one plugin may have armed at once. */
export const MAX_PLUGIN_TIMERS = 100_000;
/**
 * Call bytes in one batch posted to a plugin worker at most (a longer queue goes in several):
 * bounds what one batch's effects queue on the sockets at once, so readers drain between batches.
 */
export const MAX_WORKER_BATCH_BYTES = 256 * 1024;
/**
 * Effect bytes one worker batch produces before the worker stops taking the batch's next call (the
 * rest is posted again): with the per-channel `maxOutboundBytes` check in the worker's
 * `channel-send`, this bounds what one batch hands the I/O thread at once.
 */
export const MAX_WORKER_BATCH_EFFECT_BYTES = 4 * 1024 * 1024;
/**
 * Shared buffer a plugin worker reads each batch's calls from (one per worker): twice
 * `MAX_WORKER_BATCH_BYTES`, so only a batch of one record larger than that travels in a message.
 */
export const WORKER_REQUEST_BUFFER_BYTES = 2 * MAX_WORKER_BATCH_BYTES;
/** Shared buffer a plugin worker writes each batch's effects into (one per worker); larger effects travel in a message. */
export const WORKER_RESULT_BUFFER_BYTES = 1024 * 1024;
/** Upstream handles a plugin worker holds in reserve (refilled with each batch): `upstream-open`s one batch may make. */
export const WORKER_UPSTREAM_HANDLE_RESERVE = 64;
/** First ejection of an upstream node that refused or dropped a connection lasts about this long (jittered). */
export const UPSTREAM_EJECT_BASE_MS = 100;
/** Longest ejection of an upstream node: the backoff doubles per consecutive failure up to this. */
export const UPSTREAM_EJECT_MAX_MS = 10_000;
/** Points per node on the consistent-hash ring (more: a more even spread). */
export const UPSTREAM_HASH_POINTS_PER_NODE = 160;
/** Longest service name or hash key a plugin may pass to `upstream-open`, in bytes of UTF-8. */
export const MAX_UPSTREAM_KEY_BYTES = 256;
/** How long connecting to an upstream node may take before it counts as refused. */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 2000;

// Admin listener (#11): every request and stream it serves is bounded, so that a flood of admin
// requests costs the I/O thread a bounded share of its time (admin and client listeners share it).
/** Open connections the admin listener holds at most; Node closes further ones at accept. */
export const ADMIN_MAX_CONNECTIONS = 32;
/** How long a client may take to send a request's headers. */
export const ADMIN_HEADERS_TIMEOUT_MS = 5000;
/** How long a client may take to send a whole request (headers and body). */
export const ADMIN_REQUEST_TIMEOUT_MS = 10_000;
/** An idle keep-alive admin connection is closed after this long. */
export const ADMIN_KEEP_ALIVE_TIMEOUT_MS = 5000;
/** Largest request header block (Node's `maxHeaderSize`): 16 KiB. */
export const ADMIN_MAX_HEADER_BYTES = 16 * 1024;
/** Largest request body (POST): 64 KiB; a larger one is refused with 413. */
export const ADMIN_MAX_BODY_BYTES = 64 * 1024;
/** Admin requests served per second; further ones wait for their turn (token bucket). */
export const ADMIN_MAX_REQUESTS_PER_S = 100;
/** Token bucket capacity of the admin request rate: a burst of this many is served at once. */
export const ADMIN_REQUEST_BURST = 200;
/** A request that would wait longer than this for its turn is refused with 429 instead. */
export const ADMIN_MAX_QUEUE_WAIT_MS = 5000;
/** Requests one admin connection may have in progress (pipelined) before it is closed. */
export const ADMIN_MAX_REQUESTS_PER_CONNECTION = 4;
/** Dashboard event streams (SSE) open at once; one more is refused with 503. */
export const ADMIN_MAX_EVENT_STREAMS = 8;
/** Interval of the dashboard's event stream (one snapshot per tick, shared by every stream). */
export const ADMIN_EVENTS_INTERVAL_MS = 1000;
/** Page size of the admin API's lists when `limit` is not given. */
export const ADMIN_DEFAULT_PAGE_LIMIT = 100;
/** Largest `limit` of the admin API's lists. */
export const ADMIN_MAX_PAGE_LIMIT = 1000;
/** Groups the dashboard shows (the largest). */
export const DASHBOARD_TOP_GROUPS = 10;
/** Default interval of the `closed connections` summary log line (0 disables it). */
export const DEFAULT_CLOSE_SUMMARY_INTERVAL_MS = 10_000;
/** One plugin call in this many is timed for plugbroker_plugin_call_duration_seconds (a power of 2). */
export const PLUGIN_CALL_SAMPLE_EVERY = 64;
/** Timed plugin calls kept per export for the dashboard's p50/p99 (the most recent ones). */
export const PLUGIN_CALL_RECENT_SAMPLES = 1024;
/** Default deadline of a TLS handshake or WebSocket upgrade, from the TCP accept (`--handshake-timeout-ms`). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * Socket chunks ws may hold while a WebSocket frame is incomplete: a peer trickling a large frame
 * in tiny TCP segments costs ≈ 100 B of Buffer per segment, so this bounds that to ≈ 0.5 MB.
 */
export const WS_MAX_BUFFERED_CHUNKS = 4096;
/** Fragments of one WebSocket message at most (ws's default is 16 384: a flood of tiny fragments). */
export const WS_MAX_FRAGMENTS = 1024;

// Cluster (#12): brokers joined over NATS (host/cluster/, docs/cluster.md).
/** Default `--cluster-name`: the first subject token under `pb.` of every subject the cluster uses. */
export const DEFAULT_CLUSTER_NAME = 'plugbroker';
/** How often a node announces itself (presence); a node silent for `CLUSTER_NODE_LOST_AFTER_BEATS` intervals is lost. */
export const DEFAULT_CLUSTER_PRESENCE_INTERVAL_MS = 2000;
/** Longest presence interval: `CLUSTER_NODE_LOST_AFTER_BEATS` × it plus one sweep stays within 15 s. */
export const MAX_CLUSTER_PRESENCE_INTERVAL_MS = 4000;
/** Shortest presence interval (tests use short ones; below this the beats themselves become load). */
export const MIN_CLUSTER_PRESENCE_INTERVAL_MS = 20;
/** A node whose presence has not been heard for this many of its intervals is lost: its memberships go. */
export const CLUSTER_NODE_LOST_AFTER_BEATS = 3;
/**
 * For this many presence intervals after a node was lost, a group send that the table says no other
 * node needs is published anyway: a node taken for lost because it was starved of CPU, not dead, is
 * still subscribed and gets the send, instead of losing it silently until its next beat (a send
 * nobody is subscribed to costs NATS one message and nothing else). 30 × 2 s = 1 min by default.
 */
export const CLUSTER_LOSS_GRACE_BEATS = 30;
/** First wait before reconnecting to NATS; doubles per failed attempt up to the maximum, full jitter in [½, 1]. */
export const CLUSTER_RECONNECT_BASE_MS = 100;
/** Longest wait between two reconnect attempts (so traffic resumes within ≈ 5 s of NATS coming back). */
export const CLUSTER_RECONNECT_MAX_MS = 4000;
/** How long one attempt to open a TCP connection to a NATS server may take. */
export const CLUSTER_CONNECT_TIMEOUT_MS = 5000;
/** Client pings to the NATS server: a server silent for `CLUSTER_NATS_MAX_PINGS_OUT` of them is dropped. */
export const CLUSTER_NATS_PING_INTERVAL_MS = 5000;
/** Unanswered client pings before the NATS connection counts as stale and is reconnected. */
export const CLUSTER_NATS_MAX_PINGS_OUT = 2;
/**
 * Bytes published to NATS and not yet acknowledged by the server (a flush round trip) at most: past
 * it cross-node sends are dropped and counted instead of queuing in the process (64 MiB).
 */
export const CLUSTER_MAX_UNACKED_BYTES = 64 * 1024 * 1024;
/** A flush (PING/PONG round trip) acknowledges published bytes every this many bytes (1 MiB). */
export const CLUSTER_FLUSH_EVERY_BYTES = 1024 * 1024;
/** Membership announcements (deltas, snapshots) are cut into messages of about this size. */
export const CLUSTER_CONTROL_MESSAGE_BYTES = 128 * 1024;
/** A node answers one node's sync requests at most this often (a misbehaving peer cannot make it flood). */
export const CLUSTER_SYNC_MIN_INTERVAL_MS = 250;
/** Longest node id or cluster name: one subject token of `[A-Za-z0-9_-]`. */
export const MAX_CLUSTER_TOKEN_CHARS = 64;
/** Group subjects cached for cross-node sends (a cache, cleared when full). */
export const CLUSTER_SUBJECT_CACHE_ENTRIES = 16_384;

/** Plugin calls a frame may go through in a plugin chain before it is dropped as a loop (`PB_ERR_CHAIN_LOOP`, wit/plugin.wit world `filter`). */
export const MAX_CHAIN_PASSES = 64;
