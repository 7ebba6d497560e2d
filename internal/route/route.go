// Package route is kurodenwa's number analysis: given who is calling and
// what they dialled, it decides where the call goes. The ARI application and
// the FastAGI fallback both ask it, so a number routes the same way whether
// or not the application is connected.
package route

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/site"
)

// Kind is what a decision does with the call.
type Kind int

// Kinds of decision.
const (
	Reject Kind = iota // refuse with a cause and a tone
	Local              // ring one or more of our own endpoints
	Peer               // send to a peer exchange's trunk
	PSTN               // send to the Twilio trunk in E.164
)

func (k Kind) String() string {
	switch k {
	case Local:
		return "local"
	case Peer:
		return "peer"
	case PSTN:
		return "pstn"
	default:
		return "reject"
	}
}

// Q.850 causes used in rejections.
const (
	CauseUnallocated     = 1  // no such number
	CauseNoRoute         = 3  // no route to destination
	CauseRejected        = 21 // call rejected (policy)
	CauseExchangeRouting = 25 // exchange routing error: ISUP's cause for an exhausted hop counter
	CauseInvalidNumber   = 28 // invalid number format (incomplete)
)

// OriginClass is the kind of party that placed a call.
type OriginClass int

// Origin classes.
const (
	FromUnknown OriginClass = iota
	FromExtension
	FromPeer
	FromTwilio
)

func (c OriginClass) String() string {
	switch c {
	case FromExtension:
		return "extension"
	case FromPeer:
		return "peer"
	case FromTwilio:
		return "twilio"
	default:
		return "unknown"
	}
}

// Origin is who placed a call, derived from the authenticated PJSIP endpoint
// (never from anything the caller sent).
type Origin struct {
	Class OriginClass
	Name  string // extension or peer name
}

// Request is one routing question.
type Request struct {
	// Endpoint is the PJSIP endpoint the call came in on.
	Endpoint string
	// Dialled is what the caller dialled (the Request-URI user part).
	Dialled string
	// Hops counts the exchange-to-exchange links the call has crossed
	// before reaching us (see ParseHops); 0 for calls from our own phones.
	Hops int
	// Path is the PathHeader a peer's call arrived with: the exchanges it
	// crossed.
	Path string
}

// Decision is the answer: where the call goes, or why it does not.
type Decision struct {
	Kind   Kind
	Origin Origin
	// Target is the extension or ring group (Local) or the peer (Peer).
	Target string
	// Endpoints are the PJSIP endpoints to ring (Local), in ring order.
	Endpoints []string
	// Strategy and MemberTimeout say how to ring several endpoints.
	Strategy      string
	MemberTimeout time.Duration
	// Number is what is sent onward: the peer's own number (Peer) or the
	// E.164 number (PSTN).
	Number string
	// Trunk is the PJSIP endpoint of the trunk (Peer, PSTN).
	Trunk string
	// Timeout bounds ringing: the whole call for one endpoint, a peer or the
	// PSTN; with several endpoints, each (inorder) or all together (ringall).
	Timeout time.Duration
	// CallerID is presented on PSTN calls.
	CallerID string
	// Transit is set when a peer's call passes through us by our hop prefix.
	Transit bool
	// Hops is the value of the hop header (HopsHeader) to send on the peer
	// leg (Peer): the request's Hops plus this link.
	Hops int
	// Path is the value of PathHeader to send on the peer leg (Peer): the
	// request's path and this exchange.
	Path string
	// Via lists, for a route found in the Directory, the identifiers of the
	// exchanges the call will pass, from the first peer to the target.
	Via []string
	// Cause and Tone say how to refuse (Reject).
	Cause int
	Tone  string
	// Reason explains the decision for logs and the API.
	Reason string
}

// DialString is the Asterisk Dial() target of a decision, built only from
// names and digits the router has checked.
func (d Decision) DialString() string {
	switch d.Kind {
	case Local:
		parts := make([]string, len(d.Endpoints))
		for i, e := range d.Endpoints {
			parts[i] = "PJSIP/" + e
		}
		return strings.Join(parts, "&")
	case Peer, PSTN:
		return "PJSIP/" + d.Number + "@" + d.Trunk
	}
	return ""
}

// maxDialled bounds what is analysed; E.164 has at most 15 digits and hop
// numbers through a few exchanges stay well below this.
const maxDialled = 32

