// Package media is the gateway's audio on the network side: SDP offer and
// answer for one G.711 audio stream, and an RTP session over UDP.
//
// SDP (RFC 3264, RFC 4566) is read and written with pion/sdp: PCMU (0) and
// PCMA (8), telephone-event/8000 for RFC 4733 digits (dynamic type, 101
// when the gateway offers), ptime 20 and the direction attributes that
// express hold. Local describes this side; Local.Offer, Local.Answer and
// Local.Accept turn descriptions into the Params a Session runs with.
//
// A Session sends one 20 ms packet every 20 ms from a ticker (frames the
// caller writes, else a Source such as a tone generator, else silence) and
// plays out one frame every 20 ms from a jitter buffer (adaptive or fixed
// depth; reorders, drops late packets, conceals lost ones) for Read. It
// sends and receives RFC 4733 digits ('A' is the gateway's hook flash),
// latches the remote address for NAT (symmetric RTP), applies gains and
// counts what RFC 3550 asks (loss, jitter) and more for metrics.
//
// One goroutine runs a session, woken once per 20 ms tick: it sends the
// frame's packet, takes in every datagram the RTP socket holds (without
// waiting; on Linux the socket stays out of Go's network poller and the
// kernel stamps each arrival) and plays out a frame. A packet arriving
// thus wakes nothing: thread wake-ups, not the media work, were most of
// a call's CPU (docs/PERFORMANCE.md).
//
// RTCP is not sent; RTCP multiplexed onto the RTP port is ignored.
package media
