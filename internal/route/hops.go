package route

import "strconv"

// HopsHeader is the SIP header in which kurodenwa exchanges pass the hop
// count to each other. The dialplan reads it from a peer's INVITE and sets
// it on the peer leg (PJSIP_HEADER); an exchange that does not know it
// ignores it.
const HopsHeader = "X-Kurodenwa-Hops"

// HopsVariable is the channel variable that adds HopsHeader to an outgoing
// PJSIP channel when set before it is dialled (a pre-dial handler, or ARI's
// POST /channels/{id}/variable between create and dial).
const HopsVariable = "PJSIP_HEADER(add," + HopsHeader + ")"

// DefaultMaxHops bounds the exchange-to-exchange links a call may cross.
// Hobby networks are a few exchanges wide; a call that needs more is
// almost certainly going round in circles.
const DefaultMaxHops = 8

// maxForwardsStart is the Max-Forwards a SIP request starts with (RFC 3261
// §8.1.1.6 recommends 70; Asterisk sends 70 by default).
const maxForwardsStart = 70

// hopsCeiling keeps absurd header values from overflowing arithmetic.
const hopsCeiling = 1000

// ParseHops reads the hop count of a call from a peer: the HopsHeader
// value, with Max-Forwards as a floor for calls that passed other PBXs or
// proxies, which do not send the header but may count down Max-Forwards
// (70 − Max-Forwards links at least). Asterisk restarts Max-Forwards at 70
// on every leg, so behind an Asterisk the floor is 0 and the header
// decides. Missing or malformed values count as 0; the caller sent them,
// so they never fail a call.
func ParseHops(header, maxForwards string) int {
	hops, _ := parseCount(header)
	if mf, ok := parseCount(maxForwards); ok && mf <= maxForwardsStart {
		hops = max(hops, maxForwardsStart-mf)
	}
	return hops
}

// parseCount reads a small non-negative decimal; ok is false when s is
// missing or malformed.
func parseCount(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, false
	}
	return min(n, hopsCeiling), true
}

// limitHops refuses a peer decision that would take the call past the hop
// limit, counting the whole known path for a Directory route, and stamps
// the hop count to send onward.
func (r *Router) limitHops(d Decision, hops int) Decision {
	if d.Kind != Peer {
		return d
	}
	links := max(len(d.Via), 1)
	if hops+links > r.maxHops {
		return reject(CauseExchangeRouting, "the call has crossed %d exchange link(s); %d more would pass the limit of %d", hops, links, r.maxHops)
	}
	d.Hops = hops + 1
	return d
}
