package sipua

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// allowed is the Allow header: what this UA answers.
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"

// dialog is an INVITE dialog's identity and routing (RFC 3261 §12).
type dialog struct {
	callID    string
	localTag  string
	remoteTag string
	local     sip.Uri // our address (From of our requests)
	localName string
	remote    sip.Uri // their address (To of our requests)
	// remoteName is their display name, for caller ID.
	remoteName   string
	localSeq     uint32
	remoteSeq    uint32
	remoteTarget sip.Uri  // their Contact
	routeSet     []string // Route values in sending order
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

func newTag() string { return randomHex(8) }

// request builds an in-dialog request (RFC 3261 §12.2.1.1).
func (d *dialog) request(method sip.RequestMethod) *sip.Request {
	d.localSeq++
	req := sip.NewRequest(method, d.remoteTarget)
	d.fill(req, d.localSeq, method)
	return req
}

func (d *dialog) fill(req *sip.Request, seq uint32, method sip.RequestMethod) {
	for _, r := range d.routeSet {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sip.FromHeader{DisplayName: d.localName, Address: d.local, Params: sip.NewParams()}
	from.Params.Add("tag", d.localTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{DisplayName: d.remoteName, Address: d.remote, Params: sip.NewParams()}
	if d.remoteTag != "" {
		to.Params.Add("tag", d.remoteTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(d.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
}

// ack builds the ACK for a 2xx to the INVITE with sequence seq (§13.2.2.4).
func (d *dialog) ack(seq uint32) *sip.Request {
	req := sip.NewRequest(sip.ACK, d.remoteTarget)
	d.fill(req, seq, sip.ACK)
	return req
}

// learnFrom2xx fixes the dialog from a 2xx (or early 1xx) to our INVITE:
// their tag, their Contact, and the Record-Route reversed (§12.1.2).
func (d *dialog) learnFromResponse(res *sip.Response) {
	if to := res.To(); to != nil {
		if tag, ok := to.Params.Get("tag"); ok {
			d.remoteTag = tag
		}
	}
	if c := res.Contact(); c != nil && c.Address.Host != "" {
		d.remoteTarget = *c.Address.Clone()
	}
	rr := res.GetHeaders("Record-Route")
	d.routeSet = d.routeSet[:0]
	for i := len(rr) - 1; i >= 0; i-- {
		d.routeSet = append(d.routeSet, rr[i].Value())
	}
}

// cancelFor builds the CANCEL for a sent INVITE (§9.1): same Request-URI,
// top Via, Route, From, To, Call-ID and CSeq number.
func cancelFor(invite *sip.Request) *sip.Request {
	req := sip.NewRequest(sip.CANCEL, *invite.Recipient.Clone())
	if via := invite.Via(); via != nil {
		req.AppendHeader(via.Clone())
	}
	for _, r := range invite.GetHeaders("Route") {
		req.AppendHeader(sip.NewHeader("Route", r.Value()))
	}
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	for _, name := range []string{"From", "To", "Call-ID"} {
		if h := invite.GetHeader(name); h != nil {
			req.AppendHeader(sip.HeaderClone(h))
		}
	}
	if cs := invite.CSeq(); cs != nil {
		req.AppendHeader(&sip.CSeqHeader{SeqNo: cs.SeqNo, MethodName: sip.CANCEL})
	}
	req.SetTransport(invite.Transport())
	req.SetDestination(invite.Destination())
	req.Laddr = invite.Laddr
	return req
}

// keepAsBuilt is a request option that adds nothing: for requests whose
// Via is already set (CANCEL, ACK retransmissions).
func keepAsBuilt(*sipgo.Client, *sip.Request) error { return nil }

// escapeUser percent-encodes what may not stand in a SIP URI's user part
// ('#' above all: a dialled "#" would otherwise start nothing good).
func escapeUser(s string) string {
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-_.!~*'()&=+$,;?/", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// party reads caller ID from a From or To header.
func party(name string, u sip.Uri) Party {
	return Party{Name: name, User: u.User, URI: u.Addr()}
}

// Party is one end of a call as SIP names it.
type Party struct {
	Name string // display name, may be empty
	User string // user part: the number
	URI  string // sip:user@host
}

func (p Party) String() string {
	if p.Name != "" {
		return fmt.Sprintf("%q <%s>", p.Name, p.URI)
	}
	return p.URI
}

// statusText is the reason phrase for the statuses this UA sends.
func statusText(code int) string {
	switch code {
	case 180:
		return "Ringing"
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 415:
		return "Unsupported Media Type"
	case 480:
		return "Temporarily Unavailable"
	case 481:
		return "Call/Transaction Does Not Exist"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 500:
		return "Server Internal Error"
	case 503:
		return "Service Unavailable"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	}
	switch {
	case code >= 600:
		return "Global Failure"
	case code >= 500:
		return "Server Error"
	case code >= 400:
		return "Client Error"
	case code >= 300:
		return "Redirection"
	}
	return "Unknown"
}
