package exchange_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sipMessage is one SIP request or response received over UDP.
type sipMessage struct {
	method string // request method, "" for a response
	uri    string // Request-URI
	status int    // response status, 0 for a request
	// headers by lower-case name, in order of appearance.
	headers map[string][]string
}

func (m sipMessage) header(name string) string {
	if v := m.headers[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// user is the user part of the Request-URI.
func (m sipMessage) user() string {
	u, _, _ := strings.Cut(strings.TrimPrefix(m.uri, "sip:"), "@")
	return u
}

func parseSIP(data []byte) (sipMessage, error) {
	head, _, _ := strings.Cut(string(data), "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	m := sipMessage{headers: map[string][]string{}}
	first := strings.Fields(lines[0])
	if len(first) < 3 {
		return m, fmt.Errorf("bad start line %q", lines[0])
	}
	if first[0] == "SIP/2.0" {
		code, err := strconv.Atoi(first[1])
		if err != nil {
			return m, fmt.Errorf("bad status line %q", lines[0])
		}
		m.status = code
	} else {
		m.method, m.uri = first[0], first[1]
	}
	for _, line := range lines[1:] {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key := strings.ToLower(strings.TrimSpace(name))
		m.headers[key] = append(m.headers[key], strings.TrimSpace(value))
	}
	return m, nil
}

// sipPeer plays a peer exchange on 127.0.0.x: it answers OPTIONS (Asterisk
// qualifies peers), refuses every INVITE with 486 Busy Here after
// recording it, and can place a call of its own.
type sipPeer struct {
	conn      *net.UDPConn
	invites   chan sipMessage // INVITEs received
	responses chan sipMessage // responses to our own requests
	wg        sync.WaitGroup
	mu        sync.Mutex
	uris      map[string]string // Request-URI of our INVITEs by Call-ID
}

func startSIPPeer(t *testing.T, ip string) *sipPeer { return startSIPPeerOn(t, ip, 0) }

// startSIPPeerOn listens on a given port, e.g. one a phone registered from.
func startSIPPeerOn(t *testing.T, ip string, port int) *sipPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip), Port: port})
	if err != nil {
		t.Fatalf("SIP peer on %s: %v", ip, err)
	}
	p := &sipPeer{conn: conn, invites: make(chan sipMessage, 16), responses: make(chan sipMessage, 64), uris: map[string]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	p.wg.Go(func() { p.serve(ctx) })
	t.Cleanup(func() {
		cancel()
		conn.Close()
		p.wg.Wait()
	})
	return p
}

func (p *sipPeer) addr() *net.UDPAddr { return p.conn.LocalAddr().(*net.UDPAddr) }

func (p *sipPeer) serve(ctx context.Context) {
	buf := make([]byte, 65535)
	for ctx.Err() == nil {
		n, from, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		raw := append([]byte(nil), buf[:n]...)
		m, err := parseSIP(raw)
		if err != nil {
			continue
		}
		switch m.method {
		case "":
			p.responses <- m
			if m.status >= 300 && m.header("CSeq") != "" && strings.HasSuffix(m.header("CSeq"), "INVITE") {
				p.ack(m, from)
			}
		case "INVITE":
			p.invites <- m
			p.respond(m, from, "486 Busy Here")
		case "ACK":
		default: // OPTIONS, BYE, CANCEL
			p.respond(m, from, "200 OK")
		}
	}
}

func (p *sipPeer) respond(req sipMessage, to *net.UDPAddr, status string) {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %s\r\n", status)
	for _, via := range req.headers["via"] {
		fmt.Fprintf(&b, "Via: %s\r\n", via)
	}
	toHeader := req.header("To")
	if !strings.Contains(toHeader, "tag=") {
		toHeader += ";tag=kdpeer"
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
		req.header("From"), toHeader, req.header("Call-ID"), req.header("CSeq"))
	_, _ = p.conn.WriteToUDP([]byte(b.String()), to)
}

// call sends an INVITE for number to the exchange at to, with extra
// headers (a Max-Forwards among them replaces the usual 70); responses
// arrive on p.responses.
func (p *sipPeer) call(to *net.UDPAddr, number string, extra ...string) {
	local := p.addr()
	sdp := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", local.IP)
	uri := fmt.Sprintf("sip:%s@%s", number, to)
	callID := fmt.Sprintf("kd%d@%s", time.Now().UnixNano(), local.IP)
	p.mu.Lock()
	p.uris[callID] = uri
	p.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE %s SIP/2.0\r\n", uri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-kd%d;rport\r\n", local, time.Now().UnixNano())
	maxForwards := "Max-Forwards: 70"
	for _, h := range extra {
		if strings.HasPrefix(strings.ToLower(h), "max-forwards:") {
			maxForwards = h
		}
	}
	fmt.Fprintf(&b, "%[4]s\r\nFrom: <sip:peer@%[1]s>;tag=kdcaller\r\nTo: <sip:%[2]s@%[3]s>\r\n", local, number, to, maxForwards)
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:peer@%s>\r\n", callID, local)
	for _, h := range extra {
		if h != maxForwards {
			b.WriteString(h + "\r\n")
		}
	}
	fmt.Fprintf(&b, "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp)
	_, _ = p.conn.WriteToUDP([]byte(b.String()), to)
}

// ack acknowledges a final failure response to our INVITE.
func (p *sipPeer) ack(resp sipMessage, to *net.UDPAddr) {
	p.mu.Lock()
	uri := p.uris[resp.header("Call-ID")]
	p.mu.Unlock()
	var b strings.Builder
	// The ACK of a failure belongs to the INVITE's transaction: its
	// Request-URI and top Via.
	fmt.Fprintf(&b, "ACK %s SIP/2.0\r\nVia: %s\r\n", uri, resp.header("Via"))
	seq, _, _ := strings.Cut(resp.header("CSeq"), " ")
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s ACK\r\nContent-Length: 0\r\n\r\n",
		resp.header("From"), resp.header("To"), resp.header("Call-ID"), seq)
	_, _ = p.conn.WriteToUDP([]byte(b.String()), to)
}

// nextInvite waits, bounded, for an INVITE.
func (p *sipPeer) nextInvite(t *testing.T, within time.Duration) sipMessage {
	t.Helper()
	select {
	case m := <-p.invites:
		return m
	case <-time.After(within):
		t.Fatalf("no INVITE reached the peer at %s within %v", p.addr(), within)
		return sipMessage{}
	}
}
