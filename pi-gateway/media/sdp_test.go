package media

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimLeft(s, "\n"), "\n", "\r\n"))
}

// Offers as real peers send them.
var (
	asteriskOffer = crlf(`
v=0
o=- 1764000000 1764000000 IN IP4 192.0.2.10
s=Asterisk
c=IN IP4 192.0.2.10
t=0 0
m=audio 12000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=maxptime:140
a=sendrecv
`)
	baresipOffer = crlf(`
v=0
o=- 2580437345 2580437345 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 30000 RTP/AVP 8 0 96
b=AS:96
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-15
a=sendrecv
a=label:1
a=ssrc:1234 cname:sip:bob@127.0.0.1
a=rtcp-rsize
`)
	holdOffer = crlf(`
v=0
o=- 1 2 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
a=sendonly
m=audio 12000 RTP/AVP 0 101
a=rtpmap:101 telephone-event/8000
`)
	oldHoldOffer = crlf(`
v=0
o=- 1 3 IN IP4 192.0.2.10
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 12000 RTP/AVP 0
`)
	opusOnly = crlf(`
v=0
o=- 1 1 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 12000 RTP/AVP 111
a=rtpmap:111 opus/48000/2
`)
	srtpOffer = crlf(`
v=0
o=- 1 1 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 12000 RTP/SAVP 0
`)
	ipv6Offer = crlf(`
v=0
o=- 1 1 IN IP6 2001:db8::1
s=-
t=0 0
m=audio 12000 RTP/AVP 0
c=IN IP6 2001:db8::1
a=recvonly
`)
	declinedOffer = crlf(`
v=0
o=- 1 1 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 0 RTP/AVP 0
`)
)

func TestParseSDP(t *testing.T) {
	tests := []struct {
		name   string
		body   []byte
		addr   string
		pts    []uint8
		ptime  time.Duration
		dir    Direction
		onHold bool
		err    string
	}{
		{name: "asterisk", body: asteriskOffer, addr: "192.0.2.10:12000", pts: []uint8{0, 8, 101}, ptime: 20 * time.Millisecond, dir: SendRecv},
		{name: "baresip", body: baresipOffer, addr: "127.0.0.1:30000", pts: []uint8{8, 0, 96}, dir: SendRecv},
		{name: "session-level sendonly", body: holdOffer, addr: "192.0.2.10:12000", pts: []uint8{0, 101}, dir: SendOnly},
		{name: "c=0.0.0.0 hold", body: oldHoldOffer, addr: "0.0.0.0:12000", pts: []uint8{0}, dir: SendRecv, onHold: true},
		{name: "ipv6 media-level c=", body: ipv6Offer, addr: "[2001:db8::1]:12000", pts: []uint8{0}, dir: RecvOnly},
		{name: "declined", body: declinedOffer, pts: []uint8{0}, dir: SendRecv},
		{name: "srtp only", body: srtpOffer, err: "no RTP/AVP audio"},
		{name: "garbage", body: []byte("hello"), err: "sdp:"},
		{name: "too big", body: make([]byte, maxSDPSize+1), err: "larger than"},
		{name: "no c=", body: crlf("\nv=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 5 RTP/AVP 0\n"), err: "no c= line"},
		{name: "host name", body: crlf("\nv=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 pbx.example\nt=0 0\nm=audio 5 RTP/AVP 0\n"), err: "connection address"},
		{name: "bad pt", body: crlf("\nv=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\nm=audio 5 RTP/AVP 200\n"), err: "payload type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseSDP(tt.body)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			if tt.addr != "" {
				assert.Equal(t, netip.MustParseAddrPort(tt.addr), d.Addr)
			} else {
				assert.Zero(t, d.Addr.Port())
			}
			var pts []uint8
			for _, f := range d.Formats {
				pts = append(pts, f.PT)
			}
			assert.Equal(t, tt.pts, pts)
			assert.Equal(t, tt.ptime, d.PTime)
			assert.Equal(t, tt.dir, d.Direction)
			assert.Equal(t, tt.onHold, d.OnHoldAddr)
		})
	}
}

