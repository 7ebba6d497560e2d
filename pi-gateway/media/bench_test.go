package media

import (
	"context"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/kurodenwa/kurodenwa/internal/tone"
)

// BenchmarkCallSecond is one second of a call's media work for one
// endpoint, without waiting for the clock: 50 frames encoded, packetised
// and sent over loopback UDP (to the session itself), then drained from
// the socket as the clock goroutine does, parsed, decoded, put through
// the jitter buffer and played out.
// ns/op is the CPU a call costs per second of talk.
func BenchmarkCallSecond(b *testing.B) {
	s, err := NewSession(Config{LocalIP: loopback}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Configure(Params{Remote: s.LocalAddr(), Codec: PCMU, Events: true, EventPT: 101, Direction: SendRecv})
	gen, err := tone.FromList("1004")
	if err != nil {
		b.Fatal(err)
	}
	frame := make([]int16, FrameSamples)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for range 50 {
			gen.Read(frame)
			if err := s.Write(ctx, frame); err != nil {
				b.Fatal(err)
			}
			s.sendTick()
			s.drain()
			s.playoutTick()
			if err := s.Read(ctx, frame); err != nil {
				b.Fatal(err)
			}
		}
	}
	st := s.Stats()
	if st.PacketsReceived == 0 || st.Lost > 0 {
		b.Fatalf("loopback lost packets: %+v", st)
	}
}

// BenchmarkLiveCallLoopback runs a real call over loopback, paced by the
// clock: each op is one second of a 1004 Hz tone from a to b and back.
// It reports the receive-to-playout latency (mean and max, ms) and the
// process's CPU time per second of call for both ends together.
// Run with -benchtime=5x: each op takes a second.
func BenchmarkLiveCallLoopback(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mk := func() *Session {
		s, err := NewSession(Config{LocalIP: loopback}, nil)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	x, y := mk(), mk()
	defer x.Close()
	defer y.Close()
	x.Configure(Params{Remote: y.LocalAddr(), Codec: PCMU, Direction: SendRecv})
	y.Configure(Params{Remote: x.LocalAddr(), Codec: PCMU, Direction: SendRecv})
	gx, _ := tone.FromList("1004")
	gy, _ := tone.FromList("440")
	x.SetSource(gx)
	y.SetSource(gy)
	x.Start(ctx)
	y.Start(ctx)
	drain := func(s *Session, stop <-chan struct{}) {
		frame := make([]int16, FrameSamples)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if s.Read(ctx, frame) != nil {
				return
			}
		}
	}
	stop := make(chan struct{})
	go drain(y, stop)
	frame := make([]int16, FrameSamples)
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		for range 50 {
			if err := x.Read(ctx, frame); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	close(stop)
	st := x.Stats()
	b.ReportMetric(float64(st.LatencyMean)/float64(time.Millisecond), "latency-ms")
	b.ReportMetric(float64(st.LatencyMax)/float64(time.Millisecond), "latency-max-ms")
	b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N)/2, "cpu-ms/call-s")
	b.ReportMetric(float64(st.BufferTarget)/float64(time.Millisecond), "jb-target-ms")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReceivePacket is the receive path of one 20 ms packet without
// the socket: RTP parse, checks, G.711 decode, jitter buffer push, and
// the frame's playout. It allocates nothing.
func BenchmarkReceivePacket(b *testing.B) {
	s, err := NewSession(Config{LocalIP: loopback}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	from := netip.MustParseAddrPort("127.0.0.1:5004")
	s.Configure(Params{Remote: from, Codec: PCMU, Direction: SendRecv})
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7}, Payload: make([]byte, FrameSamples)}
	buf := make([]byte, 12+FrameSamples)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		pkt.SequenceNumber++
		pkt.Timestamp += FrameSamples
		n, err := pkt.MarshalTo(buf)
		if err != nil {
			b.Fatal(err)
		}
		now = now.Add(FrameTime)
		s.receive(buf[:n], from, now)
		s.playoutTick()
		s.mu.Lock()
		s.playLen = 0 // no reader: keep the ring from counting overruns
		s.mu.Unlock()
	}
	if st := s.Stats(); st.Invalid > 0 || st.Late > 0 {
		b.Fatalf("packets refused: %+v", st)
	}
}

// BenchmarkSendPacket is the send path of one frame, socket included:
// the source's frame, G.711 encode, RTP header, one sendto; the packet
// (to the session itself) is drained with one recvmsg each op.
func BenchmarkSendPacket(b *testing.B) {
	s, err := NewSession(Config{LocalIP: loopback}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.Configure(Params{Remote: s.LocalAddr(), Codec: PCMA, Direction: SendOnly})
	gen, err := tone.FromList("1004")
	if err != nil {
		b.Fatal(err)
	}
	s.SetSource(gen)
	b.ReportAllocs()
	for b.Loop() {
		s.sendTick()
		s.drain()
	}
	if st := s.Stats(); st.PacketsSent == 0 {
		b.Fatalf("nothing sent: %+v", st)
	}
}
