// Package daemon wires the telephone Pi together: the phone logic
// (phone.Runner) on a line backend, the SIP user agent (sipua) as the
// phone's Network, a TonePlayer and audio pump on the sound card, and the
// status server's sources.
//
// The parts only meet through small interfaces (UA, Call, audio.Device,
// line.Line), so every adapter is tested with fakes and no network.
//
// Audio has one rule: while a call's audio is attached (after answer, or
// from early media) the earpiece hears the call and the microphone feeds
// it; otherwise the earpiece hears the local tone the phone asked for
// (dial tone, ringback, busy, hang-up tone), or silence.
package daemon
