package sipua

import (
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/kurodenwa/kurodenwa/pi-gateway/media"
)

// FuzzSIPMessage runs what the UA reads from a message off the network
// (parsed by sipgo) through its own handling: INVITE checks and SDP,
// INFO digits, and from responses the challenge, the granted expiry, Via
// received/rport, Retry-After and the dialog's route set.
func FuzzSIPMessage(f *testing.F) {
	f.Add([]byte("INVITE sip:blackphone@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: \"A\" <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:blackphone@127.0.0.1>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\nContent-Length: 107\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=sendonly\r\n"))
	f.Add([]byte("INFO sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 2 INFO\r\nContent-Type: application/dtmf-relay\r\nContent-Length: 10\r\n\r\nSignal=5\r\n"))
	f.Add([]byte("SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bK3;rport=1;received=5.6.7.8\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=MD5\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bK3\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContact: <sip:a@1.2.3.4:5060>;expires=60\r\nRecord-Route: <sip:p1;lr>, <sip:p2;lr>\r\nExpires: 30\r\nRetry-After: 5 (x)\r\nContent-Length: 0\r\n\r\n"))
	local := media.Local{Addr: netipAddrPort("127.0.0.1:40000")}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := sip.ParseMessage(raw)
		if err != nil {
			return
		}
		switch m := m.(type) {
		case *sip.Request:
			if checkInvite(m) == nil && len(m.Body()) > 0 {
				if d, err := media.ParseSDP(m.Body()); err == nil {
					_, _, _ = local.Answer(d, 1, 1)
				}
			}
			if d, ok := parseDTMFRelay(m); ok {
				if _, err := media.DigitCode(d); err != nil {
					t.Fatalf("dtmf-relay gave %q, not a digit", d)
				}
			}
		case *sip.Response:
			_, _, _ = challengeOf(m)
			if d := grantedExpiry(m, sip.Uri{User: "a", Host: "1.2.3.4", Port: 5060}, time.Minute); d <= 0 {
				t.Fatalf("granted %v", d)
			}
			if ap, ok := viaReceived(m); ok && (!ap.IsValid() || ap.Port() == 0) {
				t.Fatalf("via received %v", ap)
			}
			_ = headerSeconds(m, "Retry-After")
			var d dialog
			d.learnFromResponse(m)
			if m.To() != nil {
				_ = d.request(sip.BYE)
			}
		}
	})
}

func netipAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
