// Package call is the per-call logic of kurodenwa's ARI application: every
// call is an explicit state machine driven by events, with no dependency on
// the ARI library or the network, so every flow is tested without Asterisk.
//
// # Model
//
// An adapter (not this package) turns ARI events into [Event] values, feeds
// them one at a time to [Engine.Handle], and executes the [Command] values it
// returns, in order. Time is injected the same way: the engine asks for a
// timer with a [CmdStartTimer] command and learns of its expiry from an
// [EventTimerFired] event, so tests drive time explicitly.
//
// The engine names everything it creates (dial legs, bridges, playbacks,
// timers) itself, with IDs built from [Config.IDPrefix] and a counter, and
// the adapter must create them under exactly those IDs (ARI's channelId,
// bridgeId and playbackId parameters). That is how events are dispatched:
// StasisStart also fires for the channels the engine dialled, and their IDs
// are already known; any other StasisStart starts a call from its Stasis
// arguments (inbound|outbound, endpoint, number; see
// dialplan/extensions.conf.tmpl).
//
// # Concurrency
//
// An Engine is not safe for concurrent use: the adapter serialises events
// (one goroutine reads the websocket and calls Handle and Reconcile). The
// slice Handle returns is reused by the next call.
//
// # Records and reconnects
//
// [Engine.Snapshot] lists live calls for the HTTP API, [Engine.Recent] the
// last ended ones, and [Engine.Stats] counters for metrics; a call's end is
// also reported in the command stream as [CmdCallEnded]. After the
// adapter reconnects, [Engine.Reconcile] takes the channels and bridges
// still in the application and rebuilds or ends calls (see its comment).
//
// # Guarantees
//
// Handle never panics, whatever the sequence (unknown IDs, duplicates,
// events after hang-up, out-of-order events); it ignores what it cannot
// place. No call is left half up: whenever one side ends, the engine ends or
// re-homes every other leg, and every wait state (ringing, queue, tones,
// digit collection, hold, transfer settling) is bounded by a timer.
package call
