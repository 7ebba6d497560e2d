package route

import (
	"fmt"
	"strings"

	"github.com/kurodenwa/kurodenwa/internal/site"
)

// Directory knows exchanges beyond the direct peers, such as the Mantela
// network. The router asks it only for numbers its own analysis does not
// route (see the precedence in docs/DESIGN.md), so routing needs no network
// and tests can pass a table.
type Directory interface {
	// Lookup resolves digits dialled at this exchange that begin with the
	// preferred prefix of a known exchange. avoid names exchanges (by
	// identifier) the path must not pass: the one the call came from. It
	// reports false when no exchange matches or none can be reached.
	Lookup(digits string, avoid []string) (DirectoryRoute, bool)
}

// DirectoryRoute is a way to an exchange beyond the peers.
type DirectoryRoute struct {
	// Exchange and Name identify the target exchange; Prefix is its
	// preferred prefix that matched and Extension what followed it.
	Exchange, Name    string
	Prefix, Extension string
	// Number is the composed hop number as dialled at this exchange: our
	// prefix for the first peer, then each exchange's self prefix and its
	// prefix for the next, then the extension.
	Number string
	// Via lists the identifiers of the exchanges passed, from the first
	// peer to the target.
	Via []string
	// Names are the exchanges' names in Via order, for the reason.
	Names []string
}

// beyondPeers asks the directory for digits no other analysis routed. from
// is the peer the call came from ("" for our phones): the path may neither
// start with it nor pass it.
func (r *Router) beyondPeers(digits, from string) (Decision, bool) {
	if r.directory == nil || r.site.IsServiceCode(digits) || strings.HasPrefix(digits, "+") {
		// Service codes are never sent to a hobby exchange that happens
		// to prefer a prefix such as 1.
		return Decision{}, false
	}
	var avoid []string
	if from != "" {
		if id := r.site.Peers[from].Identifier; id != "" {
			avoid = []string{id}
		}
	}
	found, ok := r.directory.Lookup(digits, avoid)
	if !ok || len(found.Via) == 0 {
		return Decision{}, false
	}
	peerName, ok := r.peerByID[found.Via[0]]
	if ok && peerName == from {
		return reject(CauseNoRoute, "the way to %s would return the call to peer %s, where it came from", found.Name, from), true
	}
	if !ok {
		return reject(CauseNoRoute, "the directory's way to %s starts at %s, which is not a peer to send it to", found.Name, found.Via[0]), true
	}
	p := r.site.Peers[peerName]
	rest, ok := strings.CutPrefix(found.Number, p.Prefix)
	if !ok || rest == "" {
		return reject(CauseNoRoute, "the directory's number %s for %s does not start with the prefix %s of peer %s", found.Number, found.Name, p.Prefix, peerName), true
	}
	if _, err := clean(rest, false); err != nil {
		return reject(CauseNoRoute, "the directory's number for %s: %v", found.Name, err), true
	}
	return Decision{
		Kind:    Peer,
		Target:  peerName,
		Trunk:   site.PeerEndpoint(peerName),
		Number:  rest,
		Timeout: r.site.Exchange.RingTimeout,
		Via:     append([]string(nil), found.Via...),
		Reason: fmt.Sprintf("Mantela: prefix %s is %s; dial %s at peer %s (via %s)",
			found.Prefix, found.Name, rest, peerName, strings.Join(found.Names, " → ")),
	}, true
}