// Router analyses numbers for one site. It is immutable and safe for
// concurrent use.
type Router struct {
	site       *site.Site
	directory  Directory // nil: no routes beyond the peers
	maxHops    int
	peerByID   map[string]string      // peer identifier → peer name
	byNumber   map[string]string      // extension and ring group numbers → name
	targets    map[string]localTarget // extensions and ring groups by name
	prefixes   []peerPrefix           // longest first
	dids       map[string]string      // E.164 → extension or ring group name
	extensions map[string]string      // endpoint → extension name
}

type localTarget struct {
	name      string
	endpoints []string
	strategy  string
	timeout   time.Duration
}

type peerPrefix struct {
	prefix, peer string
}

// New builds a router from a validated site.
func New(s *site.Site, opts ...Option) (*Router, error) {
	if s == nil {
		return nil, fmt.Errorf("route: no site")
	}
	r := &Router{
		site:       s,
		maxHops:    DefaultMaxHops,
		peerByID:   map[string]string{},
		byNumber:   map[string]string{},
		targets:    map[string]localTarget{},
		dids:       map[string]string{},
		extensions: map[string]string{},
	}
	for name, e := range s.Extensions {
		r.extensions[e.Endpoint()] = name
		r.byNumber[e.Number] = name
		r.targets[name] = localTarget{name: name, endpoints: []string{e.Endpoint()}, strategy: site.StrategyRingAll}
	}
	for name, g := range s.RingGroups {
		if _, dup := r.byNumber[g.Number]; dup {
			return nil, fmt.Errorf("route: number %s is both an extension and ring group %s", g.Number, name)
		}
		r.byNumber[g.Number] = name
		eps := make([]string, len(g.Members))
		for i, m := range g.Members {
			eps[i] = s.Extensions[m].Endpoint()
		}
		r.targets[name] = localTarget{name: name, endpoints: eps, strategy: g.Strategy, timeout: g.MemberTimeout}
	}
	for name, p := range s.Peers {
		r.prefixes = append(r.prefixes, peerPrefix{prefix: p.Prefix, peer: name})
		if p.Identifier != "" {
			r.peerByID[p.Identifier] = name
		}
	}
	sort.Slice(r.prefixes, func(i, j int) bool {
		a, b := r.prefixes[i], r.prefixes[j]
		if len(a.prefix) != len(b.prefix) {
			return len(a.prefix) > len(b.prefix)
		}
		return a.prefix < b.prefix
	})
	for _, d := range s.Twilio.DIDs {
		r.dids[d.Number] = d.Destination
	}
	for _, opt := range opts {
		opt(r)
	}
	return r, nil
}

// OriginOf names the party behind a PJSIP endpoint.
func (r *Router) OriginOf(endpoint string) Origin {
	switch {
	case endpoint == site.TwilioEndpoint && r.site.Twilio.Enabled:
		return Origin{Class: FromTwilio, Name: site.TwilioEndpoint}
	}
	if name, ok := r.extensions[endpoint]; ok {
		return Origin{Class: FromExtension, Name: name}
	}
	if name, ok := strings.CutPrefix(endpoint, "peer-"); ok {
		if _, ok := r.site.Peers[name]; ok {
			return Origin{Class: FromPeer, Name: name}
		}
	}
	return Origin{Class: FromUnknown, Name: endpoint}
}

// Route decides where a call goes. It never fails: anything it cannot route
// is a Reject decision with a cause, a tone and a reason.
func (r *Router) Route(req Request) Decision {
	o := r.OriginOf(req.Endpoint)
	var d Decision
	if o.Class == FromPeer && r.onPath(req.Path) {
		d = reject(CauseExchangeRouting, "the call has come round to this exchange again (a loop)")
	} else {
		d = r.limitHops(r.route(o, req.Dialled), max(req.Hops, 0))
	}
	if d.Kind == Peer {
		d.Path = r.nextPath(req.Path)
	}
	d.Origin = o
	return d
}

func (r *Router) route(o Origin, dialled string) Decision {
	if o.Class == FromUnknown {
		return reject(CauseRejected, "unknown caller %q", o.Name)
	}
	digits, err := clean(dialled, o.Class == FromExtension || o.Class == FromTwilio)
	if err != nil {
		return reject(CauseInvalidNumber, "%v", err)
	}
	switch o.Class {
	case FromTwilio:
		return r.fromTwilio(digits)
	case FromPeer:
		return r.fromPeer(o.Name, digits)
	default:
		return r.fromExtension(digits)
	}
}

