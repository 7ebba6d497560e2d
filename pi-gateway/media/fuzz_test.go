package media

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func FuzzParseSDP(f *testing.F) {
	for _, b := range [][]byte{asteriskOffer, baresipOffer, holdOffer, oldHoldOffer, opusOnly, srtpOffer, ipv6Offer, declinedOffer} {
		f.Add(b)
	}
	local := Local{Addr: netip.MustParseAddrPort("127.0.0.1:40000")}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := ParseSDP(body)
		if err != nil {
			return
		}
		if _, err := local.Accept(d); err != nil {
			return
		}
		ans, _, err := local.Answer(d, 1, 1)
		if err != nil {
			t.Fatalf("Accept took %q but Answer failed: %v", body, err)
		}
		out, err := ans.Marshal()
		if err != nil {
			t.Fatalf("marshal answer to %q: %v", body, err)
		}
		if _, err := ParseSDP(out); err != nil {
			t.Fatalf("our answer %q does not parse: %v", out, err)
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte{5, 0x8a, 0x03, 0x20})
	f.Add([]byte{16, 0x40, 0, 0, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseEvent(b)
		if err != nil {
			if len(b) >= EventSize {
				t.Fatalf("4 bytes must parse: %v", err)
			}
			return
		}
		back := ev.Append(nil)
		want := []byte{b[0], b[1] &^ 0x40, b[2], b[3]} // R bit dropped
		if string(back) != string(want) {
			t.Fatalf("round trip %x -> %+v -> %x", b[:4], ev, back)
		}
	})
}

// FuzzReceive feeds datagrams (each prefixed by a 2-byte length) through
// the receive path with a frame of playout after each.
func FuzzReceive(f *testing.F) {
	pkt := func(pt uint8, seq uint16, ts uint32, payload []byte) ([]byte, []byte) {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 5}, Payload: payload}).Marshal()
		return binary.BigEndian.AppendUint16(nil, uint16(len(b))), b
	}
	join := func(ps ...[]byte) []byte {
		var out []byte
		for _, p := range ps {
			out = append(out, p...)
		}
		return out
	}
	l1, p1 := pkt(0, 1, 0, make([]byte, 160))
	l2, p2 := pkt(0, 3, 320, make([]byte, 160))
	l3, p3 := pkt(101, 4, 480, []byte{1, 0x80, 0, 160})
	l4, p4 := pkt(8, 2, 160, make([]byte, 80))
	f.Add(join(l1, p1, l2, p2, l3, p3, l4, p4))
	f.Add(join(l1, p1, []byte{0, 3}, []byte{0x80, 0, 0}))
	f.Add([]byte{0, 12, 0xb0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1})

	s, err := NewSession(Config{LocalIP: loopback, OnDigit: func(byte) {}}, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	from := netip.MustParseAddrPort("127.0.0.1:5004")
	out := make([]int16, FrameSamples)
	f.Fuzz(func(t *testing.T, data []byte) {
		s.mu.Lock()
		s.rx = receiver{jb: NewJitterBuffer(JitterConfig{})}
		s.st = Stats{}
		s.mu.Unlock()
		s.Configure(Params{Remote: from, Codec: PCMU, Events: true, EventPT: 101, Direction: SendRecv})
		now := time.Unix(1, 0)
		for len(data) >= 2 {
			n := int(binary.BigEndian.Uint16(data))
			data = data[2:]
			n = min(n, len(data))
			s.receive(data[:n], from, now)
			data = data[n:]
			now = now.Add(20 * time.Millisecond)
			s.mu.Lock()
			res, _ := s.rx.jb.Pop(out)
			count := s.rx.jb.count
			s.mu.Unlock()
			if res < Buffering || res > Concealed {
				t.Fatalf("pop result %v", res)
			}
			if count < 0 || count > jbSlots {
				t.Fatalf("jitter buffer holds %d packets", count)
			}
		}
		_ = s.Stats()
	})
}

// FuzzJitterBuffer drives a buffer with arbitrary pushes and pops and
// checks its bookkeeping.
func FuzzJitterBuffer(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 2, 1, 0, 1, 1, 0, 0, 1, 2, 0})
	f.Add([]byte{0, 255, 255, 200, 0, 0, 0, 0, 1, 1, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		for _, mode := range []JitterMode{JitterAdaptive, JitterFixed} {
			jb := NewJitterBuffer(JitterConfig{Mode: mode, Target: 20 * time.Millisecond})
			pcm := make([]int16, maxPacketSamples+1)
			out := make([]int16, FrameSamples)
			ts := uint32(0)
			at := time.Unix(0, 0)
			for i := 0; i+3 <= len(ops); i += 3 {
				op, delta, size := ops[i], int16(ops[i+1])<<8|int16(ops[i+2]), int(ops[i+2])*2
				at = at.Add(time.Duration(ops[i+1]) * time.Millisecond)
				if op%2 == 0 {
					ts += uint32(int32(delta))
					jb.Push(ts, pcm[:min(size, len(pcm))], at)
				} else {
					jb.Pop(out)
				}
				used := 0
				for k := range jb.slots {
					if jb.slots[k].used {
						used++
					}
				}
				if used != jb.count {
					t.Fatalf("count %d but %d slots used", jb.count, used)
				}
				st := jb.Stats()
				if st.Target <= 0 || st.Target > time.Second {
					t.Fatalf("target %v", st.Target)
				}
			}
		}
	})
}
