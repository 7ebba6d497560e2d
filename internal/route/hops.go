package route

import (
	"slices"
	"strconv"
	"strings"
)

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

// PathHeader carries the exchanges a call has crossed, as their Mantela
// identifiers without dashes, lower case, joined by "." (dialplan and
// pre-dial handler arguments split on "," and "^"). An exchange that finds
// itself on the path refuses the call: it has come round in a loop, however
// long.
const PathHeader = "X-Kurodenwa-Path"

// PathVariable adds PathHeader to an outgoing PJSIP channel.
const PathVariable = "PJSIP_HEADER(add," + PathHeader + ")"

// maxPath bounds the path read from a peer; longer is cut (the hop limit
// refuses such a call anyway).
const maxPath = 32

// pathID is an identifier as the path holds it.
func pathID(identifier string) string {
	return strings.ToLower(strings.ReplaceAll(identifier, "-", ""))
}

// parsePath reads a path header, dropping anything that is not a 32-digit
// hex identifier: the caller sent it.
func parsePath(header string) []string {
	var out []string
	for _, id := range strings.Split(header, ".") {
		id = strings.ToLower(id)
		if len(id) == 32 && strings.Trim(id, "0123456789abcdef") == "" && len(out) < maxPath {
			out = append(out, id)
		}
	}
	return out
}

// onPath reports whether this exchange is on a call's path already.
func (r *Router) onPath(header string) bool {
	self := pathID(r.site.Exchange.Identifier)
	return self != "" && slices.Contains(parsePath(header), self)
}

// nextPath is the path to send on a peer leg: the one received, then us.
func (r *Router) nextPath(header string) string {
	return strings.Join(append(parsePath(header), pathID(r.site.Exchange.Identifier)), ".")
}