// clean checks dialled digits: 0-9, * and #, with a leading + where E.164
// may be dialled. Nothing else reaches a dial string.
func clean(dialled string, plusOK bool) (string, error) {
	if dialled == "" {
		return "", fmt.Errorf("no digits dialled")
	}
	if len(dialled) > maxDialled {
		return "", fmt.Errorf("%d digits dialled, more than %d", len(dialled), maxDialled)
	}
	for i, c := range dialled {
		switch {
		case c >= '0' && c <= '9', c == '*', c == '#':
		case c == '+' && i == 0 && plusOK:
		default:
			return "", fmt.Errorf("character %q at position %d is not a digit", c, i+1)
		}
	}
	if dialled == "+" {
		return "", fmt.Errorf("no digits after +")
	}
	return dialled, nil
}

func (r *Router) fromTwilio(digits string) Decision {
	num := digits
	if !strings.HasPrefix(num, "+") {
		num = "+" + num // Twilio sends E.164; some edges drop the "+"
	}
	dest, ok := r.dids[num]
	if !ok {
		return reject(CauseUnallocated, "%s is not one of our DIDs", digits)
	}
	d := r.local(dest)
	d.Reason = fmt.Sprintf("DID %s rings %s", num, dest)
	return d
}

func (r *Router) fromExtension(digits string) Decision {
	if d, ok := r.own(digits); ok {
		return d
	}
	if d, ok := r.peer(digits, ""); ok {
		return d
	}
	d := r.pstn(digits, "")
	if d.Kind == PSTN {
		return d
	}
	if beyond, ok := r.beyondPeers(digits, ""); ok {
		return beyond
	}
	return d
}

func (r *Router) fromPeer(peer, digits string) Decision {
	if d, ok := r.own(digits); ok {
		return d
	}
	p := r.site.Peers[peer]
	if hp := r.site.Exchange.HopPrefix; hp != "" {
		if rest, ok := strings.CutPrefix(digits, hp); ok {
			if !p.Transit {
				return reject(CauseRejected, "peer %s may not pass through this exchange", peer)
			}
			if rest == "" {
				return reject(CauseInvalidNumber, "nothing dialled after the hop prefix %s", hp)
			}
			d := r.transit(peer, p, rest)
			d.Transit = d.Kind != Reject
			return d
		}
	}
	if p.Transit && p.TransitWithoutHop {
		// The per-peer policy: another peer's prefix without our hop prefix.
		if d, ok := r.peer(digits, peer); ok {
			d.Transit = d.Kind != Reject
			return d
		}
		if d, ok := r.peerLoop(digits, peer); ok {
			return d
		}
	}
	if p.AllowPSTN && r.site.Twilio.Enabled {
		if d := r.pstn(digits, peer); d.Kind == PSTN {
			return d
		}
	}
	return reject(CauseUnallocated, "%s is not a number of this exchange", digits)
}

// transit analyses what a peer dialled after our hop prefix: searched again
// outward, as the exchange networks expect.
func (r *Router) transit(from string, p site.Peer, rest string) Decision {
	if d, ok := r.own(rest); ok {
		return d
	}
	if d, ok := r.peer(rest, from); ok {
		return d
	}
	if d, ok := r.peerLoop(rest, from); ok {
		return d
	}
	pstnAllowed := p.AllowPSTN && r.site.Twilio.Enabled
	var pstn Decision
	if pstnAllowed {
		if pstn = r.pstn(rest, from); pstn.Kind == PSTN {
			return pstn
		}
	}
	if d, ok := r.beyondPeers(rest, from); ok {
		return d
	}
	if pstnAllowed {
		return pstn
	}
	return reject(CauseUnallocated, "%s matches no extension or peer of this exchange", rest)
}

// own finds our extensions and ring groups.
func (r *Router) own(digits string) (Decision, bool) {
	name, ok := r.byNumber[digits]
	if !ok {
		return Decision{}, false
	}
	d := r.local(name)
	d.Reason = fmt.Sprintf("%s is %s", digits, name)
	return d, true
}

func (r *Router) local(name string) Decision {
	t, ok := r.targets[name]
	if !ok {
		return reject(CauseUnallocated, "%s has no extension", name)
	}
	timeout := t.timeout
	if timeout == 0 {
		timeout = r.site.Exchange.RingTimeout
	}
	return Decision{Kind: Local, Target: name, Endpoints: append([]string(nil), t.endpoints...), Strategy: t.strategy, MemberTimeout: t.timeout, Timeout: timeout}
}