func TestAnswer(t *testing.T) {
	local := Local{Addr: netip.MustParseAddrPort("127.0.0.1:40000")}
	tests := []struct {
		name    string
		local   Local
		offer   []byte
		codec   Codec
		events  bool
		eventPT uint8
		dir     Direction // ours
		err     error
	}{
		{name: "asterisk", local: local, offer: asteriskOffer, codec: PCMU, events: true, eventPT: 101, dir: SendRecv},
		{name: "baresip prefers PCMA", local: local, offer: baresipOffer, codec: PCMA, events: true, eventPT: 96, dir: SendRecv},
		{name: "our preference only PCMU", local: Local{Addr: local.Addr, Codecs: []Codec{PCMU}}, offer: baresipOffer, codec: PCMU, events: true, eventPT: 96, dir: SendRecv},
		{name: "remote holds us", local: local, offer: holdOffer, codec: PCMU, events: true, eventPT: 101, dir: RecvOnly},
		{name: "old style hold", local: local, offer: oldHoldOffer, codec: PCMU, dir: RecvOnly},
		{name: "remote recvonly", local: local, offer: ipv6Offer, codec: PCMU, dir: SendOnly},
		{name: "we hold while they hold", local: Local{Addr: local.Addr, Direction: SendOnly}, offer: holdOffer, codec: PCMU, events: true, eventPT: 101, dir: Inactive},
		{name: "no events wanted", local: Local{Addr: local.Addr, NoEvents: true}, offer: asteriskOffer, codec: PCMU, dir: SendRecv},
		{name: "opus only", local: local, offer: opusOnly, err: ErrNoCommonCodec},
		{name: "declined", local: local, offer: declinedOffer, dir: Inactive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer, err := ParseSDP(tt.offer)
			require.NoError(t, err)
			ans, p, err := tt.local.Answer(offer, 7, 1)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.dir, p.Direction)
			assert.Equal(t, tt.dir, ans.Direction)
			if offer.Addr.Port() == 0 {
				assert.Zero(t, ans.Addr.Port())
				return
			}
			assert.Equal(t, tt.codec, p.Codec)
			assert.Equal(t, tt.events, p.Events)
			assert.Equal(t, tt.eventPT, p.EventPT)
			assert.Equal(t, offer.Addr, p.Remote)

			// The answer must read back the same, and the offerer (had it
			// been us) must agree on codec, events and the mirror direction.
			body, err := ans.Marshal()
			require.NoError(t, err)
			back, err := ParseSDP(body)
			require.NoError(t, err)
			assert.Equal(t, ans.Addr, back.Addr)
			assert.Equal(t, ans.Direction, back.Direction)
			offerer := Local{Addr: offer.Addr, Direction: offer.Direction}
			op, err := offerer.Accept(back)
			require.NoError(t, err)
			assert.Equal(t, tt.codec, op.Codec)
			assert.Equal(t, tt.events, op.Events)
			if !offer.OnHoldAddr {
				assert.Equal(t, tt.dir.Reverse(), op.Direction)
			}
		})
	}
}

func TestOfferAccept(t *testing.T) {
	l := Local{Addr: netip.MustParseAddrPort("127.0.0.1:40000")}
	body, err := l.Offer(9, 1).Marshal()
	require.NoError(t, err)
	s := string(body)
	for _, want := range []string{"m=audio 40000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20", "a=sendrecv", "c=IN IP4 127.0.0.1", "o=kurodenwa 9 1 IN IP4 127.0.0.1"} {
		assert.Contains(t, s, want)
	}
	hold := l
	hold.Direction = SendOnly
	body, err = hold.Offer(9, 2).Marshal()
	require.NoError(t, err)
	assert.Contains(t, string(body), "a=sendonly")

	// Asterisk answers our offer.
	ans, err := ParseSDP(asteriskOffer)
	require.NoError(t, err)
	p, err := l.Accept(ans)
	require.NoError(t, err)
	assert.Equal(t, Params{Remote: ans.Addr, Codec: PCMU, EventPT: 101, Events: true, PTime: 20 * time.Millisecond, Direction: SendRecv}, p)

	opus, err := ParseSDP(opusOnly)
	require.NoError(t, err)
	_, err = l.Accept(opus)
	assert.ErrorIs(t, err, ErrNoCommonCodec)

	declined, err := ParseSDP(declinedOffer)
	require.NoError(t, err)
	p, err = l.Accept(declined)
	require.NoError(t, err)
	assert.Equal(t, Inactive, p.Direction)

	_, err = Description{}.Marshal()
	assert.Error(t, err)
	v6 := Local{Addr: netip.MustParseAddrPort("[2001:db8::2]:40000")}
	body, err = v6.Offer(1, 1).Marshal()
	require.NoError(t, err)
	assert.Contains(t, string(body), "c=IN IP6 2001:db8::2")
}

func TestDirection(t *testing.T) {
	tests := []struct {
		d                Direction
		str              string
		sends, receives  bool
		reverse          Direction
		withSendRecvIsMe Direction
	}{
		{SendRecv, "sendrecv", true, true, SendRecv, SendRecv},
		{SendOnly, "sendonly", true, false, RecvOnly, SendOnly},
		{RecvOnly, "recvonly", false, true, SendOnly, RecvOnly},
		{Inactive, "inactive", false, false, Inactive, Inactive},
		{0, "Direction(0)", true, true, SendRecv, SendRecv},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			assert.Equal(t, tt.str, tt.d.String())
			assert.Equal(t, tt.sends, tt.d.Sends())
			assert.Equal(t, tt.receives, tt.d.Receives())
			assert.Equal(t, tt.reverse, tt.d.Reverse())
			assert.Equal(t, tt.withSendRecvIsMe, tt.d.Intersect(SendRecv))
		})
	}
	assert.Equal(t, Inactive, SendOnly.Intersect(RecvOnly))
}