// peer finds the longest peer prefix, except the peer the call came from.
func (r *Router) peer(digits, except string) (Decision, bool) {
	for _, pp := range r.prefixes {
		if pp.peer == except {
			continue
		}
		rest, ok := strings.CutPrefix(digits, pp.prefix)
		if !ok {
			continue
		}
		if rest == "" {
			return reject(CauseInvalidNumber, "nothing dialled after the prefix %s of peer %s", pp.prefix, pp.peer), true
		}
		return Decision{
			Kind:    Peer,
			Target:  pp.peer,
			Trunk:   site.PeerEndpoint(pp.peer),
			Number:  rest,
			Timeout: r.site.Exchange.RingTimeout,
			Reason:  fmt.Sprintf("prefix %s is peer %s", pp.prefix, pp.peer),
		}, true
	}
	return Decision{}, false
}

// peerLoop refuses a transit call that would go straight back to the peer
// it came from.
func (r *Router) peerLoop(digits, from string) (Decision, bool) {
	for _, pp := range r.prefixes {
		if pp.peer == from && strings.HasPrefix(digits, pp.prefix) {
			return reject(CauseNoRoute, "the call would return to peer %s, where it came from", from), true
		}
	}
	return Decision{}, false
}

// pstn turns a national, international or service number into E.164 for
// the Twilio trunk.
func (r *Router) pstn(digits, peer string) Decision {
	tw := r.site.Twilio
	n := r.site.Numbering
	e164, err := r.toE164(digits)
	if err != nil {
		return reject(CauseInvalidNumber, "%v", err)
	}
	if e164 == "" {
		if r.site.IsServiceCode(digits) {
			target, ok := n.ServiceCodes[digits]
			if !ok {
				return reject(CauseNoRoute, "service code %s is not available on this line", digits)
			}
			e164 = target
		} else {
			return reject(CauseUnallocated, "%s is not a number of this exchange", digits)
		}
	}
	if !tw.Enabled {
		return reject(CauseNoRoute, "%s needs the PSTN and this site has no Twilio trunk", e164)
	}
	reason := fmt.Sprintf("%s is %s on the PSTN", digits, e164)
	if peer != "" {
		reason += ", allowed for peer " + peer
	}
	return Decision{Kind: PSTN, Target: site.TwilioEndpoint, Trunk: site.TwilioEndpoint, Number: e164, CallerID: tw.CallerID, Timeout: r.site.Exchange.RingTimeout, Reason: reason}
}

// toE164 converts a PSTN number; "" with no error means digits are not a
// PSTN number at all.
func (r *Router) toE164(digits string) (string, error) {
	n := r.site.Numbering
	switch {
	case strings.HasPrefix(digits, "+"):
		if !site.IsE164(digits) {
			return "", fmt.Errorf("%s is not a valid E.164 number", digits)
		}
		return digits, nil
	case n.InternationalPrefix != "" && strings.HasPrefix(digits, n.InternationalPrefix):
		e := "+" + strings.TrimPrefix(digits, n.InternationalPrefix)
		if !site.IsE164(e) {
			return "", fmt.Errorf("%s: an international number needs a country code and 7 to 15 digits after %s", digits, n.InternationalPrefix)
		}
		return e, nil
	case n.TrunkPrefix != "" && strings.HasPrefix(digits, n.TrunkPrefix):
		want, lead := r.nationalLength(digits)
		if want == 0 {
			return "", fmt.Errorf("%s: no national number starts this way", digits)
		}
		if len(digits) != want {
			return "", fmt.Errorf("%s has %d digits; national numbers starting %s have %d", digits, len(digits), lead, want)
		}
		if strings.ContainsAny(digits, "*#") {
			return "", fmt.Errorf("%s: * and # cannot be sent to the PSTN", digits)
		}
		return "+" + n.CountryCode + strings.TrimPrefix(digits, n.TrunkPrefix), nil
	}
	return "", nil
}

// nationalLength finds the length rule with the longest matching lead.
func (r *Router) nationalLength(digits string) (int, string) {
	best, lead := 0, ""
	for k, l := range r.site.Numbering.NationalLengths {
		if strings.HasPrefix(digits, k) && len(k) > len(lead) {
			best, lead = l, k
		}
	}
	return best, lead
}

func reject(cause int, format string, args ...any) Decision {
	return Decision{Kind: Reject, Cause: cause, Tone: "congestion", Reason: fmt.Sprintf(format, args...)}
}
